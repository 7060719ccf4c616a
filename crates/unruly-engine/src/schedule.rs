//! The open model's arrival schedule: when the k-th request is due.
//!
//! The rate is piecewise linear (holds and ramps), so the cumulative number of
//! arrivals `N(t)` is piecewise quadratic and the due time of arrival `k` (the
//! time at which `N(t) = k`) has a closed form. Arrival times therefore do not
//! depend on how fast the target answers: that is what makes the model open.

use std::time::Duration;
use unruly_core::Stage;

/// Arrival times of an open workload.
#[derive(Debug, Clone)]
pub struct ArrivalSchedule {
    segments: Vec<Segment>,
    total: u64,
    duration: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Start of the segment, seconds from the start of the run.
    start_s: f64,
    /// Arrivals before the segment.
    before: f64,
    /// Arrivals within the segment.
    count: f64,
    /// Rate at the segment's start (requests/s).
    from: f64,
    /// Rate change per second.
    slope: f64,
}

impl ArrivalSchedule {
    /// The schedule of these stages, played in order from time zero.
    pub fn new(stages: &[Stage]) -> Self {
        let mut segments = Vec::with_capacity(stages.len());
        let (mut start_s, mut before) = (0.0f64, 0.0f64);
        for stage in stages {
            let length = stage.duration().as_secs_f64();
            let (from, to) = match *stage {
                Stage::Hold { rate, .. } => (rate, rate),
                Stage::Ramp { from, to, .. } => (from, to),
            };
            let (from, to) = (from.max(0.0), to.max(0.0));
            let slope = if length > 0.0 {
                (to - from) / length
            } else {
                0.0
            };
            let count = (from + to) / 2.0 * length;
            segments.push(Segment {
                start_s,
                before,
                count,
                from,
                slope,
            });
            start_s += length;
            before += count;
        }
        // Arrival k is due when N(t) = k; those due before the end are k < N(end).
        let total = (before - 1e-9).ceil().max(0.0) as u64;
        Self {
            segments,
            total,
            duration: Duration::from_secs_f64(start_s),
        }
    }

    /// Number of arrivals in the whole schedule.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Length of the schedule.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Number of arrivals due before `elapsed`.
    pub fn due_before(&self, elapsed: Duration) -> u64 {
        let (mut low, mut high) = (0u64, self.total);
        // The first arrival not due before `elapsed`, by bisection on due().
        while low < high {
            let mid = low + (high - low) / 2;
            match self.due(mid) {
                Some(due) if due < elapsed => low = mid + 1,
                _ => high = mid,
            }
        }
        low
    }

    /// When arrival `k` (from 0) is due, from the start of the run; `None` past the end.
    pub fn due(&self, k: u64) -> Option<Duration> {
        if k >= self.total {
            return None;
        }
        let k = k as f64;
        let index = self
            .segments
            .partition_point(|segment| segment.before + segment.count <= k);
        let segment = self.segments.get(index)?;
        let within = k - segment.before;
        // Solve from*t + slope/2*t^2 = within for t >= 0, in a form stable for any slope.
        let (a, b) = (segment.slope / 2.0, segment.from);
        let t = if within <= 0.0 {
            0.0
        } else if a.abs() < 1e-12 {
            if b <= 0.0 {
                return None;
            }
            within / b
        } else {
            let discriminant = (b * b + 4.0 * a * within).max(0.0);
            let denominator = b + discriminant.sqrt();
            if denominator <= 0.0 {
                return None;
            }
            2.0 * within / denominator
        };
        Some(Duration::from_secs_f64(segment.start_s + t.max(0.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn hold_gives_exact_count_and_even_spacing() {
        let schedule = ArrivalSchedule::new(&[Stage::Hold {
            rate: 20_000.0,
            duration: secs(10.0),
        }]);
        assert_eq!(schedule.total(), 200_000);
        assert_eq!(schedule.due(0), Some(Duration::ZERO));
        let d = schedule.due(20_000).unwrap().as_secs_f64();
        assert!((d - 1.0).abs() < 1e-9, "{d}");
        assert_eq!(schedule.due(200_000), None);
        assert_eq!(schedule.due_before(secs(1.0)), 20_000);
        assert_eq!(schedule.due_before(secs(60.0)), 200_000);
        assert_eq!(schedule.due_before(Duration::ZERO), 0);
    }

    #[test]
    fn ramp_counts_the_area_under_the_rate() {
        let schedule = ArrivalSchedule::new(&[
            Stage::Ramp {
                from: 0.0,
                to: 100.0,
                duration: secs(10.0),
            },
            Stage::Hold {
                rate: 100.0,
                duration: secs(1.0),
            },
        ]);
        assert_eq!(schedule.total(), 600);
        // N(t) = 5 t^2 in the ramp, so arrival 125 is due at t = 5.
        let d = schedule.due(125).unwrap().as_secs_f64();
        assert!((d - 5.0).abs() < 1e-6, "{d}");
        let d = schedule.due(550).unwrap().as_secs_f64();
        assert!((d - 10.5).abs() < 1e-6, "{d}");
        let mut last = Duration::ZERO;
        for k in 0..600 {
            let due = schedule.due(k).unwrap();
            assert!(due >= last);
            last = due;
        }
    }

    #[test]
    fn ramp_down_and_zero_rate_stages() {
        let schedule = ArrivalSchedule::new(&[
            Stage::Hold {
                rate: 0.0,
                duration: secs(2.0),
            },
            Stage::Ramp {
                from: 10.0,
                to: 0.0,
                duration: secs(2.0),
            },
        ]);
        assert_eq!(schedule.total(), 10);
        let first = schedule.due(0).unwrap().as_secs_f64();
        assert!((first - 2.0).abs() < 1e-9);
        assert!(schedule.due(9).unwrap() < secs(4.0));
    }
}
