fn main() {
    let _ = mlp::network! { input 2 => conv 4 relu => dense 1 sigmoid; loss bce };
}
