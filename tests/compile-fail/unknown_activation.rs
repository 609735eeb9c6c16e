fn main() {
    let _ = mlp::network! { input 2 => dense 4 rleu => dense 1 sigmoid; loss bce };
}
