fn main() {
    let _ = mlp::network! { input 64 => noise mask(1.0) => dense 16 sigmoid => dense 64 sigmoid; loss mse };
}
