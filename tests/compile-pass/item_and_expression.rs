mlp::network! {
    #[derive()]
    /// Documented.
    pub Xor: input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; init he; seed 3
}

struct Holder {
    net: Xor,
}

fn predict(net: &Xor) -> [f32; 1] {
    net.predict(&[0.0, 1.0])
}

fn main() {
    let h = Holder { net: Xor::new(1) };
    let _ = predict(&h.net);
    let net = mlp::network! { input 3 => dense 2 softmax; loss cross_entropy };
    let _: [f32; 2] = net.predict(&[0.0; 3]);
}
