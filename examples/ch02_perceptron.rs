// Chapter 2: the perceptron. Run: cargo run --example ch02_perceptron
// (add `-- --exercises` for the solutions to the exercises).
use mlp::perceptron::{Perceptron, delta_rule, novikoff_bound};
use mlp_book::Page;
use ndarray::{Array1, Array2, array};
use rand::RngExt;
use rand::seq::SliceRandom;
use std::fmt::Write;

fn main() {
    mlp_book::at_repository_root();
    if std::env::args().any(|a| a == "--exercises") {
        print!("{}", exercises().printed());
    } else {
        print!("{}", chapter().printed());
    }
}

/// The four corners of the unit square, the inputs of AND, OR and XOR.
fn corners() -> Array2<f64> {
    array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
}

/// A linearly separable cloud: points of [-1, 1]^2 labelled by the side of the
/// line x1 + x2 = 0.3, keeping only those at least 0.1 away from it.
fn separable_cloud(n: usize, seed: u64) -> (Array2<f64>, Vec<f64>) {
    let mut rng = mlp::rng(seed);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    while ys.len() < n {
        let (x1, x2): (f64, f64) =
            (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
        let side = x1 + x2 - 0.3;
        if side.abs() / 2f64.sqrt() >= 0.1 {
            xs.extend([x1, x2]);
            ys.push(side.signum());
        }
    }
    (Array2::from_shape_vec((n, 2), xs).unwrap(), ys)
}

/// The least-squares weights `[w0, w1, w2]` for `y ~ w0 + w1 x1 + w2 x2`, from
/// the normal equations `(A^T A) w = A^T y` with `A = [1, x]`, solved by
/// Gaussian elimination: the fixed point the delta rule approaches.
fn least_squares(x: &Array2<f64>, y: &[f64]) -> [f64; 3] {
    let mut m = [[0.0; 4]; 3];
    for (r, &t) in x.rows().into_iter().zip(y) {
        let a = [1.0, r[0], r[1]];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += a[i] * a[j];
            }
            m[i][3] += a[i] * t;
        }
    }
    for c in 0..3 {
        let p = (c..3)
            .max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))
            .unwrap();
        m.swap(c, p);
        for r in 0..3 {
            if r != c {
                let (f, pivot) = (m[r][c] / m[c][c], m[c]);
                for (v, p) in m[r][c..].iter_mut().zip(&pivot[c..]) {
                    *v -= f * p;
                }
            }
        }
    }
    [m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]]
}

