// `network!` inside a user's macro, with the dtype passed as a `ty` fragment
// and widths as `literal` fragments.
macro_rules! xor_of {
    ($f:ty, $hidden:literal) => {
        mlp::network! { input 2 => dense $hidden tanh => dense 1 sigmoid; loss bce; dtype $f }
    };
}

fn main() {
    let a = xor_of!(f64, 4);
    let _: [f64; 1] = a.predict(&[0.0, 1.0]);
    let b = xor_of!(f32, 8);
    let _: [f32; 1] = b.predict(&[0.0, 1.0]);
}
