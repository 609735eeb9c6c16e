fn main() {
    let _ = mlp::network! { input 2 => dense 4 relu => dense 3 sigmoid; loss cross_entropy };
}