/// Everything this chapter prints, the numbers its text quotes and its
/// figure (snapshot-tested by tests/book.rs).
pub fn chapter() -> Page {
    let mut out = Page::new();
    let x = corners();
    out.section("and_or");

    // ANCHOR: and_or
    // Labels in {-1, +1}; separators written with the bias first.
    let and = [-1.0, -1.0, -1.0, 1.0];
    let or = [-1.0, 1.0, 1.0, 1.0];
    for (name, y, w_star) in [
        ("AND", and, array![-1.5, 1.0, 1.0]),
        ("OR", or, array![-0.5, 1.0, 1.0]),
    ] {
        let mut p = Perceptron::new(2); // w = [0, 0, 0]
        let run = p.train(x.view(), &y, 1.0, 100).unwrap();
        let bound = novikoff_bound(x.view(), &y, w_star.view()).unwrap();
        // ANCHOR_END: and_or
        writeln!(
            out,
            "{name}: converged after {} epochs, {} updates",
            run.epochs, run.updates
        )
        .unwrap();
        let key = name.to_lowercase();
        out.fact(&format!("{key}_updates"), run.updates);
        out.fact(&format!("{key}_bound"), format!("{:.0}", bound.bound));
        writeln!(out, "  mistakes per epoch: {:?}", run.errors_per_epoch)
            .unwrap();
        writeln!(out, "  learned w = [w0, w1, w2] = {:?}", p.w.to_vec())
            .unwrap();
        writeln!(
            out,
            "  Novikoff: D = {:.4}, gamma = {:.4}, bound (D/gamma)^2 = {:.1}",
            bound.radius, bound.margin, bound.bound
        )
        .unwrap();
        let predictions = p.predict_batch(x.view()).unwrap();
        writeln!(out, "  predictions {predictions:?}, targets {y:?}").unwrap();
    }

    out.section("cloud");
    // ANCHOR: bound
    let (cloud, labels) = separable_cloud(200, 1);
    let w_star = array![-0.3, 1.0, 1.0]; // the line x1 + x2 = 0.3
    let bound = novikoff_bound(cloud.view(), &labels, w_star.view()).unwrap();
    writeln!(
        out,
        "\n200 separable points: D = {:.3}, gamma = {:.4}, bound = {:.0}",
        bound.radius, bound.margin, bound.bound
    )
    .unwrap();
    out.fact("cloud_bound", format!("{:.0}", bound.bound));
    writeln!(out, "  eta    order   epochs  updates").unwrap();
    for eta in [0.01, 1.0, 100.0] {
        for order in 0..3u64 {
            // Shuffle the presentation order; the bound holds for every order.
            let mut idx: Vec<usize> = (0..labels.len()).collect();
            idx.shuffle(&mut mlp::rng(order));
            let xs = cloud.select(ndarray::Axis(0), &idx);
            let ys: Vec<f64> = idx.iter().map(|&i| labels[i]).collect();
            let mut p = Perceptron::new(2);
            let run = p.train(xs.view(), &ys, eta, 10_000).unwrap();
            assert!(run.converged && (run.updates as f64) <= bound.bound);
            writeln!(
                out,
                "  {eta:<6} {order:>5} {:>8} {:>8}",
                run.epochs, run.updates
            )
            .unwrap();
        }
    }
    // ANCHOR_END: bound

    out.section("xor");
    // ANCHOR: xor
    let xor = [-1.0, 1.0, 1.0, -1.0];
    let mut p = Perceptron::new(2);
    let run = p.train(x.view(), &xor, 1.0, 1000).unwrap();
    // ANCHOR_END: xor
    writeln!(
        out,
        "\nXOR: converged = {} after {} epochs",
        run.converged, run.epochs
    )
    .unwrap();
    writeln!(
        out,
        "  mistakes in the first 8 epochs: {:?}",
        &run.errors_per_epoch[..8]
    )
    .unwrap();
    writeln!(
        out,
        "  mistakes in the last 8 epochs:  {:?}",
        &run.errors_per_epoch[992..]
    )
    .unwrap();
    let fewest = run.errors_per_epoch.iter().min().unwrap();
    writeln!(out, "  fewest mistakes in any epoch: {fewest}").unwrap();
    out.fact("xor_epochs", run.epochs);

    out.section("delta");
    // ANCHOR: delta
    let and01 = [0.0, 0.0, 0.0, 1.0]; // AND with 0/1 targets
    let mut w = Array1::zeros(3);
    let losses = delta_rule(&mut w, x.view(), &and01, 0.01, 5000).unwrap();
    // ANCHOR_END: delta
    writeln!(out, "\nDelta rule, eta = 0.01, 5000 epochs (0/1 targets):")
        .unwrap();
    for (name, y, w) in [
        ("AND", and01, w),
        ("XOR", [0.0, 1.0, 1.0, 0.0], {
            let mut w = Array1::zeros(3);
            delta_rule(&mut w, x.view(), &[0.0, 1.0, 1.0, 0.0], 0.01, 5000)
                .unwrap();
            w
        }),
    ] {
        let ls = least_squares(&x, &y);
        let outputs: Vec<String> = x
            .rows()
            .into_iter()
            .map(|r| format!("{:.3}", w[0] + w[1] * r[0] + w[2] * r[1]))
            .collect();
        writeln!(
            out,
            "  {name}: w = [{:.4}, {:.4}, {:.4}]  (least squares: [{:.4}, {:.4}, {:.4}])",
            w[0], w[1], w[2], ls[0], ls[1], ls[2]
        )
        .unwrap();
        writeln!(out, "       outputs {outputs:?} for targets {y:?}").unwrap();
    }
    writeln!(
        out,
        "  AND loss after the first and the last epoch: {:.4} -> {:.4}",
        losses[0], losses[4999]
    )
    .unwrap();
    out.figure("ch02_boundaries.svg", boundaries());
    out
}

