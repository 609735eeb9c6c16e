// Chapter 4: activation functions and their derivatives.
// Run: cargo run --example ch04_activations
use mlp::prelude::*;
use mlp::{Activation, Derivative, Elementwise, ElementwiseDerivative};
use std::fmt::Write;

fn main() {
    print!("{}", chapter());
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

/// Everything this chapter prints (snapshot-tested by tests/book.rs).
pub fn chapter() -> String {
    let mut out = String::new();
    let xs = [-2.0, -0.5, 0.5, 2.0];
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
    writeln!(out, "\nlargest |phi'(x) - central difference| on [-4, 4]:")
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
    writeln!(out, "\n{:<28}= {h:.6?}", "softmax([1, 2, 3])").unwrap();
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
    out
}

/// The chapter's figures: `(file name, SVG)`.
pub fn figures() -> Vec<(&'static str, String)> {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (880, 700)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let mut curves = activations();
        curves.push((
            "step (phi' = 0)".into(),
            Box::new(|x: f64| if x > 0.0 { 1.0 } else { 0.0 }),
            Box::new(|_| 0.0),
        ));
        for (panel, (name, phi, dphi)) in
            root.split_evenly((3, 4)).iter().zip(&curves)
        {
            let mut chart = ChartBuilder::on(panel)
                .caption(name.as_str(), ("sans-serif", 15))
                .margin(6)
                .x_label_area_size(20)
                .y_label_area_size(28)
                .build_cartesian_2d(-4f64..4.0, -2f64..3.0)
                .unwrap();
            chart
                .configure_mesh()
                .x_labels(5)
                .y_labels(6)
                .light_line_style(WHITE)
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
                .draw_series(LineSeries::new(grid(phi), BLUE.stroke_width(2)))
                .unwrap();
            chart
                .draw_series(LineSeries::new(grid(dphi), RED.stroke_width(1)))
                .unwrap();
        }
        root.present().unwrap();
    }
    vec![("ch04_activations.svg", svg)]
}
