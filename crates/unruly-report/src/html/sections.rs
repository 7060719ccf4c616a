//! The sections of the page: header, summary tiles, charts, findings, assumptions,
//! per-operation statistics, settings and footer. Every value interpolated here is
//! escaped by maud; target-sent text also goes through [`shown`].

use super::charts::{palette, thin, Band, BandKind, Chart, Marker, Series, Size, Thin, MAX_POINTS};
use super::format::{self, clip_chars, shown};
use maud::{html, Markup};
use std::collections::BTreeMap;
use unruly_core::{ErrorClass, Finding, OperationStats, Report, Severity};

/// Findings shown in full; the rest are counted by kind and operation.
pub(super) const MAX_FINDINGS_SHOWN: usize = 200;

/// Scraped series drawn at most (small multiples).
const MAX_SCRAPED_CHARTS: usize = 12;

/// Operations listed at most in the statistics table.
const MAX_OPERATIONS: usize = 500;

/// The whole body of the page.
pub(super) fn page(report: &Report) -> Markup {
    html! {
        main.container {
            (header(report))
            (tiles(report))
            nav.toc aria-label="sections" {
                a href="#charts" { "Charts" }
                a href="#findings" { "Findings" }
                a href="#assumptions" { "Assumptions" }
                a href="#operations" { "Operations" }
                a href="#settings" { "Settings" }
            }
            (charts(report))
            (findings(report))
            (assumptions(report))
            (operations(report))
            (settings(report))
            footer.footer {
                "unruly " (report.tool_version) " · report format v" (report.schema_version)
                " · rendered from the same data as report.json"
            }
        }
    }
}

fn header(report: &Report) -> Markup {
    let findings = report.findings.len();
    let broken = report.assumptions.iter().filter(|a| !a.held).count();
    let clean = findings == 0 && broken == 0;
    let verdict = if clean {
        if report.assumptions.is_empty() {
            "No findings".to_owned()
        } else {
            format!(
                "All {} assumptions held, no findings",
                report.assumptions.len()
            )
        }
    } else {
        format!(
            "{findings} finding{} · {broken} of {} assumption{} broken",
            plural(findings),
            report.assumptions.len(),
            plural(report.assumptions.len())
        )
    };
    html! {
        header.masthead {
            div.brand { span.logo aria-hidden="true" { "⁂" } " unruly report" }
            h1 {
                span.command { (report.command) }
                " "
                code.target { (shown(&report.target)) }
            }
            div.verdict-row {
                span.verdict.(if clean { "ok" } else { "bad" }) { (verdict) }
                @if report.interrupted {
                    span.badge.interrupted title="The run was interrupted before its planned end: this is what it saw until then." {
                        "interrupted"
                    }
                }
            }
            dl.facts {
                div { dt { "started" } dd { (report.started_at) } }
                div { dt { "duration" } dd { (format::duration(report.duration_s)) } }
                div { dt { "seed" } dd { code { (report.seed) } } }
                div { dt { "model" } dd { (report.settings.model) } }
            }
        }
    }
}

fn tiles(report: &Report) -> Markup {
    let overall = &report.stats.overall;
    let failures = overall.errors;
    let client_errors = overall
        .errors_by_class
        .get(&ErrorClass::Status4xx)
        .copied()
        .unwrap_or(0);
    html! {
        section.tiles aria-label="summary" {
            div.tile { div.label { "requests" } div.value { (format::count(overall.requests)) } }
            div.tile { div.label { "requests/s" } div.value { (format::rate(overall.rps)) } }
            div.tile { div.label { "p50 latency" } div.value { (format::ms(overall.latency_ms.p50)) } }
            div.tile { div.label { "p99 latency" } div.value { (format::ms(overall.latency_ms.p99)) } }
            div.tile.(if failures > 0 { "warn" } else { "" }) {
                div.label { "errors" }
                div.value { (format::count(failures)) }
                div.sub { (format::percent(failures, overall.requests)) " · 4xx " (format::count(client_errors)) }
            }
            div.tile.(if report.findings.is_empty() { "" } else { "warn" }) {
                div.label { "findings" }
                div.value { (format::count(report.findings.len() as u64)) }
            }
            @if report.stats.missed_arrivals > 0 {
                div.tile.warn title="Arrivals due but never sent: every connection was busy." {
                    div.label { "missed arrivals" }
                    div.value { (format::count(report.stats.missed_arrivals)) }
                }
            }
        }
    }
}

