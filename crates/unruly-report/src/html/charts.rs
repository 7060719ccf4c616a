//! Time charts as inline SVG, drawn here so that they show without any script: axes
//! with ticks and units, one path per series, fault and behaviour windows shaded as
//! labelled bands, and a legend below.

use super::format::{clip_chars, compact, seconds_label};
use maud::{html, Markup};
use std::fmt::Write as _;

/// Points per series at most: longer series are thinned (see [`thin`]).
pub(super) const MAX_POINTS: usize = 600;

/// Colour-blind-friendly colours (Okabe & Ito), readable on white.
pub(super) mod palette {
    pub const BLUE: &str = "#0072B2";
    pub const ORANGE: &str = "#E69F00";
    pub const VERMILLION: &str = "#D55E00";
    pub const GREEN: &str = "#009E73";
    pub const SKY: &str = "#56B4E9";
    pub const PURPLE: &str = "#CC79A7";
    pub const BLACK: &str = "#1f2328";
    pub const GREY: &str = "#8c959f";
}

/// Band fills: faults in vermillion, behaviours in purple, both translucent.
const FAULT_FILL: &str = "#D55E00";
const BEHAVIOUR_FILL: &str = "#7B61FF";

/// One line of a chart. A NaN `y` breaks the line (no data there).
pub(super) struct Series {
    pub name: String,
    pub color: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// What a shaded window is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum BandKind {
    Fault,
    Behaviour,
}

/// A window of time to shade on every time chart.
#[derive(Clone)]
pub(super) struct Band {
    pub kind: BandKind,
    pub label: String,
    pub start_s: f64,
    pub end_s: f64,
}

/// A moment to mark with a vertical line (the watched process exiting).
#[derive(Clone)]
pub(super) struct Marker {
    pub label: String,
    pub t_s: f64,
}

/// The size of a chart, in SVG user units.
#[derive(Clone, Copy)]
pub(super) enum Size {
    Wide,
    Small,
}

impl Size {
    fn dims(self) -> (f64, f64) {
        match self {
            Size::Wide => (1040.0, 230.0),
            Size::Small => (500.0, 190.0),
        }
    }
}

/// A time chart: seconds of the run on x, one quantity on y.
pub(super) struct Chart<'a> {
    /// The `data-chart` attribute: `latency`, `rps`, `errors`, `memory`, ...
    pub key: &'static str,
    pub title: String,
    /// The unit of y, shown on the axis (`ms`, `req/s`, `MiB`, `%`, or empty).
    pub unit: String,
    pub series: Vec<Series>,
    /// The end of the x axis, in seconds.
    pub x_max: f64,
    pub bands: &'a [Band],
    pub markers: &'a [Marker],
    pub size: Size,
    /// A logarithmic y axis (latencies whose tail is far above their median).
    pub log_y: bool,
}

const LEFT: f64 = 58.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 30.0;

