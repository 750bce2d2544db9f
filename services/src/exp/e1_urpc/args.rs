//! E1's arguments (`exp=urpc`).
//!
//! | key | value | default |
//! |---|---|---|
//! | `pairs` | `all` (every ordered pair) or `adjacent` (`i→i+1` and `i+1→i`) | `all` up to 4 cores, else `from=0` |
//! | `from` | a core id: the pairs `from→j` for every other core `j` | see `pairs` |
//! | `samples` | round trips per round (rounded up to whole batches of `rtt-batch`), 1..=1000000 | 10000, quick 1000 |
//! | `rtt-batch` | round trips timed together per latency sample (raw ping-pong and URPC alike), 1..=4096 | 32 |
//! | `batch` | messages per throughput sample, 1..=100000 | 1000, quick 100 |
//! | `tp-samples` | throughput samples per round, 1..=100000 | 200, quick 40 |
//! | `slots` | slots per ring, 2..=4096 | 60 |
//!
//! `pairs` and `from` exclude each other.
//!
//! **Memory.** A core keeps the round-trip samples of one pair, every
//! round, in its heap, and sorts a copy: at most `5 · 8 · rounds · samples`
//! bytes (and `3 · 8 · rounds · tp-samples` for throughput). A request
//! whose samples do not fit [`SAMPLE_HEAP_BYTES`] is refused when it is
//! parsed, with [`ArgsError::TooLarge`] giving the largest value that
//! fits.

use core::fmt;

use crate::exp::request::{ArgsError, Request, SAMPLE_HEAP_BYTES, bad, number, set, write_set};

/// Heap bytes per round and round trip of the latencies (four series and
/// the sorted copy of one, 8 bytes a sample, at most one sample per round
/// trip).
const RTT_BYTES_PER_SAMPLE: u64 = 5 * 8;
/// Heap bytes per round and sample of the throughput (two series and a
/// copy).
const TP_BYTES_PER_SAMPLE: u64 = 3 * 8;

/// The keys, in the order they are printed.
pub(super) const KEYS: [&str; 7] = [
    "pairs",
    "from",
    "samples",
    "rtt-batch",
    "batch",
    "tp-samples",
    "slots",
];

/// Which ordered core pairs E1 measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pairs {
    /// Every ordered pair `(a, b)`, `a ≠ b`.
    All,
    /// `(i, i+1)` and `(i+1, i)` for every `i`.
    Adjacent,
    /// `(from, j)` for every core `j ≠ from`.
    From(u32),
}

/// Parameters of E1 (`exp=urpc`); `None` means the default for the mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct UrpcArgs {
    /// `pairs=` or `from=`.
    pub pairs: Option<Pairs>,
    /// `samples=`.
    pub samples: Option<u32>,
    /// `rtt-batch=`.
    pub rtt_batch: Option<u32>,
    /// `batch=`.
    pub batch: Option<u32>,
    /// `tp-samples=`.
    pub tp_samples: Option<u32>,
    /// `slots=`.
    pub slots: Option<u32>,
}

impl UrpcArgs {
    /// Round trips per round in effect.
    pub fn samples_in_effect(&self, quick: bool) -> u32 {
        self.samples.unwrap_or(if quick { 1000 } else { 10_000 })
    }

    /// Round trips per latency sample in effect.
    pub fn rtt_batch_in_effect(&self) -> u64 {
        self.rtt_batch.map_or(urpc::bench::DEFAULT_BATCH, u64::from)
    }

    /// Throughput samples per round in effect.
    pub fn tp_samples_in_effect(&self, quick: bool) -> u32 {
        self.tp_samples.unwrap_or(if quick { 40 } else { 200 })
    }

