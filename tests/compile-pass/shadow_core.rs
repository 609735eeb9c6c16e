// A user's own `core`, `std`-like and `mlp_core` names cannot break the expansion.
#[allow(dead_code)]
mod core {}
#[allow(dead_code)]
mod mlp_core {}
#[allow(dead_code)]
struct Dense;
#[allow(dead_code)]
struct Network;

mlp::network! {
    Xor: input 2 => dense 4 tanh => dense 1 sigmoid; loss bce
}

fn main() {
    let _ = Xor::new(0).predict(&[0.0, 1.0]);
}
