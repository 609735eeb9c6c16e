// One trait bound, `Model`, is enough to write a function over any
// declared network (and any hand-built one).
use mlp::prelude::*;

mlp::network! { pub Xor: input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; dtype f64 }
mlp::network! { pub Wide: input 2 => dense 16 relu => dropout 0.1 => dense 1 sigmoid; loss bce; dtype f64 }

fn train<M: Model<Float = f64>>(net: &mut M) -> f64 {
    let x = mlp::ndarray::array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = mlp::ndarray::array![[0.0], [1.0], [1.0], [0.0]];
    let cfg = TrainConfig::new().epochs(10).batch(Batch::Full);
    assert_eq!((M::INPUTS, M::OUTPUTS), (2, 1));
    net.fit(x.view(), y.view(), &cfg).unwrap();
    net.evaluate(x.view(), y.view()).unwrap()
}

fn main() {
    let _ = train(&mut Xor::new(0));
    let _ = train(&mut Wide::new(0));
    assert_eq!(<Xor as Model>::PARAMS, Xor::PARAMS);
}
