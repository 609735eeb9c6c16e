fn main() {
    let _ = mlp::network! { input 2 => dense 1 sigmoid; loss bce; dtype i32 };
}
