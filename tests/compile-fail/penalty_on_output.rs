fn main() {
    let _ = mlp::network! { input 64 => dense 16 sigmoid => dense 64 sigmoid kl(0.05, 3.0); loss mse };
}