/// The end of the time axis: the run, or whatever was seen past it.
fn x_max(report: &Report) -> f64 {
    let mut end = report.duration_s;
    if let Some(last) = report.timeline.last() {
        end = end.max(last.t_s as f64 + 1.0);
    }
    for band in &report.faults {
        end = end.max(band.end_s);
    }
    for band in &report.behaviours {
        end = end.max(band.end_s);
    }
    if let Some(watch) = &report.watch {
        if let Some(last) = watch.samples.last() {
            end = end.max(last.t_s);
        }
    }
    end
}

fn bands(report: &Report) -> Vec<Band> {
    let faults = report.faults.iter().map(|f| Band {
        kind: BandKind::Fault,
        label: format!("{} ({})", f.name, f.dependency),
        start_s: f.start_s,
        end_s: f.end_s,
    });
    let behaviours = report.behaviours.iter().map(|b| Band {
        kind: BandKind::Behaviour,
        label: b.name.clone(),
        start_s: b.start_s,
        end_s: b.end_s,
    });
    let mut all: Vec<Band> = faults.chain(behaviours).collect();
    // Thousands of firings would drown the charts: keep the first ones.
    all.truncate(200);
    all
}

fn class_color(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Connect => palette::SKY,
        ErrorClass::Timeout => palette::ORANGE,
        ErrorClass::Reset => palette::PURPLE,
        ErrorClass::Protocol => palette::BLACK,
        ErrorClass::Status4xx => palette::GREEN,
        ErrorClass::Status5xx => palette::VERMILLION,
        ErrorClass::InvalidRequest => palette::GREY,
        ErrorClass::Unfinished => palette::BLUE,
    }
}

