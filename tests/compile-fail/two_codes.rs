fn main() {
    let _ = mlp::network! { input 64 => dense 32 relu code => dense 16 relu code => dense 64 sigmoid; loss mse };
}
