//! `--scrape URL`: the target's Prometheus endpoint, read on a thread every second into
//! series for the report's timeline.

use super::parse::{parse, SampleKind};
use super::MetricsError;
use crate::lock;
use bytes::Bytes;
use http::{StatusCode, Uri};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use unruly_core::{ErrorClass, MetricPoint, ScrapedSeries};
use unruly_engine::{Endpoint, ProbeBody, ProbeRequest, Prober};

/// How often the target is scraped unless told otherwise.
pub const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);
/// How long one scrape may take, connecting included.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest response body read; a larger one is a failed scrape.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The most series kept; past it, new series are not recorded.
pub const MAX_SERIES: usize = 200;
/// The most points kept per series; past it, every other point is dropped and scrapes are
/// recorded half as often, so that a long run stays bounded and evenly spaced.
pub const MAX_POINTS: usize = 3600;
/// The longest series name (metric and labels) kept.
const MAX_SERIES_NAME: usize = 1024;

/// A thread scraping the target's metrics endpoint until [`Scraper::finish`].
pub struct Scraper {
    state: Arc<Mutex<State>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// What scraping gathered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrapeOutcome {
    /// The series kept, sorted by name: counters and gauges first in the choice of which
    /// to keep past [`MAX_SERIES`]; histogram buckets never (their `_sum` and `_count` are).
    pub series: Vec<ScrapedSeries>,
    /// Scrapes attempted.
    pub scrapes: u64,
    /// Scrapes that failed (unreachable, timed out, not 2xx, body over the cap).
    pub failures: u64,
    /// Why the last failed scrape failed.
    pub last_error: Option<String>,
}

#[derive(Default)]
struct State {
    series: BTreeMap<String, Vec<MetricPoint>>,
    scrapes: u64,
    failures: u64,
    last_error: Option<String>,
    latest_ok: bool,
    /// Record one scrape in `stride` (doubles whenever a series reaches [`MAX_POINTS`]).
    stride: u64,
    /// The number of the next scrape to record.
    next_recorded: u64,
}

