fn main() {
    let _ = mlp::network! {
        input 2 => dense 3 identity => dense 3 linear => dense 3 sigmoid => dense 3 tanh => dense 3 relu
        => dense 3 leaky_relu => dense 3 leaky_relu(0.2) => dense 3 elu => dense 3 elu(0.7) => dense 3 selu
        => dense 3 softplus => dense 3 softsign => dense 3 swish => dense 3 mish => dense 3 softmax
        => dense 3 step => dense 1 identity; loss mse
    };
    let _ = mlp::network! { input 2 => dense 1 identity; loss mae; init zeros };
    let _ = mlp::network! { input 2 => dense 1 identity; loss huber(0.5); init normal(0.01) };
    let _ = mlp::network! { input 2 => dense 1 identity; loss hinge; init uniform(0.1) };
    let _ = mlp::network! { input 2 => dense 1 sigmoid; loss bce; init xavier; dtype f32 };
    let _ = mlp::network! { input 2 => dense 1 sigmoid; loss bce; init xavier_uniform };
    let _ = mlp::network! { input 2 => dense 1 sigmoid; loss bce; init he_uniform };
    let _ = mlp::network! { input 2 => dense 1 selu; loss mse; init lecun };
    let _ = mlp::network! { input 2 => dense 2 softmax; loss cross_entropy; seed 9; init he };
}