impl Chart<'_> {
    /// The chart as a `<figure class="chart">` with its SVG and legend.
    pub(super) fn render(&self) -> Markup {
        let (width, height) = self.size.dims();
        let plot_w = width - LEFT - RIGHT;
        let plot_h = height - TOP - BOTTOM;
        let x_max = if self.x_max.is_finite() && self.x_max > 0.0 {
            self.x_max
        } else {
            1.0
        };
        let finite = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.1))
                .filter(|y| y.is_finite())
        };
        let y_data_max = finite().fold(0.0_f64, f64::max);
        let y_data_min = finite().filter(|y| *y > 0.0).fold(f64::INFINITY, f64::min);
        let scale = if self.log_y && y_data_min.is_finite() && y_data_max > y_data_min {
            Scale::log(y_data_min, y_data_max)
        } else {
            Scale::linear(y_data_max)
        };
        let y_ticks = scale.ticks.clone();
        let sx = |x: f64| LEFT + (x.clamp(0.0, x_max) / x_max) * plot_w;
        let sy = |y: f64| TOP + plot_h - scale.fraction(y) * plot_h;
        let x_step = time_step(x_max, self.size);
        let x_ticks: Vec<f64> = (0..)
            .map(|i| i as f64 * x_step)
            .take_while(|t| *t <= x_max + 1e-9)
            .collect();
        let y_step = |tick: f64| {
            if scale.log {
                tick
            } else if y_ticks.len() > 1 {
                y_ticks[1] - y_ticks[0]
            } else {
                1.0
            }
        };
        let has_fault = self.bands.iter().any(|b| b.kind == BandKind::Fault);
        let has_behaviour = self.bands.iter().any(|b| b.kind == BandKind::Behaviour);
        let label_chars = match self.size {
            Size::Wide => 28,
            Size::Small => 16,
        };
        html! {
            figure.chart data-chart=(self.key) {
                figcaption { (self.title) @if !self.unit.is_empty() { span.unit { " (" (self.unit) ")" } } }
                svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {width} {height}"))
                    role="img" aria-label=(self.title) preserveAspectRatio="xMidYMid meet" {
                    title { (self.title) }
                    // Bands first, under everything.
                    @for (i, band) in self.bands.iter().enumerate() {
                        @let x0 = sx(band.start_s);
                        @let x1 = sx(band.end_s).max(x0 + 1.5);
                        @let fill = if band.kind == BandKind::Fault { FAULT_FILL } else { BEHAVIOUR_FILL };
                        g.band data-kind=(if band.kind == BandKind::Fault { "fault" } else { "behaviour" }) {
                            title { (band_title(band)) }
                            rect x=(r1(x0)) y=(TOP) width=(r1(x1 - x0)) height=(plot_h)
                                fill=(fill) fill-opacity="0.13" {}
                            line x1=(r1(x0)) x2=(r1(x0)) y1=(TOP - 2.0) y2=(TOP + plot_h)
                                stroke=(fill) stroke-opacity="0.6" stroke-width="1" {}
                            text x=(r1(x0 + 2.0)) y=(if i % 2 == 0 { TOP - 4.0 } else { TOP - 16.0 })
                                font-size="11" fill=(fill) { (clip_chars(&band.label, label_chars)) }
                        }
                    }
                    // Grid and y axis.
                    @for tick in &y_ticks {
                        line x1=(LEFT) x2=(LEFT + plot_w) y1=(r1(sy(*tick))) y2=(r1(sy(*tick)))
                            stroke="#d0d7de" stroke-width="1" stroke-dasharray=[(*tick != y_ticks[0]).then_some("2 3")] {}
                        text x=(LEFT - 6.0) y=(r1(sy(*tick) + 3.5)) font-size="11" text-anchor="end" fill="#57606a" {
                            (compact(*tick, y_step(*tick)))
                        }
                    }
                    @if !self.unit.is_empty() {
                        text x="4" y=(TOP - 16.0) font-size="11" fill="#57606a" {
                            (self.unit) @if scale.log { " (log)" }
                        }
                    }
                    // X axis.
                    line x1=(LEFT) x2=(LEFT + plot_w) y1=(TOP + plot_h) y2=(TOP + plot_h) stroke="#57606a" stroke-width="1" {}
                    @for tick in &x_ticks {
                        line x1=(r1(sx(*tick))) x2=(r1(sx(*tick))) y1=(TOP + plot_h) y2=(TOP + plot_h + 4.0) stroke="#57606a" stroke-width="1" {}
                        text x=(r1(sx(*tick))) y=(TOP + plot_h + 16.0) font-size="11" text-anchor="middle" fill="#57606a" {
                            (seconds_label(*tick))
                        }
                    }
                    text x=(LEFT + plot_w) y=(height - 2.0) font-size="11" text-anchor="end" fill="#57606a" { "time since start" }
                    // Markers.
                    @for marker in self.markers {
                        g.marker {
                            title { (marker.label) " at " (seconds_label(marker.t_s)) }
                            line x1=(r1(sx(marker.t_s))) x2=(r1(sx(marker.t_s))) y1=(TOP) y2=(TOP + plot_h)
                                stroke=(palette::BLACK) stroke-width="1.5" stroke-dasharray="4 3" {}
                            text x=(r1(sx(marker.t_s) - 3.0)) y=(TOP + plot_h - 6.0) font-size="11" text-anchor="end" fill=(palette::BLACK) {
                                (clip_chars(&marker.label, label_chars))
                            }
                        }
                    }
                    // Series.
                    @for series in &self.series {
                        @let d = path_data(&series.points, &sx, &sy);
                        @if !d.is_empty() {
                            path.series d=(d) fill="none" stroke=(series.color) stroke-width="1.8"
                                stroke-linejoin="round" stroke-linecap="round"
                                stroke-dasharray=[series.dashed.then_some("5 3")] {
                                title { (series.name) }
                            }
                        }
                        @if let [(x, y)] = series.points.as_slice() {
                            @if y.is_finite() {
                                circle cx=(r1(sx(*x))) cy=(r1(sy(*y))) r="2.5" fill=(series.color) {}
                            }
                        }
                    }
                }
                ul.legend {
                    @for series in &self.series {
                        li { span.swatch style=(format!("background:{}", series.color)) {} (series.name) }
                    }
                    @if has_fault {
                        li { span.swatch.band-swatch style=(format!("background:{FAULT_FILL}")) {} "fault window" }
                    }
                    @if has_behaviour {
                        li { span.swatch.band-swatch style=(format!("background:{BEHAVIOUR_FILL}")) {} "behaviour window" }
                    }
                }
            }
        }
    }
}