/// Where to scrape, checked once.
#[derive(Clone)]
struct Target {
    uri: Uri,
    host: String,
    port: u16,
    authority: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, MetricsError> {
        let invalid = |reason: &str| MetricsError::ScrapeUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|error: http::uri::InvalidUri| invalid(&error.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(_) => return Err(invalid("only http:// URLs can be scraped")),
            None => {
                return Err(invalid(
                    "expected an http:// URL, e.g. http://127.0.0.1:9090/metrics",
                ))
            }
        }
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("credentials in the URL are not supported"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        Ok(Target {
            host: host.to_string(),
            port: authority.port_u16().unwrap_or(80),
            authority: authority.as_str().to_string(),
            uri,
        })
    }

    fn path(&self) -> &str {
        self.uri.path_and_query().map_or("/", |path| path.as_str())
    }
}

impl Scraper {
    /// Starts scraping `url` (a plain `http://` URL) every `every`, from now; points are
    /// timed in seconds since `start`. A bad URL is an error naming it; an unreachable
    /// target is not (its scrapes count as failures).
    pub fn spawn(url: &str, start: Instant, every: Duration) -> Result<Scraper, MetricsError> {
        let target = Target::parse(url)?;
        let thread_error = |source| MetricsError::Thread {
            what: "scrape",
            source,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(thread_error)?;
        let state = Arc::new(Mutex::new(State {
            stride: 1,
            ..State::default()
        }));
        let (stop, stopped) = oneshot::channel();
        let every = every.max(Duration::from_millis(10));
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("unruly-scrape".to_string())
            .spawn(move || runtime.block_on(run(target, start, every, shared, stopped)))
            .map_err(thread_error)?;
        Ok(Scraper {
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Whether the latest scrape succeeded (false before the first one ends).
    pub fn latest_ok(&self) -> bool {
        lock(&self.state).latest_ok
    }

    /// Scrapes ended so far, failed or not.
    pub fn scrapes(&self) -> u64 {
        lock(&self.state).scrapes
    }

    /// Scrapes failed so far.
    pub fn failures(&self) -> u64 {
        lock(&self.state).failures
    }

    /// Stops scraping (a scrape under way is abandoned) and returns what was gathered.
    pub fn finish(mut self) -> ScrapeOutcome {
        self.shutdown();
        let mut state = lock(&self.state);
        let series = std::mem::take(&mut state.series)
            .into_iter()
            .map(|(name, points)| ScrapedSeries { name, points })
            .collect();
        ScrapeOutcome {
            series,
            scrapes: state.scrapes,
            failures: state.failures,
            last_error: state.last_error.take(),
        }
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Scraper {
    fn drop(&mut self) {
        self.shutdown();
    }
}

async fn run(
    target: Target,
    start: Instant,
    every: Duration,
    state: Arc<Mutex<State>>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // One keep-alive connection for every scrape, as a Prometheus server keeps one.
    let mut prober = None;
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = ticks.tick() => {}
        }
        let t_s = start.elapsed().as_secs_f64();
        let body = match prober_for(&target, &mut prober) {
            Ok(prober) => tokio::select! {
                _ = &mut stopped => return,
                body = fetch(prober, &target) => body,
            },
            Err(error) => Err(error),
        };
        record(&mut lock(&state), t_s, body);
    }
}

/// The prober of the endpoint, made at the first scrape (a name that does not resolve
/// yet is a failed scrape, tried again at the next).
fn prober_for<'a>(
    target: &Target,
    prober: &'a mut Option<Prober>,
) -> Result<&'a mut Prober, String> {
    if prober.is_none() {
        let host = if target.host.contains(':') {
            format!("[{}]", target.host)
        } else {
            target.host.clone()
        };
        let endpoint = Endpoint::resolve(&format!("http://{host}:{}", target.port), false)
            .map_err(|error| format!("cannot resolve {}: {error}", target.authority))?;
        *prober = Some(Prober::new(endpoint, 0, MAX_BODY_BYTES));
    }
    prober
        .as_mut()
        .ok_or_else(|| format!("no prober for {}", target.authority))
}

/// One GET of the endpoint: the body, or why there is none.
async fn fetch(prober: &mut Prober, target: &Target) -> Result<Bytes, String> {
    let request = ProbeRequest {
        method: "GET".to_owned(),
        path_and_query: target.path().to_owned(),
        headers: vec![(
            "Accept".to_owned(),
            "text/plain;version=0.0.4;q=1,*/*;q=0.1".to_owned(),
        )],
        body: ProbeBody::Empty,
    };
    let answer = prober
        .send(request, SCRAPE_TIMEOUT)
        .await
        .map_err(|failure| match failure.class {
            ErrorClass::Connect => format!(
                "cannot connect to {}: {}",
                target.authority, failure.message
            ),
            ErrorClass::Timeout => {
                format!("no complete answer within {} s", SCRAPE_TIMEOUT.as_secs())
            }
            _ => format!("request failed: {}", failure.message),
        })?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    if !status.is_success() {
        return Err(format!("answered {status}{}", hint(status)));
    }
    if !answer.is_complete() {
        return Err(format!(
            "the body is over {} MiB",
            MAX_BODY_BYTES / (1024 * 1024)
        ));
    }
    Ok(answer.body)
}

fn hint(status: StatusCode) -> &'static str {
    if status == StatusCode::NOT_FOUND {
        " (is the metrics path right?)"
    } else {
        ""
    }
}

/// Counts one scrape and keeps its points.
fn record(state: &mut State, t_s: f64, body: Result<Bytes, String>) {
    state.scrapes += 1;
    let body = match body {
        Ok(body) => body,
        Err(error) => {
            state.failures += 1;
            state.latest_ok = false;
            state.last_error = Some(error);
            return;
        }
    };
    state.latest_ok = true;
    if state.scrapes < state.next_recorded {
        return;
    }
    state.next_recorded = state.scrapes.saturating_add(state.stride);
    let text = String::from_utf8_lossy(&body);
    let mut candidates: Vec<(u8, String, f64)> = parse(&text)
        .samples
        .into_iter()
        .filter(|sample| sample.value.is_finite())
        .filter_map(|sample| {
            let rank = match sample.kind {
                SampleKind::Counter | SampleKind::Gauge => 0,
                SampleKind::Quantile | SampleKind::Untyped => 1,
                SampleKind::SumOrCount => 2,
                SampleKind::Bucket | SampleKind::Created => return None,
            };
            let key = sample.series_key();
            (key.len() <= MAX_SERIES_NAME).then_some((rank, key, sample.value))
        })
        .collect();
    candidates.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut full = false;
    for (_, key, value) in candidates {
        let point = MetricPoint { t_s, value };
        if let Some(points) = state.series.get_mut(&key) {
            points.push(point);
            full |= points.len() >= MAX_POINTS;
        } else if state.series.len() < MAX_SERIES {
            state.series.insert(key, vec![point]);
        }
    }
    if full {
        for points in state.series.values_mut() {
            let mut index = 0;
            points.retain(|_| {
                index += 1;
                index % 2 == 1
            });
        }
        state.stride = state.stride.saturating_mul(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        for bad in [
            "https://x/metrics",
            "127.0.0.1:9090/metrics",
            "http://",
            "ftp://x/",
            "not a url",
            "http://u:p@x/",
        ] {
            let error = Target::parse(bad).err().map(|error| error.to_string());
            assert!(
                error
                    .as_deref()
                    .is_some_and(|message| message.contains(bad)),
                "{bad}: {error:?}"
            );
        }
        let target = Target::parse("http://127.0.0.1:9100/metrics?x=1").ok();
        let target = target.as_ref().map(|t| (t.host.as_str(), t.port, t.path()));
        assert_eq!(target, Some(("127.0.0.1", 9100, "/metrics?x=1")));
        let target = Target::parse("http://[::1]/").ok();
        assert_eq!(
            target.map(|t| (t.host, t.port)),
            Some(("::1".to_string(), 80))
        );
    }

    #[test]
    fn series_are_capped_preferring_counters_and_gauges() {
        let mut text = String::from("# TYPE h histogram\n");
        for i in 0..MAX_SERIES {
            text.push_str(&format!(
                "h_sum{{i=\"{i}\"}} 1\nh_bucket{{le=\"1\",i=\"{i}\"}} 1\n"
            ));
        }
        text.push_str("# TYPE c counter\nc 5\nweird NaN\n");
        let mut state = State {
            stride: 1,
            ..State::default()
        };
        record(&mut state, 0.5, Ok(Bytes::from(text)));
        assert_eq!(state.series.len(), MAX_SERIES);
        assert!(state.series.contains_key("c"));
        assert!(!state.series.contains_key("weird"));
        assert!(!state.series.keys().any(|key| key.starts_with("h_bucket")));
    }

    #[test]
    fn points_are_thinned_past_the_cap() {
        let mut state = State {
            stride: 1,
            ..State::default()
        };
        for i in 0..(MAX_POINTS * 3) {
            record(&mut state, i as f64, Ok(Bytes::from_static(b"g 1\n")));
        }
        let points = &state.series["g"];
        assert!(points.len() <= MAX_POINTS, "{}", points.len());
        assert!(points.len() >= MAX_POINTS / 2);
        let gaps: Vec<f64> = points.windows(2).map(|p| p[1].t_s - p[0].t_s).collect();
        assert!(gaps.iter().all(|gap| *gap >= 1.0));
    }
}
