// The missing loss is the only error: the declared type is still usable.
mlp::network! { pub Xor: input 2 => dense 4 relu => dense 1 sigmoid }

fn main() {
    let net = Xor::new(0);
    let _: [f32; 1] = net.predict(&[0.0, 1.0]);
}