fn charts(report: &Report) -> Markup {
    let bands = bands(report);
    let markers: Vec<Marker> = report
        .watch
        .as_ref()
        .and_then(|w| w.exit.as_ref())
        .map(|exit| Marker {
            label: shown(&exit.how),
            t_s: exit.t_s,
        })
        .into_iter()
        .collect();
    let x_max = x_max(report);
    let chart = |key, title: &str, unit: &str, series, size| Chart {
        key,
        title: title.to_owned(),
        unit: unit.to_owned(),
        series,
        x_max,
        bands: &bands,
        markers: &markers,
        size,
        log_y: false,
    };
    let timeline = &report.timeline;
    let mut time_charts = Vec::new();
    if !timeline.is_empty() {
        let latency = |pick: fn(&unruly_core::LatencySummary) -> f64| {
            let points = timeline
                .iter()
                .map(|w| {
                    let y = if w.requests == 0 {
                        f64::NAN
                    } else {
                        pick(&w.latency_ms)
                    };
                    (mid(w), y)
                })
                .collect();
            thin(points, MAX_POINTS, Thin::Max)
        };
        let lines = vec![
            series("p50", palette::BLUE, false, latency(|l| l.p50)),
            series("p90", palette::ORANGE, false, latency(|l| l.p90)),
            series("p99", palette::VERMILLION, false, latency(|l| l.p99)),
        ];
        // A tail 20 times above the median flattens the median on a linear axis.
        let highest = |s: &Series| {
            s.points
                .iter()
                .map(|p| p.1)
                .filter(|y| y.is_finite())
                .fold(0.0, f64::max)
        };
        let lowest = |s: &Series| {
            s.points
                .iter()
                .map(|p| p.1)
                .filter(|y| *y > 0.0)
                .fold(f64::INFINITY, f64::min)
        };
        let log_y = highest(&lines[2]) > 20.0 * lowest(&lines[0]);
        let mut latency_chart = chart("latency", "Latency percentiles", "ms", lines, Size::Wide);
        latency_chart.log_y = log_y;
        time_charts.push(latency_chart);
        // A window that starts at the run's end holds only drained stragglers: not a rate.
        let rps = timeline
            .iter()
            .filter(|w| timeline.len() == 1 || (w.t_s as f64) < report.duration_s)
            .map(|w| (mid(w), w.requests as f64))
            .collect();
        time_charts.push(chart(
            "rps",
            "Requests per second",
            "req/s",
            vec![series(
                "requests/s",
                palette::GREEN,
                false,
                thin(rps, MAX_POINTS, Thin::Mean),
            )],
            Size::Wide,
        ));
        let seen: Vec<ErrorClass> = ErrorClass::ALL
            .into_iter()
            .filter(|c| {
                timeline
                    .iter()
                    .any(|w| w.errors_by_class.get(c).copied().unwrap_or(0) > 0)
            })
            .collect();
        let error_series = seen
            .iter()
            .map(|class| {
                let points = timeline
                    .iter()
                    .map(|w| {
                        (
                            mid(w),
                            w.errors_by_class.get(class).copied().unwrap_or(0) as f64,
                        )
                    })
                    .collect();
                series(
                    class.as_str(),
                    class_color(*class),
                    false,
                    thin(points, MAX_POINTS, Thin::Max),
                )
            })
            .collect();
        time_charts.push(chart(
            "errors",
            "Errors by class",
            "per s",
            error_series,
            Size::Wide,
        ));
    }
    let mut watch_charts = Vec::new();
    let mut scraped_charts = Vec::new();
    let mut scraped_more = 0;
    if let Some(watch) = &report.watch {
        let samples = &watch.samples;
        if !samples.is_empty() {
            let peak = samples.iter().map(|s| s.rss_bytes).max().unwrap_or(0);
            let (scale, unit) = if peak >= 4 << 30 {
                ((1u64 << 30) as f64, "GiB")
            } else if peak >= 4 << 20 {
                ((1u64 << 20) as f64, "MiB")
            } else {
                (1024.0, "KiB")
            };
            let rss = samples
                .iter()
                .map(|s| (s.t_s, s.rss_bytes as f64 / scale))
                .collect();
            watch_charts.push(chart(
                "memory",
                "Target memory (RSS)",
                unit,
                vec![series(
                    "RSS",
                    palette::BLUE,
                    false,
                    thin(rss, MAX_POINTS, Thin::Max),
                )],
                Size::Wide,
            ));
            let cpu = samples.iter().map(|s| (s.t_s, s.cpu_percent)).collect();
            watch_charts.push(chart(
                "cpu",
                "Target CPU (100% = one core)",
                "%",
                vec![series(
                    "CPU",
                    palette::ORANGE,
                    false,
                    thin(cpu, MAX_POINTS, Thin::Mean),
                )],
                Size::Wide,
            ));
            let threads = samples.iter().map(|s| (s.t_s, s.threads as f64)).collect();
            let fds = samples.iter().map(|s| (s.t_s, s.fds as f64)).collect();
            watch_charts.push(chart(
                "process",
                "Target threads and open files",
                "",
                vec![
                    series(
                        "threads",
                        palette::GREEN,
                        false,
                        thin(threads, MAX_POINTS, Thin::Max),
                    ),
                    series(
                        "open files",
                        palette::PURPLE,
                        true,
                        thin(fds, MAX_POINTS, Thin::Max),
                    ),
                ],
                Size::Wide,
            ));
        }
        scraped_more = watch.scraped.len().saturating_sub(MAX_SCRAPED_CHARTS);
        for scraped in watch.scraped.iter().take(MAX_SCRAPED_CHARTS) {
            let points = scraped.points.iter().map(|p| (p.t_s, p.value)).collect();
            scraped_charts.push(chart(
                "scraped",
                &clip_chars(&shown(&scraped.name), 90),
                "",
                vec![series(
                    &clip_chars(&shown(&scraped.name), 60),
                    palette::BLUE,
                    false,
                    thin(points, MAX_POINTS, Thin::Mean),
                )],
                Size::Small,
            ));
        }
    }
    html! {
        section.card #charts {
            h2 { "Over time" }
            @if timeline.is_empty() {
                p.note.no-timeline {
                    "This report has no per-second timeline (an " code { "explore" }
                    " run sends its requests one at a time, not as a load)."
                    @if watch_charts.is_empty() && scraped_charts.is_empty() {
                        " Nothing else was sampled over time."
                    }
                }
            }
            @if !bands.is_empty() && (!time_charts.is_empty() || !watch_charts.is_empty()) {
                p.note { "Shaded bands mark when faults (vermillion) and unruly behaviours (violet) were on; hover one for its name and times." }
            }
            div.charts {
                @for c in &time_charts { (c.render()) }
            }
            @if let Some(watch) = &report.watch {
                h3 { "The target, watched" }
                p.note {
                    (shown(&watch.source))
                    @if let Some(pid) = watch.pid { " · pid " (pid) }
                    " · " (watch.samples.len()) " samples · " (format::count(watch.log_lines)) " log lines"
                    @if let Some(exit) = &watch.exit {
                        " · " strong { (shown(&exit.how)) } " at " (format::seconds_label(exit.t_s))
                        @if exit.restarted { " (restarted)" }
                    }
                }
                div.charts { @for c in &watch_charts { (c.render()) } }
                @if !scraped_charts.is_empty() {
                    h3 { "Scraped metrics" }
                    div.charts.small-multiples { @for c in &scraped_charts { (c.render()) } }
                    @if scraped_more > 0 {
                        p.note { (scraped_more) " more series in report.json." }
                    }
                }
            }
        }
    }
}

