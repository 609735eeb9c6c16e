use mlp::prelude::*;

fn main() {
    let mut rng = mlp::rng(0);
    let a = Dense::<2, 4, _>::new(Relu, Init::HeNormal, &mut rng);
    let b = Dense::<3, 1, _>::new(Sigmoid, Init::XavierUniform, &mut rng);
    let _ = a.then(b);
}
