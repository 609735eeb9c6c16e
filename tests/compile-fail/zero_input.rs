mlp::network! { Empty: input 0 => dense 1 sigmoid; loss bce }

fn main() {}