    /// Parses `key=value` if `key` is E1's.
    pub(super) fn parse_key(&mut self, key: &str, value: &str) -> Result<bool, ArgsError> {
        match key {
            "pairs" | "from" => {
                let p = if key == "from" {
                    Pairs::From(number(key, value, 0, u32::MAX - 1, "a core id")?)
                } else {
                    match value {
                        "all" => Pairs::All,
                        "adjacent" => Pairs::Adjacent,
                        _ => return Err(bad(key, value, "all or adjacent")),
                    }
                };
                let key: &'static str = if key == "from" { "from" } else { "pairs" };
                match (self.pairs, key) {
                    (Some(Pairs::From(_)), "pairs") => {
                        return Err(ArgsError::Conflict("from", key));
                    }
                    (Some(Pairs::All | Pairs::Adjacent), "from") => {
                        return Err(ArgsError::Conflict("pairs", key));
                    }
                    _ => set(&mut self.pairs, key, p)?,
                }
            }
            "samples" => {
                let n = number(key, value, 1, 1_000_000, "1..=1000000")?;
                set(&mut self.samples, key, n)?;
            }
            "rtt-batch" => {
                let n = number(key, value, 1, 4096, "1..=4096")?;
                set(&mut self.rtt_batch, key, n)?;
            }
            "batch" => {
                let n = number(key, value, 1, 100_000, "1..=100000")?;
                set(&mut self.batch, key, n)?;
            }
            "tp-samples" => {
                let n = number(key, value, 1, 100_000, "1..=100000")?;
                set(&mut self.tp_samples, key, n)?;
            }
            "slots" => set(
                &mut self.slots,
                key,
                number(key, value, 2, 4096, "2..=4096")?,
            )?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Refuses samples that do not fit a core's heap.
    pub(super) fn check(&self, req: &Request) -> Result<(), ArgsError> {
        let rounds = u64::from(req.rounds());
        let series = [
            (
                "samples",
                self.samples.is_some(),
                u64::from(self.samples_in_effect(req.quick)),
                RTT_BYTES_PER_SAMPLE,
            ),
            (
                "tp-samples",
                self.tp_samples.is_some(),
                u64::from(self.tp_samples_in_effect(req.quick)),
                TP_BYTES_PER_SAMPLE,
            ),
        ];
        for (key, given, samples, bytes) in series {
            if rounds * samples * bytes <= SAMPLE_HEAP_BYTES {
                continue;
            }
            // Name the value the user gave: the samples, or else the rounds.
            return Err(if given || req.rounds.is_none() {
                ArgsError::TooLarge {
                    key,
                    value: samples,
                    max: SAMPLE_HEAP_BYTES / (rounds * bytes),
                }
            } else {
                ArgsError::TooLarge {
                    key: "rounds",
                    value: rounds,
                    max: SAMPLE_HEAP_BYTES / (samples * bytes),
                }
            });
        }
        Ok(())
    }

    /// Prints the arguments that were set.
    pub(super) fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pairs {
            Some(Pairs::All) => f.write_str(",pairs=all")?,
            Some(Pairs::Adjacent) => f.write_str(",pairs=adjacent")?,
            Some(Pairs::From(c)) => write!(f, ",from={c}")?,
            None => {}
        }
        write_set(
            f,
            &[
                ("samples", self.samples),
                ("rtt-batch", self.rtt_batch),
                ("batch", self.batch),
                ("tp-samples", self.tp_samples),
                ("slots", self.slots),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::Params;
    use crate::exp::request::assert_bad_values;
    use alloc::format;

    fn args(s: &str) -> UrpcArgs {
        match Request::parse(s).unwrap().unwrap().params {
            Params::Urpc(u) => u,
            p => panic!("{p:?}"),
        }
    }

    fn err(s: &str) -> ArgsError {
        Request::parse(s).unwrap_err()
    }

    #[test]
    fn parses() {
        let u = args(" exp=urpc , from=2,samples=5,rounds=1, ");
        assert_eq!(u.pairs, Some(Pairs::From(2)));
        assert_eq!(u.samples, Some(5));
        assert_eq!(u.rtt_batch_in_effect(), urpc::bench::DEFAULT_BATCH);
        assert_eq!(args("exp=urpc,rtt-batch=1").rtt_batch_in_effect(), 1);
    }

    #[test]
    fn refuses_bad_arguments() {
        assert_eq!(
            err("exp=urpc,pairs=all,from=0"),
            ArgsError::Conflict("pairs", "from")
        );
        assert_eq!(
            err("exp=urpc,from=0,pairs=all"),
            ArgsError::Conflict("from", "pairs")
        );
        assert_eq!(
            err("exp=urpc,pairs=all,pairs=adjacent"),
            ArgsError::Repeated("pairs".into())
        );
        assert_bad_values("exp=urpc", "pairs=some slots=1 rtt-batch=0 rtt-batch=4097");
    }

    #[test]
    fn samples_that_cannot_fit_a_heap_are_refused_with_the_largest_that_fits() {
        let err = err("exp=urpc,quick,samples=1000000");
        let ArgsError::TooLarge { key, value, max } = err else {
            panic!("{err:?}")
        };
        assert_eq!((key, value), ("samples", 1_000_000));
        // Quick runs two rounds: the largest value fits, one more does not.
        assert_eq!(max, SAMPLE_HEAP_BYTES / (2 * RTT_BYTES_PER_SAMPLE));
        assert!(Request::parse(&format!("exp=urpc,quick,samples={max}")).is_ok());
        assert!(Request::parse(&format!("exp=urpc,quick,samples={}", max + 1)).is_err());
        assert!(format!("{err}").contains(&format!("largest samples that fits is {max}")));
        // Rounds alone can break the budget too, and are named then.
        let err = Request::parse("exp=urpc,samples=10000,rounds=1000").unwrap_err();
        assert!(
            matches!(err, ArgsError::TooLarge { key: "samples", .. }),
            "{err:?}"
        );
        let err = Request::parse("exp=urpc,rounds=1000").unwrap_err();
        assert!(
            matches!(err, ArgsError::TooLarge { key: "rounds", .. }),
            "{err:?}"
        );
        let err = Request::parse("exp=urpc,samples=1,rounds=100,tp-samples=100000").unwrap_err();
        assert!(
            matches!(
                err,
                ArgsError::TooLarge {
                    key: "tp-samples",
                    ..
                }
            ),
            "{err:?}"
        );
        // The defaults fit, and E2 is bounded whatever it is asked.
        assert!(Request::parse("exp=urpc").is_ok());
        assert!(Request::parse("exp=update-cost,rounds=1000,updates=10000000").is_ok());
    }
}
