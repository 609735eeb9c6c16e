fn main() {
    let net = mlp::network! { input 2 => dense 4 relu => dense 1 sigmoid; loss bce };
    let _ = net.predict(&[0.0, 1.0, 2.0]);
}
