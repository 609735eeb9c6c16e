fn main() {
    let _ = mlp::network! { input 64 => dense 16 tanh contractive(0.1) => dense 64 sigmoid; loss mse };
}
