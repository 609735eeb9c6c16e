fn main() {
    let _ = mlp::network! { dense 4 relu => dense 1 sigmoid; loss bce };
}