/// Where a one-second window is drawn: the middle of its second.
fn mid(window: &unruly_core::Window) -> f64 {
    window.t_s as f64 + 0.5
}

fn series(name: &str, color: &'static str, dashed: bool, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.to_owned(),
        color,
        dashed,
        points,
    }
}

fn findings(report: &Report) -> Markup {
    let mut ordered: Vec<&Finding> = report.findings.iter().collect();
    // Most severe first; report order within a severity.
    ordered.sort_by_key(|f| f.severity);
    let shown_in_full = &ordered[..ordered.len().min(MAX_FINDINGS_SHOWN)];
    let rest = &ordered[shown_in_full.len()..];
    let mut by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in &report.findings {
        *by_severity.entry(f.severity).or_default() += 1;
    }
    let mut rest_groups: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for f in rest {
        *rest_groups
            .entry((f.kind.as_str(), f.operation.as_str()))
            .or_default() += 1;
    }
    html! {
        section.card #findings {
            h2 { "Findings " span.count { (report.findings.len()) } }
            @if report.findings.is_empty() {
                p.note { "No findings." }
            } @else {
                p.severities {
                    @for (severity, n) in &by_severity {
                        span.sev.(severity.as_str()) { (n) " " (severity.as_str()) }
                    }
                }
                table.index {
                    thead { tr { th { "id" } th { "severity" } th { "kind" } th { "operation" } th { "summary" } th.num { "seen" } th.num { "first" } } }
                    tbody {
                        @for f in shown_in_full {
                            tr {
                                td { a href=(format!("#{}", f.id)) { (f.id) } }
                                td { span.sev.(f.severity.as_str()) { (f.severity.as_str()) } }
                                td { code { (f.kind.as_str()) } }
                                td { code { (clip_chars(&shown(&f.operation), 60)) } }
                                td { (clip_chars(&shown(&f.summary), 140)) }
                                td.num { (format::count(f.count)) "×" }
                                td.num { (format::seconds_label(f.first_seen_s)) }
                            }
                        }
                    }
                }
                @if !rest.is_empty() {
                    div.note.capped {
                        p { "Showing " (shown_in_full.len()) " of " (report.findings.len()) " findings in full; the other "
                            (rest.len()) " are in report.json:" }
                        table {
                            thead { tr { th { "kind" } th { "operation" } th.num { "findings" } } }
                            tbody {
                                @for ((kind, operation), n) in rest_groups.iter().take(100) {
                                    tr { td { code { (kind) } } td { code { (clip_chars(&shown(operation), 80)) } } td.num { (n) } }
                                }
                            }
                        }
                    }
                }
                @for f in shown_in_full { (finding(f)) }
            }
        }
    }
}

