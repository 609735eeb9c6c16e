fn main() {
    let _ = mlp::network! { input 64 => noise salt(0.1) => dense 16 sigmoid => dense 64 sigmoid; loss mse };
}
