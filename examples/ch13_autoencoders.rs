// Chapter 13: autoencoders.
// Run from the repository's root: cargo run --release --example ch13_autoencoders
// (add `-- --exercises` for the solutions to the exercises).
use mlp::data::Dataset;
use mlp::prelude::*;
use mlp_book::Page;
use mlp_book::plot::{Legend, LineChart, Series, image_grid};
use ndarray::{Array1, Array2, Axis, s};
use rand::RngExt;
use std::fmt::Write;

fn main() {
    mlp_book::at_repository_root();
    if std::env::args().any(|a| a == "--exercises") {
        print!("{}", exercises().printed());
    } else {
        print!("{}", chapter().printed());
    }
}

// ANCHOR: data
/// The digits, pixels scaled from 0..16 to [0, 1]: the first 1500 images
/// to train on, the other 297 to test.
fn digits() -> (Array2<f32>, Array2<f32>, Vec<usize>) {
    let data = Dataset::<f32>::read_csv("data/digits.csv.gz").unwrap();
    let x = data.x.mapv(|v| v / 16.0);
    let test_labels = data.labels[1500..].to_vec();
    (
        x.slice(s![..1500, ..]).to_owned(),
        x.slice(s![1500.., ..]).to_owned(),
        test_labels,
    )
}

mlp::network! {
    /// 64 pixels through a code of 16 units and back.
    Undercomplete: input 64 => dense 16 sigmoid code => dense 64 sigmoid; loss mse; seed 1
}
// ANCHOR_END: data

mlp::network! {
    /// Linear throughout: what PCA computes.
    pub Linear: input 64 => dense 8 identity code => dense 64 identity; loss mse; seed 1; dtype f64
}
// ANCHOR: sparse_nets
mlp::network! {
    /// As many code units as pixels: without a penalty nothing forces a summary.
    Wide: input 64 => dense 64 sigmoid => dense 64 sigmoid; loss mse; seed 1
}
mlp::network! {
    /// The same, with each unit's mean activation pulled towards 0.05.
    SparseKl: input 64 => dense 64 sigmoid kl(0.05, 3.0) => dense 64 sigmoid; loss mse; seed 1
}
mlp::network! {
    /// ReLU code units without and with an L1 penalty on their outputs.
    WideRelu: input 64 => dense 64 relu => dense 64 sigmoid; loss mse; seed 1
}
mlp::network! {
    SparseL1: input 64 => dense 64 relu l1(0.03) => dense 64 sigmoid; loss mse; seed 1
}
// ANCHOR_END: sparse_nets
// ANCHOR: denoise_nets
mlp::network! {
    Plain: input 64 => dense 32 sigmoid => dense 64 sigmoid; loss mse; seed 1
}
mlp::network! {
    /// While training, each pixel is zeroed with probability 0.3, afresh every pass.
    Denoising: input 64 => noise mask(0.3) => dense 32 sigmoid => dense 64 sigmoid;
        loss mse; seed 1
}
// ANCHOR_END: denoise_nets
mlp::network! {
    Contractive: input 64 => dense 16 sigmoid contractive(0.1) => dense 64 sigmoid;
        loss mse; seed 1
}

/// The settings every nonlinear autoencoder here trains with.
fn settings(epochs: usize) -> TrainConfig {
    TrainConfig::new()
        .epochs(epochs)
        .batch(Batch::Mini(32))
        .optimizer(Adam::new(0.003))
}

// ANCHOR: eigen
/// Eigenvalues (largest first) and eigenvectors (the columns) of a
/// symmetric matrix, by Jacobi's method: rotate pairs of coordinates until
/// every off-diagonal entry is zero.
fn eigen_symmetric(m: &Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let n = m.nrows();
    let (mut a, mut v) = (m.clone(), Array2::<f64>::eye(n));
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|p| (0..n).map(move |q| (p, q)))
            .filter(|(p, q)| p != q)
            .map(|(p, q)| a[[p, q]].powi(2))
            .sum();
        if off < 1e-24 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[[p, q]] == 0.0 {
                    continue;
                }
                // The rotation by the angle that zeroes a[p][q].
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * a[[p, q]]);
                let t = theta.signum()
                    / (theta.abs() + (theta * theta + 1.0).sqrt());
                let (c, s) =
                    (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                let rotate = |x: f64, y: f64| (c * x - s * y, s * x + c * y);
                for k in 0..n {
                    (a[[k, p]], a[[k, q]]) = rotate(a[[k, p]], a[[k, q]]);
                }
                for k in 0..n {
                    (a[[p, k]], a[[q, k]]) = rotate(a[[p, k]], a[[q, k]]);
                }
                for k in 0..n {
                    (v[[k, p]], v[[k, q]]) = rotate(v[[k, p]], v[[k, q]]);
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[[j, j]].total_cmp(&a[[i, i]]));
    let values = order.iter().map(|&i| a[[i, i]]).collect();
    let vectors = Array2::from_shape_fn((n, n), |(r, c)| v[[r, order[c]]]);
    (values, vectors)
}

