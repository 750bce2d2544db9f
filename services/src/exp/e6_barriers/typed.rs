//! E6's record as a type: what core 0 writes and the host reads.

use core::fmt;

use crate::exp::record::{Centi, FieldError, Fields, Record};
use crate::exp::start::start_fields;

start_fields! {
    /// E6's own fields of `exp-start`.
    BarrierStart {
        /// Timed episodes per round.
        episodes: u64 = int,
        /// Checked episodes per round.
        checked: u64 = int,
        /// Fan-in and fan-out of `msg-tree`.
        arity: u32 = small,
        /// Episodes per sample.
        batch: u64 = int,
        /// Barriers.
        points: u64 = int,
    }
}

/// A `barrier-point` record: one barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierPoint<'a> {
    /// The barrier (`sense`, ..., `msg-dissemination`).
    pub series: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// Fan-in and fan-out of `msg-tree`.
    pub arity: u32,
    /// Episodes per core, all rounds.
    pub episodes: u64,
    /// Median over cores of each one's median cycles per episode.
    pub cycles: Centi,
    /// Largest per-core 99th percentile.
    pub p99: Centi,
    /// Smallest per-core median.
    pub min_core: Centi,
    /// Largest per-core median.
    pub max_core: Centi,
    /// Samples.
    pub samples: u64,
    /// The `tsc_begin`/`tsc_end` overhead subtracted.
    pub tsc_overhead: u64,
}

impl<'a> Record<'a> for BarrierPoint<'a> {
    const KIND: &'static str = "barrier-point";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "series={} cores={} arity={} episodes={} cycles={} p99={} min_core={} max_core={} samples={} tsc_overhead={}",
            self.series,
            self.cores,
            self.arity,
            self.episodes,
            self.cycles,
            self.p99,
            self.min_core,
            self.max_core,
            self.samples,
            self.tsc_overhead
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(BarrierPoint {
            series: r.text("series")?,
            cores: r.small("cores")?,
            arity: r.small("arity")?,
            episodes: r.int("episodes")?,
            cycles: r.centi("cycles")?,
            p99: r.centi("p99")?,
            min_core: r.centi("min_core")?,
            max_core: r.centi("max_core")?,
            samples: r.int("samples")?,
            tsc_overhead: r.int("tsc_overhead")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::record::round_trip;
    use alloc::string::String;

    #[test]
    fn the_record_prints_as_before_and_reads_back() {
        let point = BarrierPoint {
            series: "msg-tree",
            cores: 4,
            arity: 4,
            episodes: 2250,
            cycles: Centi(123_456),
            p99: Centi(200_000),
            min_core: Centi(100_000),
            max_core: Centi(130_001),
            samples: 280,
            tsc_overhead: 40,
        };
        round_trip(
            &point,
            "series=msg-tree cores=4 arity=4 episodes=2250 cycles=1234.56 p99=2000.00 min_core=1000.00 max_core=1300.01 samples=280 tsc_overhead=40",
            &mut String::new(),
        );
    }
}