/// The perceptron's lines on AND and OR, and XOR with no line.
fn boundaries() -> String {
    use mlp_book::plot::PALETTE;
    use plotters::prelude::*;
    let x = corners();
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (720, 330)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let (top, legend) = root.split_vertically(290);
        let panels = top.split_evenly((1, 3));
        let cases = [
            ("AND", [-1.0, -1.0, -1.0, 1.0]),
            ("OR", [-1.0, 1.0, 1.0, 1.0]),
            ("XOR (no line works)", [-1.0, 1.0, 1.0, -1.0]),
        ];
        for (panel, (name, y)) in panels.iter().zip(cases) {
            let mut chart = ChartBuilder::on(panel)
                .caption(name, mlp_book::plot::CAPTION)
                .margin(10)
                .x_label_area_size(44)
                .y_label_area_size(52)
                .build_cartesian_2d(-0.5f64..1.5, -0.5f64..1.5)
                .unwrap();
            mlp_book::plot::style_mesh(&mut chart, "x1", "x2");
            let mut p = Perceptron::new(2);
            let run = p.train(x.view(), &y, 1.0, 1000).unwrap();
            if run.converged {
                // w0 + w1 x1 + w2 x2 = 0  =>  x2 = -(w0 + w1 x1) / w2
                let line = (-50..=150)
                    .map(|i| {
                        let x1 = i as f64 / 100.0;
                        (x1, -(p.w[0] + p.w[1] * x1) / p.w[2])
                    })
                    .filter(|&(_, x2)| (-0.5..=1.5).contains(&x2));
                chart
                    .draw_series(LineSeries::new(line, BLACK.stroke_width(3)))
                    .unwrap();
            }
            let points = x.rows().into_iter().zip(y).map(|(r, t)| {
                let style = if t > 0.0 {
                    PALETTE[0].filled()
                } else {
                    PALETTE[1].stroke_width(3)
                };
                Circle::new((r[0], r[1]), 8, style)
            });
            chart.draw_series(points).unwrap();
        }
        use mlp_book::plot::Mark;
        mlp_book::plot::legend_row(
            &legend,
            &[
                (Mark::Dot(PALETTE[0]), "label +1 (true)"),
                (Mark::Ring(PALETTE[1]), "label -1 (false)"),
                (Mark::Line(BLACK), "learned line w . [1, x] = 0"),
            ],
        );
        root.present().unwrap();
    }
    svg
}

/// The solutions to the chapter's exercises, run (snapshot-tested by
/// tests/book.rs and shown in the book's solutions appendix).
pub fn exercises() -> Page {
    let mut out = Page::new();
    let x = corners();
    let and = [-1.0, -1.0, -1.0, 1.0];

    out.section("ex1");
    // ANCHOR: ex1
    // The AND samples in reverse order.
    let rev = x.slice(ndarray::s![..;-1, ..]).to_owned();
    let and_rev: Vec<f64> = and.iter().rev().copied().collect();
    let mut forward = Perceptron::new(2);
    let mut backward = Perceptron::new(2);
    let f = forward.train(x.view(), &and, 1.0, 100).unwrap();
    let b = backward.train(rev.view(), &and_rev, 1.0, 100).unwrap();
    let w_star = array![-1.5, 1.0, 1.0];
    let bound = novikoff_bound(x.view(), &and, w_star.view()).unwrap();
    // ANCHOR_END: ex1
    writeln!(out, "AND in the given order: {} updates", f.updates).unwrap();
    writeln!(out, "AND in reverse order:   {} updates", b.updates).unwrap();
    writeln!(out, "Novikoff's bound:       {:.0}", bound.bound).unwrap();
    out.fact("ex1_forward", f.updates);
    out.fact("ex1_backward", b.updates);

    out.section("ex2");
    // ANCHOR: ex2
    // OR plus a fifth sample: the corner (1, 1) again, labelled false.
    let x5 = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]];
    let or5 = [-1.0, 1.0, 1.0, 1.0, -1.0];
    let mut p = Perceptron::new(2);
    let run = p.train(x5.view(), &or5, 1.0, 50).unwrap();
    // ANCHOR_END: ex2
    writeln!(out, "converged: {}", run.converged).unwrap();
    writeln!(out, "mistakes per epoch: {:?}", run.errors_per_epoch).unwrap();

    out.section("ex3");
    // ANCHOR: ex3
    // Novikoff's bound for OR from its definition: D is the longest
    // [1, x], gamma the smallest y w* . [1, x] / ||w*||.
    let w_star = [-0.5, 1.0, 1.0];
    let norm = w_star.iter().map(|w| w * w).sum::<f64>().sqrt();
    let or = [-1.0, 1.0, 1.0, 1.0];
    let (mut d, mut gamma) = (0.0f64, f64::INFINITY);
    for (r, y) in x.rows().into_iter().zip(or) {
        let v = [1.0, r[0], r[1]];
        d = d.max(v.iter().map(|a| a * a).sum::<f64>().sqrt());
        let a: f64 = v.iter().zip(w_star).map(|(a, w)| a * w).sum();
        gamma = gamma.min(y * a / norm);
    }
    // ANCHOR_END: ex3
    writeln!(
        out,
        "D = {d:.4}, gamma = {gamma:.4}, (D/gamma)^2 = {:.1}",
        (d / gamma).powi(2)
    )
    .unwrap();
    out
}