/// An orthonormal basis of the span of `a`'s columns (Gram-Schmidt).
fn orthonormal(a: &Array2<f64>) -> Array2<f64> {
    let mut q = a.clone();
    for j in 0..q.ncols() {
        for k in 0..j {
            let d = q.column(j).dot(&q.column(k));
            let qk = q.column(k).to_owned();
            q.column_mut(j).scaled_add(-d, &qk);
        }
        let norm = q.column(j).dot(&q.column(j)).sqrt();
        q.column_mut(j).mapv_inplace(|v| v / norm);
    }
    q
}

/// The principal angles, in degrees, between the spans of the columns of
/// `a` and of `b`: the arccosines of the singular values of `Qa^T Qb`.
fn principal_angles(a: &Array2<f64>, b: &Array2<f64>) -> Vec<f64> {
    let m = orthonormal(a).t().dot(&orthonormal(b));
    let (s2, _) = eigen_symmetric(&m.t().dot(&m));
    let mut angles: Vec<f64> = s2
        .iter()
        .map(|s2| s2.clamp(0.0, 1.0).sqrt().acos().to_degrees())
        .collect();
    angles.sort_by(f64::total_cmp);
    angles
}
// ANCHOR_END: eigen

/// PCA of the training digits and a linear autoencoder trained on them:
/// what the chapter compares (`tests/autoencoder.rs` asserts it too).
pub struct LinearVsPca {
    pub variances: Vec<f64>,
    pub top8: Array2<f64>,
    pub mean: Array1<f64>,
    pub pca_error: f64,
    pub linear: Linear,
    pub linear_error: f64,
    pub decoder: Array2<f64>,
    pub angles: Vec<f64>,
}

pub fn linear_vs_pca(train: &Array2<f32>) -> LinearVsPca {
    // ANCHOR: pca
    let train64 = train.mapv(f64::from);
    let mean = train64.mean_axis(Axis(0)).unwrap();
    let centred = &train64 - &mean;
    let covariance = centred.t().dot(&centred) / centred.nrows() as f64;
    let (variances, directions) = eigen_symmetric(&covariance);
    let top8 = directions.slice(s![.., ..8]).to_owned();
    // The best any rank-8 reconstruction can do: half the variance left out.
    let pca_error = 0.5 * variances[8..].iter().sum::<f64>();

    let mut linear = Linear::default();
    let cfg = TrainConfig::new()
        .epochs(2000)
        .batch(Batch::Full)
        .optimizer(Adam::new(0.01));
    let history = linear.fit_autoencoder(centred.view(), &cfg).unwrap();
    let decoder = linear.get_weights()[1].0.clone(); // 64 x 8: the code's directions
    let angles = principal_angles(&top8, &decoder);
    // ANCHOR_END: pca
    let linear_error = history.last().unwrap().train_loss;
    LinearVsPca {
        variances,
        top8,
        mean,
        pca_error,
        linear,
        linear_error,
        decoder,
        angles,
    }
}

/// The mean loss, `1/2 sum_k (a_k - b_k)^2` per row, of two batches.
fn half_sq<F: Float>(a: &Array2<F>, b: &Array2<F>) -> f64 {
    let total: f64 = a
        .iter()
        .zip(b)
        .map(|(a, b)| (a.as_f64() - b.as_f64()).powi(2))
        .sum();
    0.5 * total / a.nrows() as f64
}

