//! Staleness: how far behind each read is.
//!
//! Intervals are widened by the skew, as for linearizability, so "before"
//! means "before whatever the skew". For a read `r` of key `k` that
//! returned `v`:
//!
//! - its **source** is the write of `v` to `k` most favourable to it: the
//!   one, among those invoked before `r` responded, that responded last
//!   (when no write of 0 qualifies, a read of 0 has the initial value as
//!   its source, older than every write);
//! - **versions** counts the writes to `k` that completed before `r` was
//!   invoked and were invoked after the source completed: newer values `r`
//!   should have seen;
//! - **lag** is, when versions > 0, the cycles from the latest of those
//!   writes' responses to `r`'s invocation (recorded times): how long the
//!   newest value it missed had been in place; 0 otherwise.
//!
//! A linearizable history has no stale read. A read of a value nobody
//! wrote has no source and is counted as unexplained instead.

use super::hash::FxHashMap;
use super::history::{History, Kind};
use super::lin::by_key;

/// One read's staleness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadStaleness {
    /// Index of the read in the history.
    pub op: usize,
    /// Newer completed writes it missed.
    pub versions: u64,
    /// Cycles it trails the newest write it missed.
    pub lag: u64,
}

/// Median, 99th percentile and maximum (nearest rank).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spread {
    /// Median.
    pub median: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Maximum.
    pub max: u64,
}

impl Spread {
    /// The spread of `values` (all zero when empty).
    pub fn of(mut values: Vec<u64>) -> Spread {
        if values.is_empty() {
            return Spread::default();
        }
        values.sort_unstable();
        let rank = |p: f64| {
            let r = (p * values.len() as f64).ceil() as usize;
            values[r.clamp(1, values.len()) - 1]
        };
        Spread {
            median: rank(0.5),
            p99: rank(0.99),
            max: values[values.len() - 1],
        }
    }
}

/// The staleness of every read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staleness {
    /// Each explained read, in history order.
    pub reads: Vec<ReadStaleness>,
    /// Reads of a value no write to their key wrote (other than 0).
    pub unexplained: usize,
}

impl Staleness {
    /// Reads that missed at least one version.
    pub fn stale(&self) -> usize {
        self.reads.iter().filter(|r| r.versions > 0).count()
    }

    /// The spread of versions missed, over all explained reads.
    pub fn versions(&self) -> Spread {
        Spread::of(self.reads.iter().map(|r| r.versions).collect())
    }

    /// The spread of lag in cycles, over all explained reads.
    pub fn lag(&self) -> Spread {
        Spread::of(self.reads.iter().map(|r| r.lag).collect())
    }
}

/// Measures every read of `history`, intervals widened by `skew`.
pub fn measure(history: &History, skew: u64) -> Staleness {
    let inv = |i: usize| history.ops[i].invoke.saturating_sub(skew);
    let resp = |i: usize| history.ops[i].response.saturating_add(skew);
    let mut reads = Vec::new();
    let mut unexplained = 0;
    for ops in by_key(history).into_values() {
        let mut writes: Vec<usize> = ops
            .iter()
            .copied()
            .filter(|&i| history.ops[i].kind == Kind::Write)
            .collect();
        writes.sort_unstable_by_key(|&i| inv(i));
        let mut by_value: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
        for &w in &writes {
            by_value.entry(history.ops[w].value).or_default().push(w);
        }
        for &r in ops.iter().filter(|&&i| history.ops[i].kind == Kind::Read) {
            let value = history.ops[r].value;
            let written = by_value.get(&value).and_then(|ws| {
                ws.iter()
                    .copied()
                    .filter(|&w| inv(w) <= resp(r))
                    .map(resp)
                    .max()
            });
            let source_done = match (written, value) {
                (Some(t), _) => Some(t),
                (None, 0) => None,
                (None, _) => {
                    unexplained += 1;
                    continue;
                }
            };
            // Writes invoked after the source completed and before the
            // read was invoked; count those that also completed by then.
            let from = source_done.map_or(0, |t| writes.partition_point(|&w| inv(w) <= t));
            let to = writes.partition_point(|&w| inv(w) < inv(r));
            let mut versions = 0;
            let mut newest = None;
            for &w in writes.get(from..to).unwrap_or(&[]) {
                if resp(w) < inv(r) {
                    versions += 1;
                    newest = newest.max(Some(history.ops[w].response));
                }
            }
            let lag = newest.map_or(0, |t| history.ops[r].invoke.saturating_sub(t));
            reads.push(ReadStaleness {
                op: r,
                versions,
                lag,
            });
        }
    }
    reads.sort_unstable_by_key(|r| r.op);
    Staleness { reads, unexplained }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::history::Op;

    #[test]
    fn counts_the_versions_a_read_missed() {
        let h = History::new(vec![
            Op::write(0, 1, 1, 0, 10),
            Op::write(0, 1, 2, 20, 30),
            Op::write(0, 1, 3, 40, 50),
            Op::read(1, 1, 1, 100, 110),
            Op::read(1, 1, 3, 120, 130),
            Op::read(2, 1, 0, 45, 46),
            Op::read(2, 1, 77, 1, 2),
        ]);
        let s = measure(&h, 0);
        assert_eq!(s.unexplained, 1);
        assert_eq!(
            s.reads,
            vec![
                ReadStaleness {
                    op: 3,
                    versions: 2,
                    lag: 50
                },
                ReadStaleness {
                    op: 4,
                    versions: 0,
                    lag: 0
                },
                ReadStaleness {
                    op: 5,
                    versions: 2,
                    lag: 15
                },
            ]
        );
        assert_eq!(s.stale(), 2);
        assert_eq!(
            s.versions(),
            Spread {
                median: 2,
                p99: 2,
                max: 2
            }
        );
        // With a large skew nothing is known to have completed first.
        assert_eq!(measure(&h, 100).stale(), 0);
    }

    #[test]
    fn a_concurrent_write_is_not_a_missed_version() {
        let h = History::new(vec![Op::write(0, 1, 1, 0, 10), Op::read(1, 1, 0, 5, 15)]);
        assert_eq!(measure(&h, 0).stale(), 0);
    }

    #[test]
    fn spread_uses_nearest_rank() {
        let s = Spread::of((1..=100).collect());
        assert_eq!((s.median, s.p99, s.max), (50, 99, 100));
        assert_eq!(Spread::of(vec![]), Spread::default());
    }
}
