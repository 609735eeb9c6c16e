// `seed` takes any expression of type `u64` in the expression form (it is
// evaluated where the network is built) and any constant in the item form.
const SEED: u64 = 3;

mlp::network! { pub Constant: input 2 => dense 4 relu => dense 1 sigmoid; loss bce; seed SEED * 2 }

fn main() {
    assert_eq!(Constant::SEED, 6);
    for s in 0..3u64 {
        let net = mlp::network! { input 2 => dense 4 relu => dense 1 sigmoid; loss bce; seed s + 1 };
        let by_seed = mlp::network! { input 2 => dense 4 relu => dense 1 sigmoid; loss bce; seed 1 + s };
        assert_eq!(net.get_weights(), by_seed.get_weights());
    }
}
