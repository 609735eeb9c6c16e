#![no_implicit_prelude]

::mlp::network! {
    pub Xor: input 2 => dense 4 relu => dropout 0.1 => dense 1 sigmoid; loss bce
}

fn main() {
    let _ = Xor::new(0).predict(&[0.0, 1.0]);
    let _ = ::mlp::network! { input 2 => dense 1 identity; loss mse; dtype f64 };
}
