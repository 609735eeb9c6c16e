fn main() {
    let _ = mlp::network! { input 2 => dense 4 relu => dense 1 sigmoid; loss bce; seed 1; seed 2 };
}
