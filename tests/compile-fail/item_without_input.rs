mlp::network! { pub Xor: dense 4 relu => dense 1 sigmoid; loss bce }

fn main() {}