fn finding(f: &Finding) -> Markup {
    let evidence = &f.evidence;
    let repro_id = format!("{}-reproduce", f.id);
    html! {
        article.finding.(f.severity.as_str()) id=(f.id) {
            header {
                span.sev.(f.severity.as_str()) { (f.severity.as_str()) }
                code.kind { (f.kind.as_str()) }
                span.fid { (f.id) }
                h3 { (shown(&f.summary)) }
            }
            dl.meta {
                div { dt { "operation" } dd { code { (shown(&f.operation)) } } }
                div { dt { "seen" } dd { (format::count(f.count)) "×" } }
                div { dt { "first seen" } dd { (format::seconds_label(f.first_seen_s)) " into the run" } }
                @if let Some(status) = evidence.status { div { dt { "status" } dd { (status) } } }
                @if let Some(error) = evidence.error { div { dt { "error" } dd { code { (error.as_str()) } } } }
                @if let Some(latency) = evidence.latency_ms { div { dt { "took" } dd { (format::ms(latency)) } } }
                div { dt { "seed" } dd { code { (f.seed) } } }
            }
            div.evidence {
                h4 { "Request" }
                pre.request { (shown(&evidence.request)) }
                @if let Some(excerpt) = &evidence.excerpt {
                    h4 { "Response excerpt" }
                    pre.excerpt { (shown(excerpt)) }
                }
                @if !evidence.measurements.is_empty() {
                    h4 { "Measurements" }
                    table.measurements {
                        tbody {
                            @for (name, value) in evidence.measurements.iter().take(100) {
                                tr { th { (clip_chars(&shown(name), 80)) } td.num { (trimmed(*value)) } }
                            }
                        }
                    }
                }
            }
            div.reproduce {
                div.reproduce-head {
                    h4 { "Reproduce" }
                    button.copy type="button" data-copy=(repro_id) { "Copy" }
                }
                pre id=(repro_id) { code { (shown(&f.reproduce)) } }
            }
        }
    }
}

/// A measurement: integers with separators, others with three decimals.
fn trimmed(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        let sign = if value < 0.0 { "-" } else { "" };
        format!("{sign}{}", format::count(value.abs() as u64))
    } else {
        format!("{value:.3}")
    }
}

