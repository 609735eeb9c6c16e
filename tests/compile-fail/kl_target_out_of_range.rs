fn main() {
    let _ = mlp::network! { input 64 => dense 16 sigmoid kl(1.5, 3.0) => dense 64 sigmoid; loss mse };
}
