fn main() {
    let _ = mlp::network! { input 64 => dense 16 relu l1(-0.001) => dense 64 sigmoid; loss mse };
}
