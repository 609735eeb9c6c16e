// Every autoencoder form of the grammar: a marked code, a code found by the
// narrowest-layer rule, each penalty, both corruptions, in both forms.
mlp::network! {
    pub Sparse: input 64 => dense 32 sigmoid code kl(0.05, 3) => dense 64 sigmoid; loss mse
}
mlp::network! {
    pub Denoising: input 64 => noise gaussian(0.2) => dense 48 relu => dense 16 relu
        => dense 48 relu => dense 64 sigmoid; loss mse; init he; seed 3
}

fn main() {
    let s = Sparse::new(0);
    let code: [f32; 32] = s.encode(&[0.5; 64]);
    assert_eq!(Sparse::CODE, 32);
    let _ = code;
    // The narrowest hidden layer (16) is the code when none is marked.
    assert_eq!(Denoising::CODE, 16);
    let _: [f32; 16] = Denoising::default().encode(&[0.0; 64]);
    let l1 = mlp::network! { input 8 => dense 4 relu l1(1e-3) => dense 8 identity; loss mse };
    let _: [f32; 4] = l1.encode(&[0.0; 8]);
    let cae = mlp::network! {
        input 8 => noise mask(0.3) => dense 3 sigmoid contractive(0.1) => dense 8 sigmoid; loss mse; dtype f64
    };
    let batch = cae.encode_batch(mlp::ndarray::Array2::zeros((5, 8)).view()).unwrap();
    assert_eq!(batch.dim(), (5, 3));
}
