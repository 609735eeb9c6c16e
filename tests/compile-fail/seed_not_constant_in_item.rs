fn make_seed() -> u64 {
    7
}

// A declared type keeps its seed in a constant, so the seed must be one.
mlp::network! { pub Xor: input 2 => dense 4 relu => dense 1 sigmoid; loss bce; seed make_seed() }

fn main() {}