/// Each pixel zeroed with probability `p`, from `seed`.
fn masked(x: &Array2<f32>, p: f64, seed: u64) -> Array2<f32> {
    let mut rng = mlp::rng(seed);
    x.mapv(|v| if rng.random::<f64>() < p { 0.0 } else { v })
}

/// The first test image of each digit 0-9.
fn one_of_each(labels: &[usize]) -> Vec<usize> {
    (0..10)
        .map(|d| labels.iter().position(|&l| l == d).unwrap())
        .collect()
}

fn row(x: &Array2<f32>, i: usize) -> Vec<f64> {
    x.row(i).iter().map(|&v| v as f64).collect()
}

// ANCHOR: jacobian
/// `||J_f(x)||_F` for a sigmoid code `h = sigmoid(W x + b)`, whose Jacobian
/// is `diag(h (1 - h)) W`: `sqrt(sum_j (h_j (1 - h_j))^2 ||W_j||^2)`,
/// averaged over the rows of `codes`.
fn mean_jacobian_norm(w: &Array2<f32>, codes: &Array2<f32>) -> f64 {
    let w2: Vec<f64> = w.rows().into_iter().map(|r| r.dot(&r) as f64).collect();
    let norms = codes.rows().into_iter().map(|h| {
        let sq: f64 = h
            .iter()
            .zip(&w2)
            .map(|(&h, w2)| (h as f64 * (1.0 - h as f64)).powi(2) * w2)
            .sum();
        sq.sqrt()
    });
    norms.sum::<f64>() / codes.nrows() as f64
}
// ANCHOR_END: jacobian

/// How far the code moves per unit of input movement, `||f(x + d) - f(x)|| /
/// ||d||`, for Gaussian steps `d` of standard deviation 0.05 per pixel.
fn sensitivity(
    encode: impl Fn(&Array2<f32>) -> Array2<f32>,
    x: &Array2<f32>,
    seed: u64,
) -> f64 {
    let mut rng = mlp::rng(seed);
    let d = x.mapv(|_| {
        let (u, v): (f64, f64) = (rng.random(), rng.random());
        (0.05
            * (-2.0 * (1.0 - u).ln()).sqrt()
            * (std::f64::consts::TAU * v).cos()) as f32
    });
    let moved = encode(&(x + &d)) - encode(x);
    let ratios = moved
        .rows()
        .into_iter()
        .zip(d.rows())
        .map(|(m, d)| (m.dot(&m) / d.dot(&d)).sqrt() as f64);
    ratios.sum::<f64>() / x.nrows() as f64
}

