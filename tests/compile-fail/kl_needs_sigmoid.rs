fn main() {
    let _ = mlp::network! { input 64 => dense 16 relu kl(0.05, 3.0) => dense 64 sigmoid; loss mse };
}
