//! Random histories with known answers, for tests and the benchmark.
//!
//! [`linearizable`] simulates clients against a real linearizable map:
//! each operation takes effect at a random instant inside its interval,
//! and reads return what the map holds at that instant. [`sequential`]
//! simulates a replicated map whose writes go through one global log and
//! whose reads are served by each core's replica, which may lag the log
//! (but always includes the core's own writes): sequentially consistent,
//! and usually not linearizable.

use std::collections::HashMap;

use services::rng::Rng;

use super::history::{History, Kind, Op};

/// The shape of a generated history.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Operations in all.
    pub ops: usize,
    /// Keys, `0..keys`.
    pub keys: u64,
    /// Cores (clients), each with one operation outstanding at a time.
    pub cores: u32,
    /// Writes per hundred operations.
    pub write_percent: u64,
    /// Longest operation, in cycles (each takes `1..=max_latency`).
    pub max_latency: u64,
    /// Longest gap between a core's operations, in cycles.
    pub max_think: u64,
    /// The seed.
    pub seed: u64,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            ops: 1_000,
            keys: 10,
            cores: 8,
            write_percent: 30,
            max_latency: 2_000,
            max_think: 500,
            seed: 1,
        }
    }
}

/// Intervals for `shape`: each core issues its next operation after the
/// previous one responds. Returns (core, key, write?, invoke, response).
fn intervals(shape: &Shape, rng: &mut Rng) -> Vec<(u32, u64, bool, u64, u64)> {
    let cores = shape.cores.max(1);
    let mut clock = vec![0u64; cores as usize];
    let mut out = Vec::with_capacity(shape.ops);
    for _ in 0..shape.ops {
        // The core that is free first goes next, so intervals interleave.
        let core = (0..cores as usize).min_by_key(|&c| clock[c]).unwrap_or(0);
        let invoke = clock[core] + rng.below(shape.max_think + 1);
        let response = invoke + 1 + rng.below(shape.max_latency.max(1));
        clock[core] = response + 1;
        let key = rng.below(shape.keys.max(1));
        let write = rng.below(100) < shape.write_percent;
        out.push((core as u32, key, write, invoke, response));
    }
    out
}

fn sorted(mut ops: Vec<Op>) -> History {
    // As a recorder would write them: in order of response.
    ops.sort_by_key(|o| (o.response, o.core));
    History::new(ops)
}

/// A linearizable history of `shape`; written values are unique.
pub fn linearizable(shape: &Shape) -> History {
    let mut rng = Rng::new(shape.seed);
    let spans = intervals(shape, &mut rng);
    let mut points: Vec<(u64, usize)> = spans
        .iter()
        .enumerate()
        .map(|(i, &(_, _, _, invoke, response))| (invoke + rng.below(response - invoke + 1), i))
        .collect();
    points.sort_unstable();
    let mut map: HashMap<u64, u64> = HashMap::new();
    let mut ops: Vec<Option<Op>> = vec![None; spans.len()];
    let mut next_value = 1;
    for (_, i) in points {
        let (core, key, write, invoke, response) = spans[i];
        ops[i] = Some(if write {
            map.insert(key, next_value);
            next_value += 1;
            Op::write(core, key, next_value - 1, invoke, response)
        } else {
            Op::read(
                core,
                key,
                map.get(&key).copied().unwrap_or(0),
                invoke,
                response,
            )
        });
    }
    sorted(ops.into_iter().flatten().collect())
}

/// A sequentially consistent history of `shape` from a replicated map
/// whose replicas trail the write log by up to `max_lag` writes.
pub fn sequential(shape: &Shape, max_lag: u64) -> History {
    let mut rng = Rng::new(shape.seed);
    let spans = intervals(shape, &mut rng);
    // Operations in invocation order, as the replicas see them.
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| (spans[i].3, i));
    let mut replica = vec![0usize; shape.cores.max(1) as usize];
    // Per key: (log position, value) in log order.
    let mut versions: HashMap<u64, Vec<(usize, u64)>> = HashMap::new();
    let mut log_len = 0usize;
    let mut ops = Vec::with_capacity(spans.len());
    for i in order {
        let (core, key, write, invoke, response) = spans[i];
        let c = core as usize;
        if write {
            log_len += 1;
            let value = log_len as u64;
            versions.entry(key).or_default().push((log_len, value));
            replica[c] = log_len;
            ops.push(Op::write(core, key, value, invoke, response));
        } else {
            let behind = rng.below(max_lag + 1) as usize;
            replica[c] = replica[c].max(log_len.saturating_sub(behind));
            let seen = replica[c];
            let value = versions.get(&key).map_or(0, |vs| {
                let n = vs.partition_point(|&(at, _)| at <= seen);
                if n == 0 { 0 } else { vs[n - 1].1 }
            });
            ops.push(Op {
                kind: Kind::Read,
                ..Op::write(core, key, value, invoke, response)
            });
        }
    }
    sorted(ops)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::check::outcome::{Deadline, Verdict};
    use crate::check::{lin, seq};

    fn d() -> Deadline {
        Deadline::new(Duration::from_secs(30))
    }

    #[test]
    fn generated_linearizable_histories_check_as_such() {
        for seed in 0..20 {
            let shape = Shape {
                ops: 400,
                keys: 3,
                cores: 6,
                seed,
                ..Shape::default()
            };
            let h = linearizable(&shape);
            assert_eq!(h.ops.len(), 400);
            assert!(lin::check(&h, 0, &d()).verdict.holds(), "seed {seed}");
            let full = seq::check_with(&h, &d(), seq::SeqOptions { fast_checks: false });
            assert!(full.verdict.holds(), "seed {seed}: {full:?}");
        }
    }

    #[test]
    fn generated_sequential_histories_are_sequential_but_mostly_not_linearizable() {
        let mut not_lin = 0;
        for seed in 0..20 {
            let shape = Shape {
                ops: 300,
                keys: 4,
                cores: 5,
                seed,
                ..Shape::default()
            };
            let h = sequential(&shape, 8);
            let r = seq::check(&h, &d());
            assert_eq!(r.verdict, Verdict::Holds, "seed {seed}: {r:?}");
            if !lin::check(&h, 0, &d()).verdict.holds() {
                not_lin += 1;
            }
        }
        assert!(not_lin >= 15, "{not_lin} of 20");
    }

    #[test]
    fn a_corrupted_read_is_caught() {
        let shape = Shape {
            ops: 500,
            keys: 5,
            seed: 7,
            ..Shape::default()
        };
        let mut h = linearizable(&shape);
        // Make a read that follows a completed write to its key return the
        // key's initial value.
        let i = (h.ops.len() / 2..h.ops.len())
            .find(|&i| {
                let r = h.ops[i];
                r.kind == Kind::Read
                    && h.ops
                        .iter()
                        .any(|w| w.kind == Kind::Write && w.key == r.key && w.response < r.invoke)
            })
            .expect("a read after a write");
        h.ops[i].value = 0;
        let r = lin::check(&h, 0, &d());
        let Verdict::Violated(c) = r.verdict else {
            panic!("{r:?}")
        };
        assert!(c.minimal && c.ops.contains(&i), "{c:?}");
        assert_eq!(c.ops.len(), 2, "{c:?}");
    }
}
