fn main() {
    let _ = mlp::network! { input 2 => dense 4 relu => dropout -0.1 => dense 1 sigmoid; loss bce };
}
