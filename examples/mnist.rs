//! Nielsen's MNIST network ("Neural Networks and Deep Learning", chapter 1):
//! 784-30-10 sigmoid, quadratic cost, plain SGD with eta = 3.0, mini-batches
//! of 10, 30 epochs; he reports about 95% test accuracy (peak 95.42%).
//!
//! MNIST is not shipped with mlp. Put its four IDX files
//! (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, gzipped or not) in a
//! folder and pass it:
//!
//! ```sh
//! cargo run --release --example mnist -- [FOLDER] [EPOCHS]
//! ```
//!
//! FOLDER defaults to `../shared/data/mnist` (beside a clone of this
//! repository), EPOCHS to 30.
use mlp::prelude::*;

const USAGE: &str =
    "usage: mnist [FOLDER] [EPOCHS]   (defaults: ../shared/data/mnist 30)";

fn main() -> Result<(), mlp::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() > 2 || args.iter().any(|a| a == "-h" || a == "--help") {
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
    let dir = args.first().map_or("../shared/data/mnist", String::as_str);
    let epochs: usize = match args.get(1).map(|e| e.parse()) {
        None => 30,
        Some(Ok(e)) if e > 0 => e,
        Some(_) => {
            eprintln!(
                "EPOCHS must be a positive whole number, got {:?}\n{USAGE}",
                args[1]
            );
            std::process::exit(2);
        }
    };
    if !std::path::Path::new(dir).is_dir() {
        eprintln!(
            "no MNIST folder at {dir}: download the four IDX files from a mirror of \
             LeCun, Cortes and Burges' MNIST page into one folder and pass it\n{USAGE}"
        );
        std::process::exit(2);
    }
    let data = mlp::data::mnist::load::<f32>(dir)?;
    let y = mlp::data::one_hot::<f32>(&data.train_labels, 10)?;
    // Nielsen's cost C = 1/(2n) sum ||y - a||^2 is mlp's `mse` (half the
    // squared error per sample, averaged), so his eta = 3.0 carries over.
    // His weights start from N(0, 1); `network!` draws the hidden layer so and
    // starts the output layer at zero.
    let mut net = network! {
        input 784 => dense 30 sigmoid => dense 10 sigmoid;
        loss mse; init normal(1.0); seed 1
    };
    let cfg = TrainConfig::new()
        .epochs(epochs)
        .batch(Batch::Mini(10))
        .optimizer(Sgd::new(3.0))
        .progress(true);
    let start = std::time::Instant::now();
    let mut best = 0.0f64;
    net.fit_with(data.train_x.view(), y.view(), &cfg, None, |epoch, net| {
        // Test accuracy after every epoch, as Nielsen prints it.
        let out = net
            .predict_batch(data.test_x.view())
            .expect("test images fit the network");
        let predicted = mlp::data::classes(out.view());
        let acc = mlp::data::accuracy(&predicted, &data.test_labels)
            .expect("one label per image");
        best = best.max(acc);
        let correct = (acc * data.test_labels.len() as f64).round();
        println!("epoch {:>2}: {correct} / 10000", epoch.epoch);
        Control::Continue
    })?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{epochs} epochs in {secs:.1} s ({:.2} s per epoch with evaluation), best test accuracy {:.2}%",
        secs / epochs as f64,
        100.0 * best
    );
    Ok(())
}
