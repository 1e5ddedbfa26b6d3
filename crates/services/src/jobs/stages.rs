//! Where a worker's time goes: process-wide tallies of how long each stage of running a job
//! took (waiting in the queue past its due time, the claim, and the publish job's own steps),
//! kept as counts in logarithmic buckets so that recording is a few atomic additions and the
//! percentiles are within 19% of the truth.
//!
//! The scheduler benchmark prints them per worker process; a worker logs them when it stops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A stage of running a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// From the job's due time to its claim (lateness before any work).
    Queued,
    /// One claiming transaction (a batch of jobs, with their slots).
    Claim,
    /// Reading what a publish request needs: the target, its files, the sealed token opened.
    Prepare,
    /// The transaction that writes the attempt as started.
    Begin,
    /// The platform's call.
    Call,
    /// The transaction that writes the platform's answer.
    Settle,
    /// Marking the job done (or failed) and freeing its slots.
    Finish,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Queued,
        Stage::Claim,
        Stage::Prepare,
        Stage::Begin,
        Stage::Call,
        Stage::Settle,
        Stage::Finish,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Queued => "queued past due",
            Stage::Claim => "claim",
            Stage::Prepare => "prepare",
            Stage::Begin => "attempt written",
            Stage::Call => "platform call",
            Stage::Settle => "result written",
            Stage::Finish => "job finished",
        }
    }
}

/// Buckets per doubling: each bucket's upper bound is 2^(1/4) ≈ 1.19 times the one before.
const PER_OCTAVE: f64 = 4.0;
/// Enough buckets for 1 µs to about 18 hours.
const BUCKETS: usize = 144;

struct Tally {
    count: AtomicU64,
    total_us: AtomicU64,
    max_us: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
}

impl Tally {
    const fn new() -> Self {
        Self {
            count: AtomicU64::new(0),
            total_us: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
            buckets: [const { AtomicU64::new(0) }; BUCKETS],
        }
    }
}

static TALLIES: [Tally; Stage::ALL.len()] = [const { Tally::new() }; Stage::ALL.len()];

fn bucket_of(us: u64) -> usize {
    if us <= 1 {
        return 0;
    }
    let b = ((us as f64).log2() * PER_OCTAVE).ceil() as usize;
    b.min(BUCKETS - 1)
}

fn upper_bound_us(bucket: usize) -> f64 {
    2f64.powf(bucket as f64 / PER_OCTAVE)
}

/// Records that `stage` took `took`.
pub fn record(stage: Stage, took: Duration) {
    TALLIES[stage as usize].record(took);
}

/// Runs `work` and records how long it took as `stage`.
pub async fn timed<T>(stage: Stage, work: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = work.await;
    record(stage, started.elapsed());
    out
}

/// One stage's figures so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub stage: Stage,
    pub count: u64,
    pub mean: Duration,
    /// Upper bounds of the buckets holding the 50th and 99th percentiles.
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Tally {
    fn record(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.total_us.fetch_add(us, Ordering::Relaxed);
        self.max_us.fetch_max(us, Ordering::Relaxed);
        self.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
    }

    fn figures(&self, stage: Stage) -> Option<Figures> {
        let count = self.count.load(Ordering::Relaxed);
        if count == 0 {
            return None;
        }
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let max_us = self.max_us.load(Ordering::Relaxed);
        let at = |q: f64| {
            let rank = ((count as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, n) in counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    let bound = upper_bound_us(i).min(max_us as f64);
                    return Duration::from_micros(bound as u64);
                }
            }
            Duration::from_micros(max_us)
        };
        Some(Figures {
            stage,
            count,
            mean: Duration::from_micros(self.total_us.load(Ordering::Relaxed) / count),
            p50: at(0.5),
            p99: at(0.99),
            max: Duration::from_micros(max_us),
        })
    }
}

/// Every stage's figures so far (stages never recorded are left out).
pub fn snapshot() -> Vec<Figures> {
    Stage::ALL
        .iter()
        .filter_map(|&stage| TALLIES[stage as usize].figures(stage))
        .collect()
}

/// The figures as lines `stage<TAB>count<TAB>mean µs<TAB>p50 µs<TAB>p99 µs<TAB>max µs`.
pub fn report() -> String {
    snapshot()
        .iter()
        .map(|f| {
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                f.stage.name(),
                f.count,
                f.mean.as_micros(),
                f.p50.as_micros(),
                f.p99.as_micros(),
                f.max.as_micros()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_holds_its_value_within_a_fifth() {
        for us in [2u64, 3, 10, 999, 1_000, 50_000, 3_600_000_000] {
            let bound = upper_bound_us(bucket_of(us));
            assert!(
                bound >= us as f64,
                "{us} µs above its bucket's bound {bound}"
            );
            assert!(
                bound < us as f64 * 1.19 + 1.0,
                "{us} µs: bound {bound} too far"
            );
        }
    }

    #[test]
    fn percentiles_come_from_what_was_recorded() {
        let tally = Tally::new();
        assert_eq!(tally.figures(Stage::Call), None, "nothing recorded yet");
        for ms in 1..=100 {
            tally.record(Duration::from_millis(ms));
        }
        let f = tally.figures(Stage::Call).expect("recorded");
        assert_eq!(f.count, 100);
        assert_eq!(f.max, Duration::from_millis(100));
        assert!(
            f.p50 >= Duration::from_millis(50) && f.p50 < Duration::from_millis(60),
            "{f:?}"
        );
        assert!(
            f.p99 >= Duration::from_millis(99) && f.p99 <= Duration::from_millis(100),
            "{f:?}"
        );
        assert!(f.mean >= Duration::from_micros(50_400) && f.mean <= Duration::from_micros(50_600));
    }
}