fn band_title(band: &Band) -> String {
    let what = match band.kind {
        BandKind::Fault => "fault",
        BandKind::Behaviour => "behaviour",
    };
    format!(
        "{what} {}: {} – {}",
        band.label,
        seconds_label(band.start_s),
        seconds_label(band.end_s)
    )
}

/// Rounded to one decimal, for compact SVG.
fn r1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// `M x y L x y ...`, starting a new subpath after every NaN.
fn path_data(points: &[(f64, f64)], sx: &dyn Fn(f64) -> f64, sy: &dyn Fn(f64) -> f64) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    let mut run = 0;
    for (x, y) in points {
        if !x.is_finite() || !y.is_finite() {
            pen_down = false;
            continue;
        }
        let _ = write!(
            d,
            "{}{} {}",
            if pen_down { "L" } else { "M" },
            r1(sx(*x)),
            r1(sy(*y))
        );
        pen_down = true;
        run += 1;
    }
    if run < 2 {
        // A single point draws nothing as a path; the caller marks it with a dot.
        return if points.len() > 1 { d } else { String::new() };
    }
    d
}

/// How a bucket of points becomes one when a series is thinned.
#[derive(Clone, Copy)]
pub(super) enum Thin {
    /// Keep the peak: latencies and errors, where spikes matter.
    Max,
    /// Keep the mean: rates.
    Mean,
}

/// At most `max` points: consecutive buckets reduced to one point each, at the
/// bucket's first x. NaNs are ignored within a bucket (all-NaN stays NaN).
pub(super) fn thin(points: Vec<(f64, f64)>, max: usize, how: Thin) -> Vec<(f64, f64)> {
    if points.len() <= max || max == 0 {
        return points;
    }
    let bucket = points.len().div_ceil(max);
    points
        .chunks(bucket)
        .map(|chunk| {
            let x = chunk[0].0;
            let ys = chunk.iter().map(|p| p.1).filter(|y| y.is_finite());
            let y = match how {
                Thin::Max => ys.fold(f64::NAN, f64::max),
                Thin::Mean => {
                    let (sum, n) = ys.fold((0.0, 0usize), |(s, n), y| (s + y, n + 1));
                    if n == 0 {
                        f64::NAN
                    } else {
                        sum / n as f64
                    }
                }
            };
            (x, y)
        })
        .collect()
}

/// How y values map onto the plot's height.
struct Scale {
    log: bool,
    /// The first and last ticks are the ends of the axis.
    ticks: Vec<f64>,
}

impl Scale {
    fn linear(max: f64) -> Self {
        Scale {
            log: false,
            ticks: nice_ticks(max),
        }
    }

