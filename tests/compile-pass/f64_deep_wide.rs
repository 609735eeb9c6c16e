mlp::network! {
    Deep: input 8 => dense 16 relu => dense 16 relu => dense 16 relu => dense 16 relu => dense 16 relu
        => dense 16 relu => dense 16 relu => dense 16 relu => dense 16 relu => dense 1 identity;
    loss mse; init he; dtype f64
}
mlp::network! {
    Wide: input 784 => dense 512 relu => dropout 0.5 => dense 512 relu => dropout 0.5 => dense 10 softmax;
    loss cross_entropy
}

fn main() {
    let _: [f64; 1] = Deep::new(0).predict(&[0.0; 8]);
    let _: [f32; 10] = Wide::new(0).predict(&[0.0; 784]);
    const _: () = assert!(Wide::PARAMS == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);
}