pub fn chapter() -> Page {
    let mut out = Page::new();
    // ANCHOR: undercomplete
    let (train, test, labels) = digits();
    let mut ae = Undercomplete::default();
    ae.fit_autoencoder(train.view(), &settings(100)).unwrap();
    let error = ae.evaluate(test.view(), test.view()).unwrap();
    let codes = ae.encode_batch(test.view()).unwrap(); // 297 x 16
    let reconstructed = ae.predict_batch(test.view()).unwrap();
    // ANCHOR_END: undercomplete
    let mean_image = train.mean_axis(Axis(0)).unwrap();
    let mean_error = half_sq(
        &Array2::from_shape_fn(test.dim(), |(_, j)| mean_image[j]),
        &test,
    );
    out.section("undercomplete");
    writeln!(
        out,
        "train {} images, test {}; code {} units for {} pixels",
        train.nrows(),
        test.nrows(),
        Undercomplete::CODE,
        Undercomplete::INPUTS
    )
    .unwrap();
    writeln!(
        out,
        "test reconstruction error (1/2 sum of squared pixel errors, mean per image):"
    )
    .unwrap();
    writeln!(out, "  through the 16-unit code  {error:.4}").unwrap();
    writeln!(out, "  the mean training image   {mean_error:.4}").unwrap();
    writeln!(
        out,
        "code of the first test image: {}",
        codes
            .row(0)
            .iter()
            .map(|v| format!("{v:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
    .unwrap();
    out.fact("train_rows", train.nrows());
    out.fact("test_rows", test.nrows());
    out.fact("ae_error", format!("{error:.4}"));
    out.fact("mean_error", format!("{mean_error:.4}"));
    out.fact("rms_pixel", format!("{:.3}", (2.0 * error / 64.0).sqrt()));
    let picks = one_of_each(&labels);
    let mut images: Vec<(Vec<f64>, String)> = picks
        .iter()
        .map(|&i| (row(&test, i), format!("{}", labels[i])))
        .collect();
    images.extend(
        picks
            .iter()
            .map(|&i| (row(&reconstructed, i), String::new())),
    );
    out.figure(
        "ch13_reconstructions.svg",
        image_grid(
            "Test digits (top) and their reconstructions from 16 numbers (bottom)",
            &images,
            8,
            10,
            64,
        ),
    );

    let LinearVsPca {
        variances,
        top8,
        mean,
        pca_error,
        linear,
        linear_error,
        decoder,
        angles,
    } = linear_vs_pca(&train);
    let test64 = test.mapv(f64::from);
    let test_pca = {
        let c = &test64 - &mean;
        let back = c.dot(&top8).dot(&top8.t());
        half_sq(&back, &c)
    };
    let test_linear = linear
        .evaluate((&test64 - &mean).view(), (&test64 - &mean).view())
        .unwrap();
    out.section("pca");
    writeln!(
        out,
        "variance along the first ten principal directions: {}",
        variances[..10]
            .iter()
            .map(|v| format!("{v:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
    .unwrap();
    writeln!(
        out,
        "training error, rank 8:  PCA {pca_error:.5}   linear autoencoder {linear_error:.5}"
    )
    .unwrap();
    writeln!(
        out,
        "test error, rank 8:      PCA {test_pca:.5}   linear autoencoder {test_linear:.5}"
    )
    .unwrap();
    writeln!(
        out,
        "principal angles between the two 8-dimensional subspaces (degrees):"
    )
    .unwrap();
    writeln!(
        out,
        "  {}",
        angles
            .iter()
            .map(|a| format!("{a:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
    .unwrap();
    let cosines: Vec<f64> = (0..8)
        .map(|j| {
            let d = decoder.column(j);
            (0..8)
                .map(|k| (d.dot(&top8.column(k)) / d.dot(&d).sqrt()).abs())
                .fold(0.0, f64::max)
        })
        .collect();
    writeln!(
        out,
        "each decoder column's largest |cosine| with a principal direction: {}",
        cosines
            .iter()
            .map(|c| format!("{c:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
    .unwrap();
    out.fact("pca_error", format!("{pca_error:.5}"));
    out.fact("linear_error", format!("{linear_error:.5}"));
    out.fact("largest_angle", format!("{:.2}", angles[7]));
    out.fact(
        "lowest_cosine",
        format!("{:.2}", cosines.iter().cloned().fold(1.0, f64::min)),
    );
    let scaled = |v: ndarray::ArrayView1<f64>| {
        let m = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        v.iter().map(|x| 0.5 + 0.5 * x / m).collect::<Vec<_>>()
    };
    let mut images: Vec<(Vec<f64>, String)> = (0..8)
        .map(|k| (scaled(top8.column(k)), format!("pc {}", k + 1)))
        .collect();
    images.extend(
        (0..8).map(|j| (scaled(decoder.column(j)), format!("code {}", j + 1))),
    );
    out.figure(
        "ch13_pca.svg",
        image_grid(
            "PCA directions (top), decoder columns (bottom)",
            &images,
            8,
            8,
            64,
        ),
    );

    // ANCHOR: sparse
    let mut wide = Wide::default();
    wide.fit_autoencoder(train.view(), &settings(200)).unwrap();
    let mut sparse = SparseKl::default();
    sparse
        .fit_autoencoder(train.view(), &settings(200))
        .unwrap();
    // rho_hat_j: each code unit's mean activation over the test images.
    let rho_hat = |codes: Array2<f32>| codes.mean_axis(Axis(0)).unwrap();
    let (plain_rates, sparse_rates) = (
        rho_hat(wide.hidden().infer_rows(test.view()).unwrap()),
        rho_hat(sparse.hidden().infer_rows(test.view()).unwrap()),
    );
    // ANCHOR_END: sparse
    let (wide_err, sparse_err) = (
        wide.evaluate(test.view(), test.view()).unwrap(),
        sparse.evaluate(test.view(), test.view()).unwrap(),
    );
    let firing = |net_codes: Array2<f32>, t: f32| {
        net_codes.iter().filter(|&&h| h > t).count() as f64
            / net_codes.nrows() as f64
    };
    let (wide_codes, sparse_codes) = (
        wide.hidden().infer_rows(test.view()).unwrap(),
        sparse.hidden().infer_rows(test.view()).unwrap(),
    );
    let span = |r: &Array1<f32>| {
        (
            r.iter().cloned().fold(1.0, f32::min),
            r.iter().cloned().fold(0.0, f32::max),
        )
    };
    out.section("sparse");
    writeln!(
        out,
        "64 sigmoid code units             no penalty   kl(0.05, 3)"
    )
    .unwrap();
    writeln!(
        out,
        "test reconstruction error         {wide_err:>10.4} {sparse_err:>13.4}"
    )
    .unwrap();
    writeln!(
        out,
        "mean activation rho_hat           {:>10.3} {:>13.3}",
        plain_rates.mean().unwrap(),
        sparse_rates.mean().unwrap()
    )
    .unwrap();
    let (pl, ph) = span(&plain_rates);
    let (sl, sh) = span(&sparse_rates);
    writeln!(
        out,
        "lowest and highest unit's rho_hat  {pl:.3}-{ph:.3}   {sl:.3}-{sh:.3}"
    )
    .unwrap();
    writeln!(
        out,
        "units above 0.5, per image        {:>10.1} {:>13.1}",
        firing(wide_codes.clone(), 0.5),
        firing(sparse_codes.clone(), 0.5)
    )
    .unwrap();
    writeln!(
        out,
        "units above 0.2, per image        {:>10.1} {:>13.1}",
        firing(wide_codes, 0.2),
        firing(sparse_codes, 0.2)
    )
    .unwrap();
    out.fact("kl_mean", format!("{:.3}", sparse_rates.mean().unwrap()));
    out.fact("plain_mean", format!("{:.3}", plain_rates.mean().unwrap()));
    out.fact("kl_error", format!("{sparse_err:.4}"));
    out.fact("wide_error", format!("{wide_err:.4}"));
    let sorted = |r: &Array1<f32>| {
        let mut v: Vec<f64> = r.iter().map(|&x| x as f64).collect();
        v.sort_by(|a, b| b.total_cmp(a));
        v.into_iter()
            .enumerate()
            .map(|(i, v)| ((i + 1) as f64, v))
            .collect::<Vec<_>>()
    };
    out.figure(
        "ch13_sparsity.svg",
        LineChart::new(
            "Each code unit's mean activation on the test digits",
            "code unit (most active first)",
            "mean activation rho_hat",
        )
        .series(Series::new("no penalty", sorted(&plain_rates), 0).markers())
        .series(Series::new("kl(0.05, 3)", sorted(&sparse_rates), 1).markers())
        .series(
            Series::new(
                "target rho = 0.05",
                vec![(1.0, 0.05), (64.0, 0.05)],
                2,
            )
            .dashed(),
        )
        .y_range(0.0..0.8)
        .legend(Legend::UpperRight)
        .svg(),
    );

    // ANCHOR: l1
    let mut relu = WideRelu::default();
    relu.fit_autoencoder(train.view(), &settings(200)).unwrap();
    let mut l1 = SparseL1::default();
    l1.fit_autoencoder(train.view(), &settings(200)).unwrap();
    // Units whose output is exactly 0, per test image.
    let silent = |codes: Array2<f32>| {
        codes.iter().filter(|&&h| h == 0.0).count() as f64
            / codes.nrows() as f64
    };
    let (relu_silent, l1_silent) = (
        silent(relu.hidden().infer_rows(test.view()).unwrap()),
        silent(l1.hidden().infer_rows(test.view()).unwrap()),
    );
    // ANCHOR_END: l1
    out.section("l1");
    writeln!(
        out,
        "64 relu code units                 no penalty   l1(0.03)"
    )
    .unwrap();
    writeln!(
        out,
        "test reconstruction error         {:>10.4} {:>10.4}",
        relu.evaluate(test.view(), test.view()).unwrap(),
        l1.evaluate(test.view(), test.view()).unwrap()
    )
    .unwrap();
    writeln!(
        out,
        "units exactly 0, per image        {relu_silent:>10.1} {l1_silent:>10.1}"
    )
    .unwrap();
    out.fact("relu_active", format!("{:.1}", 64.0 - relu_silent));
    out.fact("l1_active", format!("{:.1}", 64.0 - l1_silent));

    // ANCHOR: denoise
    let mut plain = Plain::default();
    plain.fit_autoencoder(train.view(), &settings(100)).unwrap();
    let mut denoising = Denoising::default();
    denoising
        .fit_autoencoder(train.view(), &settings(100))
        .unwrap();
    // The same corrupted test images for both: each pixel zeroed with p = 0.3.
    let corrupted = masked(&test, 0.3, 99);
    let scores = |net: &dyn Fn(ndarray::ArrayView2<f32>) -> f64| {
        (net(test.view()), net(corrupted.view()))
    };
    let (plain_clean, plain_noisy) =
        scores(&|x| plain.evaluate(x, test.view()).unwrap());
    let (dn_clean, dn_noisy) =
        scores(&|x| denoising.evaluate(x, test.view()).unwrap());
    // ANCHOR_END: denoise
    out.section("denoise");
    writeln!(
        out,
        "error against the clean test image   plain autoencoder   denoising autoencoder"
    )
    .unwrap();
    writeln!(
        out,
        "  from the clean image               {plain_clean:>17.4} {dn_clean:>23.4}"
    )
    .unwrap();
    writeln!(
        out,
        "  from the corrupted image           {plain_noisy:>17.4} {dn_noisy:>23.4}"
    )
    .unwrap();
    writeln!(
        out,
        "(the corrupted image itself is {:.4} from the clean one)",
        half_sq(&corrupted, &test)
    )
    .unwrap();
    out.fact("plain_noisy", format!("{plain_noisy:.4}"));
    out.fact("dn_noisy", format!("{dn_noisy:.4}"));
    out.fact("plain_clean", format!("{plain_clean:.4}"));
    out.fact("dn_clean", format!("{dn_clean:.4}"));
    out.fact("corruption", format!("{:.4}", half_sq(&corrupted, &test)));
    let (po, dout) = (
        plain.predict_batch(corrupted.view()).unwrap(),
        denoising.predict_batch(corrupted.view()).unwrap(),
    );
    let shown = &picks[..8];
    let mut images = Vec::new();
    for (x, name) in [
        (&test, "clean"),
        (&corrupted, "corrupted"),
        (&po, "plain"),
        (&dout, "denoising"),
    ] {
        images.extend(shown.iter().map(|&i| (row(x, i), name.to_string())));
    }
    out.figure(
        "ch13_denoising.svg",
        image_grid("Repairing corrupted digits", &images, 8, 8, 64),
    );

    // ANCHOR: contractive
    let mut cae = Contractive::default();
    cae.fit_autoencoder(train.view(), &settings(100)).unwrap();
    let jacobian =
        |w: &Array2<f32>, codes: Array2<f32>| mean_jacobian_norm(w, &codes);
    let (plain_j, cae_j) = (
        jacobian(
            &ae.get_weights()[0].0,
            ae.encode_batch(test.view()).unwrap(),
        ),
        jacobian(
            &cae.get_weights()[0].0,
            cae.encode_batch(test.view()).unwrap(),
        ),
    );
    // ANCHOR_END: contractive
    let (plain_s, cae_s) = (
        sensitivity(|x| ae.encode_batch(x.view()).unwrap(), &test, 5),
        sensitivity(|x| cae.encode_batch(x.view()).unwrap(), &test, 5),
    );
    out.section("contractive");
    writeln!(
        out,
        "16 sigmoid code units                      no penalty   contractive(0.1)"
    )
    .unwrap();
    writeln!(
        out,
        "test reconstruction error                 {error:>10.4} {:>18.4}",
        cae.evaluate(test.view(), test.view()).unwrap()
    )
    .unwrap();
    writeln!(
        out,
        "mean ||J_f(x)||_F on the test images      {plain_j:>10.3} {cae_j:>18.3}"
    )
    .unwrap();
    writeln!(
        out,
        "code movement per unit of input movement  {plain_s:>10.3} {cae_s:>18.3}"
    )
    .unwrap();
    writeln!(
        out,
        "  predicted for a random step, ||J||_F / 8 {:>10.3} {:>18.3}",
        plain_j / 8.0,
        cae_j / 8.0
    )
    .unwrap();
    out.fact("plain_j", format!("{plain_j:.3}"));
    out.fact("cae_j", format!("{cae_j:.3}"));
    out.fact("plain_s", format!("{plain_s:.3}"));
    out.fact("cae_s", format!("{cae_s:.3}"));
    out.fact(
        "cae_error",
        format!("{:.4}", cae.evaluate(test.view(), test.view()).unwrap()),
    );
    out.end();
    out
}

mlp::network! {
    /// A linear code as wide as the input.
    Identity64: input 64 => dense 64 identity => dense 64 identity; loss mse; seed 1; dtype f64
}
mlp::network! {
    Denoise01: input 64 => noise mask(0.1) => dense 32 sigmoid => dense 64 sigmoid; loss mse; seed 1
}
mlp::network! {
    Denoise05: input 64 => noise mask(0.5) => dense 32 sigmoid => dense 64 sigmoid; loss mse; seed 1
}

pub fn exercises() -> Page {
    let mut out = Page::new();
    // ANCHOR: ex1
    // One unit's outputs over a batch of four, rho = 0.1, beta = 2.
    let (h, rho, beta) = ([0.2, 0.1, 0.4, 0.3], 0.1, 2.0);
    let penalty = |h: &[f64]| {
        beta * mlp::penalty::kl(rho, h.iter().sum::<f64>() / h.len() as f64)
    };
    let q: f64 = h.iter().sum::<f64>() / 4.0;
    // dP/dh_i = beta (1/B) (-rho / q + (1 - rho) / (1 - q)), the same for every i.
    let formula = beta / 4.0 * (-rho / q + (1.0 - rho) / (1.0 - q));
    let mut up = h;
    up[0] += 1e-6;
    let mut down = h;
    down[0] -= 1e-6;
    let central = (penalty(&up) - penalty(&down)) / 2e-6;
    // ANCHOR_END: ex1
    out.section("ex1");
    writeln!(out, "rho_hat = {q:.2}, P = {:.6}", penalty(&h)).unwrap();
    writeln!(
        out,
        "dP/dh_1 by the formula {formula:.8}, by central difference {central:.8}"
    )
    .unwrap();

    // ANCHOR: ex2
    let (train, test, _) = digits();
    let train = train.mapv(f64::from);
    let mean = train.mean_axis(Axis(0)).unwrap();
    let centred = &train - &mean;
    let mut net = Identity64::default();
    let cfg = TrainConfig::new()
        .epochs(2000)
        .batch(Batch::Full)
        .optimizer(Adam::new(0.01));
    let history = net.fit_autoencoder(centred.view(), &cfg).unwrap();
    // ANCHOR_END: ex2
    out.section("ex2");
    for e in [1, 100, 500, 2000] {
        writeln!(
            out,
            "epoch {e:>4}: training error {:.6}",
            history.epochs[e - 1].train_loss
        )
        .unwrap();
    }
    out.fact(
        "ex2_end",
        format!("{:.6}", history.last().unwrap().train_loss),
    );

    // ANCHOR: ex3
    let corrupted = masked(&test, 0.3, 99);
    let train = train.mapv(|v| v as f32);
    // Each network type trained the same way, then scored both ways.
    macro_rules! score {
        ($name:literal, $net:ty) => {{
            let mut net = <$net>::default();
            net.fit_autoencoder(train.view(), &settings(100)).unwrap();
            let clean = net.evaluate(test.view(), test.view()).unwrap();
            (
                $name,
                clean,
                net.evaluate(corrupted.view(), test.view()).unwrap(),
            )
        }};
    }
    let rows = [
        score!("mask(0.1)", Denoise01),
        score!("mask(0.3)", Denoising),
        score!("mask(0.5)", Denoise05),
    ];
    // ANCHOR_END: ex3
    out.section("ex3");
    writeln!(
        out,
        "trained with   clean test input   test input with 30% zeroed"
    )
    .unwrap();
    for (name, clean, noisy) in rows {
        writeln!(out, "{name:<14}{clean:>17.4}{noisy:>29.4}").unwrap();
    }
    out.end();
    out
}
