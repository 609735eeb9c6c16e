fn main() {
    // No hidden layer: nothing to encode to.
    let net = mlp::network! { input 2 => dense 1 sigmoid; loss bce };
    let _ = net.encode(&[0.0, 1.0]);
}