fn assumptions(report: &Report) -> Markup {
    html! {
        section.card #assumptions {
            h2 { "Assumptions " span.count { (report.assumptions.len()) } }
            @if report.assumptions.is_empty() {
                p.note { "No assumptions were written down for this run." }
            } @else {
                table {
                    thead { tr { th { "" } th { "assumption" } th { "observed" } th { "expected" } } }
                    tbody {
                        @for a in &report.assumptions {
                            tr.(if a.held { "held" } else { "broken" }) {
                                td { span.status { @if a.held { "✓ held" } @else { "✗ broken" } } }
                                td { code { (shown(&a.name)) } }
                                td { (shown(&a.observed)) }
                                td { (shown(&a.expected)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn statuses(stats: &OperationStats) -> String {
    let mut parts: Vec<String> = stats
        .status
        .iter()
        .take(8)
        .map(|(code, n)| format!("{code}×{}", format::count(*n)))
        .collect();
    if stats.status.len() > 8 {
        parts.push("…".into());
    }
    parts.join(" ")
}

fn operation_row(stats: &OperationStats, overall: bool) -> Markup {
    let l = &stats.latency_ms;
    html! {
        tr.(if overall { "overall" } else { "" }) {
            td { @if overall { "all operations" } @else { code { (clip_chars(&shown(&stats.operation), 80)) } } }
            td.num { (format::count(stats.requests)) }
            td.num { (format::rate(stats.rps)) }
            td.num { (format::count(stats.errors)) }
            td.num { (format::percent(stats.errors, stats.requests)) }
            td.num { (format::ms(l.p50)) }
            td.num { (format::ms(l.p90)) }
            td.num { (format::ms(l.p99)) }
            td.num { (format::ms(l.p99_9)) }
            td.num { (format::ms(l.max)) }
            td.statuses { (statuses(stats)) }
            td.num { (format::bytes(stats.bytes_received)) }
        }
    }
}

fn operations(report: &Report) -> Markup {
    let ops = &report.stats.operations;
    html! {
        section.card #operations {
            h2 { "Per operation" }
            div.scroll {
                table.stats {
                    thead { tr {
                        th { "operation" } th.num { "requests" } th.num { "req/s" } th.num { "errors" } th.num { "error %" }
                        th.num { "p50" } th.num { "p90" } th.num { "p99" } th.num { "p99.9" } th.num { "max" }
                        th { "statuses" } th.num { "received" }
                    } }
                    tbody {
                        @for stats in ops.iter().take(MAX_OPERATIONS) { (operation_row(stats, false)) }
                        (operation_row(&report.stats.overall, true))
                    }
                }
            }
            @if ops.len() > MAX_OPERATIONS {
                p.note { (ops.len() - MAX_OPERATIONS) " more operations in report.json." }
            }
            p.note { "Errors count transport failures and 5xx answers; 4xx answers are listed by status only." }
        }
    }
}

fn settings(report: &Report) -> Markup {
    let s = &report.settings;
    html! {
        section.card #settings {
            h2 { "Settings" }
            dl.settings {
                div { dt { "command" } dd { code { (report.command) } } }
                div { dt { "target" } dd { code { (shown(&report.target)) } } }
                div { dt { "model" } dd { (s.model) } }
                div { dt { (if s.model == "open" { "connections" } else { "users" }) } dd { (s.connections) } }
                div { dt { "threads" } dd { (s.threads) } }
                div { dt { "timeout" } dd { (format::ms(s.timeout_ms as f64)) } }
                @if let Some(d) = s.planned_duration_s { div { dt { "planned duration" } dd { (format::duration(d)) } } }
                @if let Some(n) = s.planned_requests { div { dt { "planned requests" } dd { (format::count(n)) } } }
                div { dt { "seed" } dd { code { (report.seed) } } }
                div { dt { "started" } dd { (report.started_at) } }
                @if !s.stages.is_empty() {
                    div.wide { dt { "stages" } dd { ul { @for stage in &s.stages { li { (shown(stage)) } } } } }
                }
                @if !s.operations.is_empty() {
                    div.wide { dt { "operations" } dd { ul.inline { @for op in s.operations.iter().take(MAX_OPERATIONS) { li { code { (shown(op)) } } } } } }
                }
                @if !report.faults.is_empty() {
                    div.wide { dt { "faults" } dd { ul { @for f in report.faults.iter().take(200) {
                        li { (shown(&f.name)) " on " code { (shown(&f.dependency)) } ": "
                            (format::seconds_label(f.start_s)) " – " (format::seconds_label(f.end_s)) }
                    } } } }
                }
                @if !report.behaviours.is_empty() {
                    div.wide { dt { "behaviours" } dd { ul { @for b in report.behaviours.iter().take(200) {
                        li { (shown(&b.name)) ": " (format::seconds_label(b.start_s)) " – " (format::seconds_label(b.end_s)) }
                    } } } }
                }
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
