fn main() {
    let _ = mlp::network! { input 2 => dense 4 relu => dropout 0.5; loss mse };
}