    /// Decades from below `min` to above `max`, with 2 and 5 between them when few.
    fn log(min: f64, max: f64) -> Self {
        // Decades whose powers stay normal floats (no underflow to 0, no infinity).
        let min = min.clamp(1e-300, 1e300);
        let max = max.clamp(min, 1e300);
        let lo = min.log10().floor() as i32;
        let hi = (max.log10().ceil() as i32).max(lo + 1);
        let mut ticks = Vec::new();
        for d in lo..=hi {
            let decade = 10f64.powi(d);
            ticks.push(decade);
            if hi - lo <= 2 && d < hi {
                ticks.push(2.0 * decade);
                ticks.push(5.0 * decade);
            }
        }
        Scale { log: true, ticks }
    }

    /// Where `y` is between the axis' ends, from 0 to 1.
    fn fraction(&self, y: f64) -> f64 {
        let (first, last) = (self.ticks[0], self.ticks[self.ticks.len() - 1]);
        let f = if self.log {
            (y.max(first).log10() - first.log10()) / (last.log10() - first.log10())
        } else {
            y / last.max(f64::MIN_POSITIVE)
        };
        f.clamp(0.0, 1.0)
    }
}

/// Ticks from 0 to at least `max`, at a 1-2-5 step, four or five of them.
fn nice_ticks(max: f64) -> Vec<f64> {
    if !max.is_finite() || max <= 0.0 {
        return vec![0.0, 1.0];
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    // Values so small that the step underflows (a target may expose 1e-323) get one tick.
    if !(step > 0.0 && step.is_finite()) {
        return vec![0.0, max];
    }
    let n = ((max / step).ceil().max(1.0) as usize).min(MAX_TICKS);
    (0..=n).map(|i| i as f64 * step).collect()
}

/// Most ticks an axis gets, whatever its values.
const MAX_TICKS: usize = 12;

/// A round step in seconds giving at most eight ticks (four on small charts).
fn time_step(x_max: f64, size: Size) -> f64 {
    let most = match size {
        Size::Wide => 8.0,
        Size::Small => 4.0,
    };
    const STEPS: [f64; 14] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| x_max / s <= most)
        .unwrap_or_else(|| (x_max / most / 3600.0).ceil() * 3600.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_maximum_with_round_steps() {
        assert_eq!(nice_ticks(9.0), vec![0.0, 2.5, 5.0, 7.5, 10.0]);
        assert_eq!(nice_ticks(0.0), vec![0.0, 1.0]);
        let ticks = nice_ticks(1234.0);
        assert!(
            *ticks.last().unwrap() >= 1234.0 && ticks.len() <= 6,
            "{ticks:?}"
        );
    }

    #[test]
    fn values_a_target_may_expose_give_bounded_axes() {
        for max in [1e-323, f64::MIN_POSITIVE, 1e-300, 1e308, f64::MAX] {
            let ticks = nice_ticks(max);
            assert!(ticks.len() <= MAX_TICKS + 1, "{max}: {ticks:?}");
        }
        for (min, max) in [(1e-323, 1e-320), (1e-5, f64::MAX), (0.5, 0.5)] {
            let scale = Scale::log(min, max);
            assert!(
                scale.ticks.iter().all(|t| t.is_finite() && *t > 0.0),
                "{min} {max}"
            );
            assert!(scale.fraction(max).is_finite());
        }
    }

    #[test]
    fn thinning_bounds_points_and_keeps_peaks() {
        let points: Vec<_> = (0..3600)
            .map(|i| (i as f64, if i == 1234 { 99.0 } else { 1.0 }))
            .collect();
        let thinned = thin(points, MAX_POINTS, Thin::Max);
        assert!(thinned.len() <= MAX_POINTS);
        assert!(thinned.iter().any(|p| p.1 == 99.0));
    }

    #[test]
    fn nan_breaks_the_path() {
        let id = |v: f64| v;
        let d = path_data(
            &[
                (0.0, 1.0),
                (1.0, 2.0),
                (2.0, f64::NAN),
                (3.0, 1.0),
                (4.0, 1.0),
            ],
            &id,
            &id,
        );
        assert_eq!(d.matches('M').count(), 2, "{d}");
    }
}
