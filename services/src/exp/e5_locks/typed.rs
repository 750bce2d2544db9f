//! E5's record as a type: what core 0 writes and the host reads.

use core::fmt;

use crate::exp::record::{Centi, FieldError, Fields, OrNa, Record};
use crate::exp::start::start_fields;

start_fields! {
    /// E5's own fields of `exp-start`.
    LockStart {
        /// Most acquisitions per core per round.
        acquisitions: u64 = int,
        /// Shared cache lines of the critical section.
        cs_lines: u32 = small,
        /// Acquisitions per sample.
        batch: u64 = int,
        /// Locks.
        points: u64 = int,
    }
}

/// A `lock-point` record: one lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockPoint<'a> {
    /// The lock (`tas`, ..., `msg-queue`).
    pub series: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// Shared cache lines of the critical section.
    pub cs_lines: u32,
    /// Cores that took the lock.
    pub participants: u32,
    /// Acquisitions, all participants and rounds.
    pub acquisitions: u64,
    /// Wall time: the slowest core's elapsed cycles over all rounds.
    pub cycles: u64,
    /// Acquisitions per million cycles.
    pub tput: Centi,
    /// Median over participants of each one's median cycles per
    /// acquisition.
    pub latency: Centi,
    /// Largest per-core 99th percentile.
    pub p99: Centi,
    /// Fewest acquisitions of one core.
    pub min_core: u64,
    /// Most acquisitions of one core.
    pub max_core: u64,
    /// Longest run of grants to one core (`na` for delegation).
    pub max_run: Option<u64>,
    /// Samples.
    pub samples: u64,
    /// The `tsc_begin`/`tsc_end` overhead subtracted.
    pub tsc_overhead: u64,
    /// The slowest timed batch of any participant, per acquisition: with
    /// `cycles`, it shows how much of the wall time a few batches took
    /// (a preempted thread on a loaded host). Older logs lack it.
    pub slowest: Option<Centi>,
}

impl<'a> Record<'a> for LockPoint<'a> {
    const KIND: &'static str = "lock-point";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "series={} cores={} cs_lines={} participants={} acquisitions={} cycles={} tput={} latency={} p99={} min_core={} max_core={} max_run={} samples={} tsc_overhead={}",
            self.series,
            self.cores,
            self.cs_lines,
            self.participants,
            self.acquisitions,
            self.cycles,
            self.tput,
            self.latency,
            self.p99,
            self.min_core,
            self.max_core,
            OrNa(self.max_run),
            self.samples,
            self.tsc_overhead
        )?;
        match self.slowest {
            Some(v) => write!(f, " slowest={v}"),
            None => Ok(()),
        }
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(LockPoint {
            series: r.text("series")?,
            cores: r.small("cores")?,
            cs_lines: r.small("cs_lines")?,
            participants: r.small("participants")?,
            acquisitions: r.int("acquisitions")?,
            cycles: r.int("cycles")?,
            tput: r.centi("tput")?,
            latency: r.centi("latency")?,
            p99: r.centi("p99")?,
            min_core: r.int("min_core")?,
            max_core: r.int("max_core")?,
            max_run: r.or_na("max_run", Fields::int)?,
            samples: r.int("samples")?,
            tsc_overhead: r.int("tsc_overhead")?,
            slowest: r.optional("slowest", Fields::centi)?,
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
        let mut point = LockPoint {
            series: "mcs",
            cores: 2,
            cs_lines: 1,
            participants: 2,
            acquisitions: 4000,
            cycles: 1_000_000,
            tput: Centi(400_000),
            latency: Centi(25_050),
            p99: Centi(90_000),
            min_core: 1990,
            max_core: 2010,
            max_run: Some(7),
            samples: 120,
            tsc_overhead: 40,
            slowest: None,
        };
        round_trip(
            &point,
            "series=mcs cores=2 cs_lines=1 participants=2 acquisitions=4000 cycles=1000000 tput=4000.00 latency=250.50 p99=900.00 min_core=1990 max_core=2010 max_run=7 samples=120 tsc_overhead=40",
            &mut String::new(),
        );
        point.max_run = None;
        round_trip(
            &point,
            "series=mcs cores=2 cs_lines=1 participants=2 acquisitions=4000 cycles=1000000 tput=4000.00 latency=250.50 p99=900.00 min_core=1990 max_core=2010 max_run=na samples=120 tsc_overhead=40",
            &mut String::new(),
        );
        point.slowest = Some(Centi(1_234_567));
        round_trip(
            &point,
            "series=mcs cores=2 cs_lines=1 participants=2 acquisitions=4000 cycles=1000000 tput=4000.00 latency=250.50 p99=900.00 min_core=1990 max_core=2010 max_run=na samples=120 tsc_overhead=40 slowest=12345.67",
            &mut String::new(),
        );
    }
}
