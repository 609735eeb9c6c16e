//! Figures in one style: line charts and image grids, drawn as SVG with
//! plotters, sized for the width the book shows them at (about 700 px) so
//! their text is read at its true size.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;

/// Colours that stay distinct for colour-blind readers (Okabe & Ito 2008).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];

/// Font sizes as plotters takes them; its SVG backend writes `size / 1.24`
/// pixels, so these are 20, 17, 15 and 15 px at the displayed size.
const TITLE: u32 = 25;
const AXIS: u32 = 21;
const TICKS: u32 = 19;
const LEGEND: u32 = 19;

/// One line of a [`LineChart`].
#[derive(Debug, Clone)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// The points, in order.
    pub points: Vec<(f64, f64)>,
    /// Index into [`PALETTE`].
    pub color: usize,
    /// Drawn dashed (for a second quantity of the same run, say).
    pub dashed: bool,
    /// A dot at every point.
    pub markers: bool,
    /// A line through the points (off for a scatter of points).
    pub line: bool,
}

impl Series {
    /// A solid line in `PALETTE[color]`.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, color: usize) -> Self {
        Series {
            name: name.into(),
            points,
            color,
            dashed: false,
            markers: false,
            line: true,
        }
    }

    /// Only a dot at every point, no line.
    pub fn scatter(mut self) -> Self {
        self.markers = true;
        self.line = false;
        self
    }

    /// Draws it dashed.
    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }

    /// Marks every point.
    pub fn markers(mut self) -> Self {
        self.markers = true;
        self
    }
}

/// Where the legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legend {
    /// Top right, inside the plot.
    UpperRight,
    /// Bottom left, inside the plot.
    LowerLeft,
    /// Bottom right, inside the plot.
    LowerRight,
    /// Top left, inside the plot.
    UpperLeft,
}

/// A line chart with a title, axis titles and a legend.
#[derive(Debug, Clone)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    series: Vec<Series>,
    log_y: bool,
    x_range: Option<Range<f64>>,
    y_range: Option<Range<f64>>,
    size: (u32, u32),
    legend: Legend,
}

