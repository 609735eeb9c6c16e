// Chapter 4: activation functions and their derivatives.
// Run: cargo run --example ch04_activations
// (add `-- --exercises` for the solutions to the exercises).
use mlp::prelude::*;
use mlp::{Activation, Derivative, Elementwise, ElementwiseDerivative};
use mlp_book::Page;
use std::fmt::Write;

fn main() {
    mlp_book::at_repository_root();
    if std::env::args().any(|a| a == "--exercises") {
        print!("{}", exercises().printed());
    } else {
        print!("{}", chapter().printed());
    }
}

/// A scalar function of one variable.
type Curve = Box<dyn Fn(f64) -> f64>;

// ANCHOR: entry
/// An activation as two plain functions: `phi` and its derivative `phi'`.
fn entry<A: ElementwiseDerivative<f64>>(act: A) -> (String, Curve, Curve) {
    let name = Elementwise::describe(&act);
    let phi = move |x: f64| act.phi(x);
    // The derivative may use the input x, the output phi(x), or both.
    let dphi = move |x: f64| act.dphi(x, act.phi(x));
    (name, Box::new(phi), Box::new(dphi))
}
// ANCHOR_END: entry

/// Every differentiable elementwise activation in `mlp`.
fn activations() -> Vec<(String, Curve, Curve)> {
    vec![
        entry(Identity),
        entry(Sigmoid),
        entry(Tanh),
        entry(Relu),
        entry(LeakyRelu::new(0.1)),
        entry(Elu::new(1.0)),
        entry(Selu),
        entry(Softplus),
        entry(Softsign),
        entry(Swish),
        entry(Mish),
    ]
}

/// Everything this chapter prints, the numbers its text quotes and its
/// figure (snapshot-tested by tests/book.rs).
pub fn chapter() -> Page {
    let mut out = Page::new();
    let xs = [-2.0, -0.5, 0.5, 2.0];
    out.section("values");
    writeln!(out, "{:<16} {:>32}   {:>32}", "", "phi(x)", "phi'(x)").unwrap();
    writeln!(
        out,
        "{:<16} {:>8}{:>8}{:>8}{:>8}   {:>8}{:>8}{:>8}{:>8}",
        "x", -2.0, -0.5, 0.5, 2.0, -2.0, -0.5, 0.5, 2.0
    )
    .unwrap();
    for (name, phi, dphi) in activations() {
        write!(out, "{name:<16} ").unwrap();
        for x in xs {
            write!(out, "{:>8.4}", phi(x)).unwrap();
        }
        write!(out, "   ").unwrap();
        for x in xs {
            write!(out, "{:>8.4}", dphi(x)).unwrap();
        }
        writeln!(out).unwrap();
    }

    // ANCHOR: check
    // phi'(x) against the central difference (phi(x+e) - phi(x-e)) / 2e on a
    // grid of [-4, 4], skipping points within 1e-3 of the kink at 0.
    out.section("check");
    writeln!(out, "largest |phi'(x) - central difference| on [-4, 4]:")
        .unwrap();
    let e = 1e-5;
    for (name, phi, dphi) in activations() {
        let worst = (0..=800)
            .map(|i| -4.0 + i as f64 / 100.0 + 0.00037)
            .filter(|x: &f64| x.abs() > 1e-3)
            .map(|x| (dphi(x) - (phi(x + e) - phi(x - e)) / (2.0 * e)).abs())
            .fold(0.0, f64::max);
        writeln!(out, "  {name:<16} {worst:.1e}").unwrap();
    }
    // ANCHOR_END: check

    // ANCHOR: softmax
    let a = [1.0, 2.0, 3.0];
    let mut h = [0.0; 3];
    Softmax.forward(&a, &mut h, 3);
    // Adding a constant to every input leaves the output unchanged.
    let mut shifted = [0.0; 3];
    Softmax.forward(&[1001.0, 1002.0, 1003.0], &mut shifted, 3);
    // Backprop multiplies an incoming gradient g by the Jacobian:
    // delta_i = h_i (g_i - sum_j h_j g_j).
    let g = [0.5, -1.0, 2.0];
    let mut delta = [0.0; 3];
    Softmax.backward(&a, &h, &g, &mut delta, 3);
    // ANCHOR_END: softmax
    let sum: f64 = h.iter().sum();
    out.section("softmax");
    writeln!(out, "{:<28}= {h:.6?}", "softmax([1, 2, 3])").unwrap();
    let label = "softmax([1001, 1002, 1003])";
    writeln!(out, "{label:<28}= {shifted:.6?}").unwrap();
    writeln!(out, "{:<28}= {sum:.6}", "sum of outputs").unwrap();
    let mut numeric = [0.0; 3];
    for (j, n) in numeric.iter_mut().enumerate() {
        let (mut up, mut down) = (a, a);
        up[j] += 1e-6;
        down[j] -= 1e-6;
        let (mut hu, mut hd) = ([0.0; 3], [0.0; 3]);
        Softmax.forward(&up, &mut hu, 3);
        Softmax.forward(&down, &mut hd, 3);
        *n = (0..3).map(|i| g[i] * (hu[i] - hd[i]) / 2e-6).sum();
    }
    writeln!(out, "{:<28}= {delta:.6?}", "J^T g (backprop)").unwrap();
    writeln!(out, "{:<28}= {numeric:.6?}", "J^T g (central differences)")
        .unwrap();
    let sigmoid = Elementwise::<f64>::phi(&Sigmoid, 5.0);
    out.fact(
        "sigmoid_slope_5",
        format!("{:.4}", sigmoid * (1.0 - sigmoid)),
    );
    out.figure("ch04_activations.svg", figure());
    out
}

