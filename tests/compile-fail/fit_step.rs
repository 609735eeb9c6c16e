use mlp::prelude::*;

fn main() {
    let mut net = mlp::network! { input 2 => dense 2 step => dense 1 sigmoid; loss bce };
    let x = ndarray::array![[0.0f32, 1.0]];
    let y = ndarray::array![[1.0f32]];
    let _ = net.fit(x.view(), y.view(), &TrainConfig::new());
}