impl LineChart {
    /// An empty chart, 700 x 420 px.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        LineChart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            log_y: false,
            x_range: None,
            y_range: None,
            size: (700, 420),
            legend: Legend::UpperRight,
        }
    }

    /// Adds a line.
    pub fn series(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }

    /// A logarithmic y axis (every y must be positive).
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    /// Fixes the x range (default: the data's).
    pub fn x_range(mut self, r: Range<f64>) -> Self {
        self.x_range = Some(r);
        self
    }

    /// Fixes the y range (default: the data's, with a margin).
    pub fn y_range(mut self, r: Range<f64>) -> Self {
        self.y_range = Some(r);
        self
    }

    /// Sets the size in pixels.
    pub fn size(mut self, w: u32, h: u32) -> Self {
        self.size = (w, h);
        self
    }

    /// Moves the legend.
    pub fn legend(mut self, at: Legend) -> Self {
        self.legend = at;
        self
    }

    /// The chart as an SVG document.
    pub fn svg(&self) -> String {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size).into_drawing_area();
            root.fill(&WHITE).unwrap();
            self.draw_on(&root);
            root.present().unwrap();
        }
        svg
    }

    /// Draws the chart into a region of a larger figure.
    pub fn draw_on(&self, area: &DrawingArea<SVGBackend<'_>, Shift>) {
        let points = self.series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in points {
            x0 = x0.min(x);
            x1 = x1.max(x);
            if y.is_finite() && (!self.log_y || y > 0.0) {
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
        let xr = self.x_range.clone().unwrap_or(x0..x1);
        let yr = self
            .y_range
            .clone()
            .map(|r| {
                if self.log_y {
                    r.start * 0.999..r.end
                } else {
                    r
                }
            })
            .unwrap_or_else(|| {
                if self.log_y {
                    // From just below a power of ten, so every decade shown has
                    // its labels (plotters finds the first one by rounding the
                    // logarithm up, and log10(0.01) comes out a hair above -2).
                    0.999 * 10f64.powf((y0 / 1.2).log10().floor())..y1 * 1.5
                } else {
                    let pad = (y1 - y0).max(1e-12) * 0.06;
                    y0 - pad..y1 + pad
                }
            });
        let mut builder = ChartBuilder::on(area);
        builder
            .caption(&self.title, ("sans-serif", TITLE))
            .margin(12)
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(72);
        if self.log_y {
            let chart = builder.build_cartesian_2d(xr, yr.log_scale()).unwrap();
            self.finish(chart, log_tick);
        } else {
            let chart = builder.build_cartesian_2d(xr, yr).unwrap();
            self.finish(chart, |v: &f64| tick(*v));
        }
    }

    fn finish<'a, Y>(
        &self,
        mut chart: ChartContext<
            'a,
            SVGBackend<'a>,
            Cartesian2d<plotters::coord::types::RangedCoordf64, Y>,
        >,
        y_fmt: impl Fn(&f64) -> String,
    ) where
        Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(215, 215, 215))
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .axis_desc_style(("sans-serif", AXIS))
            .label_style(("sans-serif", TICKS))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&y_fmt)
            .x_labels(7)
            .y_labels(if self.log_y { 40 } else { 6 })
            .draw()
            .unwrap();
        for s in &self.series {
            let color = PALETTE[s.color % PALETTE.len()];
            let style = color.stroke_width(if s.dashed { 2 } else { 3 });
            // A series that leaves a fixed y range (a diverging loss) ends
            // where it leaves, rather than running along the border.
            let inside = |y: f64| self.y_range.as_ref().is_none_or(|r| r.contains(&y));
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|&(_, y)| y.is_finite() && (!self.log_y || y > 0.0))
                .take_while(|&(_, y)| inside(y))
                .collect();
            if !s.line {
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 5, color.filled())))
                    .unwrap()
                    .label(&s.name)
                    .legend(move |(x, y)| Circle::new((x + 12, y), 5, color.filled()));
                continue;
            }
            let anno = if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style))
                    .unwrap()
            } else {
                chart
                    .draw_series(LineSeries::new(pts.clone(), style))
                    .unwrap()
            };
            anno.label(&s.name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
            if s.markers {
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                    .unwrap();
            }
        }
        let position = match self.legend {
            Legend::UpperRight => SeriesLabelPosition::UpperRight,
            Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
            Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
            Legend::LowerRight => SeriesLabelPosition::LowerRight,
        };
        if self.series.iter().any(|s| !s.name.is_empty()) {
            chart
                .configure_series_labels()
                .position(position)
                .label_font(("sans-serif", LEGEND))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(190, 190, 190))
                .draw()
                .unwrap();
        }
    }
}

/// A tick label on a logarithmic axis: `1`, `2` and `5` times a power of
/// ten are labelled (as `0.02`, `5`, `1e-5`), the grid lines between them
/// are not.
fn log_tick(v: &f64) -> String {
    let exp = v.log10().floor();
    let mantissa = (v / 10f64.powf(exp)).round() as i32;
    if ![1, 2, 5].contains(&mantissa) || (v / 10f64.powf(exp) - mantissa as f64).abs() > 1e-6 {
        return String::new();
    }
    if (-3.0..=4.0).contains(&exp) {
        tick(*v)
    } else {
        format!("{mantissa}e{exp}")
    }
}