/// Every activation and its derivative, one panel each.
fn figure() -> String {
    use mlp_book::plot::{CAPTION, Mark, PALETTE, legend_row, tick};
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (720, 800)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let (top, legend) = root.split_vertically(760);
        let mut curves = activations();
        curves.push((
            "step (phi' = 0)".into(),
            Box::new(|x: f64| if x > 0.0 { 1.0 } else { 0.0 }),
            Box::new(|_| 0.0),
        ));
        for (panel, (name, phi, dphi)) in
            top.split_evenly((4, 3)).iter().zip(&curves)
        {
            let mut chart = ChartBuilder::on(panel)
                .caption(name.as_str(), (CAPTION.0, 21))
                .margin(6)
                .x_label_area_size(26)
                .y_label_area_size(30)
                .build_cartesian_2d(-4f64..4.0, -2f64..3.0)
                .unwrap();
            chart
                .configure_mesh()
                .x_labels(5)
                .y_labels(6)
                .label_style(("sans-serif", 17))
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .light_line_style(WHITE)
                .bold_line_style(RGBColor(225, 225, 225))
                .draw()
                .unwrap();
            let grid = |f: &Curve| {
                (0..=400)
                    .map(|i| -4.0 + i as f64 / 50.0)
                    .map(|x| (x, f(x)))
                    .filter(|&(_, y)| (-2.0..=3.0).contains(&y))
                    .collect::<Vec<_>>()
            };
            chart
                .draw_series(LineSeries::new(
                    grid(phi),
                    PALETTE[0].stroke_width(3),
                ))
                .unwrap();
            chart
                .draw_series(DashedLineSeries::new(
                    grid(dphi),
                    6,
                    4,
                    PALETTE[1].stroke_width(2),
                ))
                .unwrap();
        }
        legend_row(
            &legend,
            &[
                (Mark::Line(PALETTE[0]), "phi(x)"),
                (Mark::Line(PALETTE[1]), "phi'(x), dashed"),
                (Mark::Patch(WHITE), "x from -4 to 4 in every panel"),
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
    out.section("ex1");
    // ANCHOR: ex1
    // tanh'(x) = 4 sigma'(2x) = 1 - tanh^2(x), checked on a grid.
    let sigma = |x: f64| Elementwise::<f64>::phi(&Sigmoid, x);
    let worst = (-40..=40)
        .map(|i| i as f64 / 10.0)
        .map(|x| {
            let via_sigmoid = 4.0 * sigma(2.0 * x) * (1.0 - sigma(2.0 * x));
            (via_sigmoid - (1.0 - x.tanh().powi(2))).abs()
        })
        .fold(0.0, f64::max);
    // ANCHOR_END: ex1
    writeln!(
        out,
        "largest |4 sigma'(2x) - (1 - tanh^2 x)| on [-4, 4]: {worst:.1e}"
    )
    .unwrap();

    out.section("ex2");
    // ANCHOR: ex2
    // Where sigma'(x) = sigma(x) (1 - sigma(x)) falls below 0.01, by bisection.
    let slope = |x: f64| sigma(x) * (1.0 - sigma(x));
    let (mut lo, mut hi) = (0.0, 20.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if slope(mid) > 0.01 {
            lo = mid
        } else {
            hi = mid
        }
    }
    // ANCHOR_END: ex2
    writeln!(out, "sigma'(x) < 0.01 for |x| > {lo:.4}").unwrap();
    out.fact("ex2_threshold", format!("{lo:.2}"));

    out.section("ex3");
    // ANCHOR: ex3
    // softmax(a1, a2) = (sigma(a1 - a2), sigma(a2 - a1)).
    let mut worst = 0.0f64;
    for (a1, a2) in [(0.3, -1.2), (5.0, 4.0), (-7.0, 2.5)] {
        let mut h = [0.0; 2];
        Softmax.forward(&[a1, a2], &mut h, 2);
        worst = worst.max((h[0] - sigma(a1 - a2)).abs());
    }
    // ANCHOR_END: ex3
    writeln!(out, "largest |softmax(a)_1 - sigma(a1 - a2)|: {worst:.1e}")
        .unwrap();
    out
}
