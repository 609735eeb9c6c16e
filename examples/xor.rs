//! XOR, the problem a single perceptron cannot solve, learned by a 2-4-1
//! network with backprop. Run it with `cargo run --release --example xor`.

use mlp::prelude::*;
use ndarray::array;

fn main() -> Result<(), mlp::Error> {
    let mut net = network! {
        input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; init xavier; seed 7
    };
    println!("{}", net.summary());

    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0], [1.0], [1.0], [0.0]];
    let cfg = TrainConfig::new()
        .epochs(1000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    net.fit_with(x.view(), y.view(), &cfg, None, |e, _| {
        if e.epoch == 1 || e.epoch % 200 == 0 {
            println!("epoch {:>4}  loss {:.4}", e.epoch, e.train_loss);
        }
        Control::Continue
    })?;

    println!("\n x1  x2 | target  output");
    for (row, t) in x.rows().into_iter().zip(y.iter()) {
        let out = net.predict(&[row[0], row[1]])[0];
        println!("{:>3} {:>3} | {:>6}  {:.4}", row[0], row[1], t, out);
    }
    Ok(())
}