/// A tick label without trailing zeros: `0.5`, `2`, `1000`, `-0.25`.
pub fn tick(v: f64) -> String {
    let v = if v.abs() < 1e-12 { 0.0 } else { v };
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// Grey-scale images (values in `[0, 1]`, 0 white, 1 black) in a grid, each
/// with an optional caption under it, and a title over the whole figure.
pub fn image_grid(
    title: &str,
    images: &[(Vec<f64>, String)],
    side: usize,
    cols: usize,
    cell: u32,
) -> String {
    let rows = images.len().div_ceil(cols);
    let label_h = if images.iter().any(|(_, l)| !l.is_empty()) {
        22
    } else {
        0
    };
    let (w, h) = (
        cols as u32 * (cell + 10) + 10,
        rows as u32 * (cell + 10 + label_h) + 40,
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let root = root.titled(title, ("sans-serif", TITLE)).unwrap();
        let px = cell as f64 / side as f64;
        for (k, (img, label)) in images.iter().enumerate() {
            let (r, c) = (k / cols, k % cols);
            let (ox, oy) = (
                10 + c as i32 * (cell as i32 + 10),
                6 + r as i32 * (cell + 10 + label_h) as i32,
            );
            for (i, &v) in img.iter().enumerate() {
                let (y, x) = (i / side, i % side);
                let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))).round() as u8;
                let (x0, y0) = (ox + (x as f64 * px) as i32, oy + (y as f64 * px) as i32);
                let (x1, y1) = (
                    ox + ((x + 1) as f64 * px) as i32,
                    oy + ((y + 1) as f64 * px) as i32,
                );
                root.draw(&Rectangle::new(
                    [(x0, y0), (x1, y1)],
                    RGBColor(g, g, g).filled(),
                ))
                .unwrap();
            }
            root.draw(&Rectangle::new(
                [(ox, oy), (ox + cell as i32, oy + cell as i32)],
                RGBColor(160, 160, 160).stroke_width(1),
            ))
            .unwrap();
            if !label.is_empty() {
                root.draw(&Text::new(
                    label.clone(),
                    (ox, oy + cell as i32 + 4),
                    ("sans-serif", TICKS),
                ))
                .unwrap();
            }
        }
        root.present().unwrap();
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_drop_trailing_zeros() {
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(2.0), "2");
        assert_eq!(tick(-0.0000000001), "0");
        assert_eq!(tick(0.125), "0.125");
        assert_eq!(
            (log_tick(&0.02), log_tick(&0.03), log_tick(&1e-5)),
            ("0.02".into(), String::new(), "1e-5".into())
        );
    }

    #[test]
    fn a_chart_has_its_titles_and_legend() {
        let svg = LineChart::new("Loss", "epoch", "loss")
            .series(Series::new("full batch", vec![(1.0, 1.0), (2.0, 0.5)], 0))
            .series(Series::new("stochastic", vec![(1.0, 0.8), (2.0, 0.1)], 1).dashed())
            .log_y()
            .svg();
        for text in ["Loss", "epoch", "loss", "full batch", "stochastic"] {
            assert!(svg.contains(&format!(">\n{text}\n<")), "{text}");
        }
    }
}

/// A mark in a [`legend_row`].
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    /// A filled circle.
    Dot(RGBColor),
    /// An open circle.
    Ring(RGBColor),
    /// A line segment.
    Line(RGBColor),
    /// A filled square (a shaded region).
    Patch(RGBColor),
}

/// A legend in one row, centred in `area`: a mark, then its text, for each
/// entry. For figures of several panels that share one legend.
pub fn legend_row(area: &DrawingArea<SVGBackend<'_>, Shift>, entries: &[(Mark, &str)]) {
    let (w, h) = area.dim_in_pixel();
    let font: TextStyle = ("sans-serif", LEGEND).into_font().into();
    let widths: Vec<i32> = entries
        .iter()
        .map(|(_, t)| area.estimate_text_size(t, &font).unwrap().0 as i32 + 34)
        .collect();
    let total: i32 = widths.iter().sum::<i32>() + 24 * (entries.len() as i32 - 1);
    let (mut x, y) = ((w as i32 - total) / 2, h as i32 / 2);
    for ((mark, text), width) in entries.iter().zip(widths) {
        match *mark {
            Mark::Dot(c) => area.draw(&Circle::new((x + 10, y), 7, c.filled())),
            Mark::Ring(c) => area.draw(&Circle::new((x + 10, y), 7, c.stroke_width(2))),
            Mark::Line(c) => area.draw(&PathElement::new(
                vec![(x, y), (x + 22, y)],
                c.stroke_width(3),
            )),
            Mark::Patch(c) => area.draw(&Rectangle::new(
                [(x + 2, y - 8), (x + 18, y + 8)],
                c.filled(),
            )),
        }
        .unwrap();
        area.draw(&Text::new(
            text.to_string(),
            (x + 30, y),
            font.clone().pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            )),
        ))
        .unwrap();
        x += width + 24;
    }
}

/// A chart's mesh in the book's style: light grid, axis titles, legible ticks.
pub fn style_mesh<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    x_label: &str,
    y_label: &str,
) where
    X: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .x_desc(x_label)
        .y_desc(y_label)
        .axis_desc_style(("sans-serif", AXIS))
        .label_style(("sans-serif", TICKS))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .x_labels(5)
        .y_labels(5)
        .draw()
        .unwrap();
}

/// The caption font size, for hand-built charts.
pub const CAPTION: (&str, u32) = ("sans-serif", TITLE);
