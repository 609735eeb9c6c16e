// Nielsen's MNIST network ("Neural Networks and Deep Learning", chapter 1):
// 784-30-10 sigmoid, quadratic cost, plain SGD with eta = 3.0, mini-batches of
// 10, 30 epochs; he reports about 95% test accuracy (peak 95.42%).
//
// MNIST is not shipped with mlp. Put the four IDX files (gzipped or not) in a
// folder and pass it:
//     cargo run --release --example mnist -- path/to/mnist [epochs]
// The default folder is ../shared/data/mnist.
use mlp::prelude::*;

fn main() -> Result<(), mlp::Error> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or("../shared/data/mnist".into());
    let epochs: usize = args.next().and_then(|e| e.parse().ok()).unwrap_or(30);
    let data = mlp::data::mnist::load::<f32>(&dir)?;
    let y = mlp::data::one_hot::<f32>(&data.train_labels, 10)?;
    // Nielsen's cost C = 1/(2n) sum ||y - a||^2 is mlp's `mse` (half the
    // squared error per sample, averaged), so his eta = 3.0 carries over. His
    // weights start from N(0, 1), his biases too (ours start at 0).
    let mut net = network! {
        input 784 => dense 30 sigmoid => dense 10 sigmoid;
        loss mse; init normal(1.0); seed 1
    };
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Mini(10))
        .optimizer(Sgd::new(3.0));
    let start = std::time::Instant::now();
    let mut best = 0.0f64;
    for epoch in 1..=epochs {
        net.fit(data.train_x.view(), y.view(), &cfg)?;
        let out = net.predict_batch(data.test_x.view())?;
        let predicted = mlp::data::classes(out.view());
        let acc = mlp::data::accuracy(&predicted, &data.test_labels)?;
        best = best.max(acc);
        let correct = (acc * data.test_labels.len() as f64).round();
        println!("epoch {epoch:>2}: {correct} / 10000");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{epochs} epochs in {secs:.1} s ({:.2} s per epoch with evaluation), \
         best test accuracy {:.2}%",
        secs / epochs as f64,
        100.0 * best
    );
    Ok(())
}
