//! E2's records as types: what core 0 writes and the host reads.

use core::fmt;

use crate::exp::record::{Centi, FieldError, Fields, Record};
use crate::exp::start::start_fields;

start_fields! {
    /// E2's own fields of `exp-start`.
    UpdateStart {
        /// Most updates per core per round.
        updates: u64 = int,
        /// Longest round, milliseconds.
        ms: u64 = int,
        /// Points (series and line counts).
        points: u64 = int,
        /// The server core.
        server: u32 = small,
        /// Updates or RPCs per sample.
        batch: u64 = int,
    }
}

/// An `update-cost` record: one point of one series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdatePoint<'a> {
    /// `shm`, `shm-atomic`, `shm-lock`, `msg-client` or `msg-server`.
    pub series: &'a str,
    /// Cache lines.
    pub k: u32,
    /// Cores in the run.
    pub cores: u32,
    /// Median over the series' cores of each core's median cycles per
    /// update.
    pub cycles: Centi,
    /// Largest per-core 99th percentile.
    pub p99: Centi,
    /// Smallest per-core median.
    pub min_core: Centi,
    /// Largest per-core median.
    pub max_core: Centi,
    /// Samples (batches).
    pub samples: u64,
    /// Updates done by the series' cores, all rounds.
    pub updates: u64,
    /// `shm`: updates lost to unlocked races; else 0.
    pub lost: u64,
    /// The `tsc_begin`/`tsc_end` overhead subtracted.
    pub tsc_overhead: u64,
}

impl<'a> Record<'a> for UpdatePoint<'a> {
    const KIND: &'static str = "update-cost";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "series={} k={} cores={} cycles={} p99={} min_core={} max_core={} samples={} updates={} lost={} tsc_overhead={}",
            self.series,
            self.k,
            self.cores,
            self.cycles,
            self.p99,
            self.min_core,
            self.max_core,
            self.samples,
            self.updates,
            self.lost,
            self.tsc_overhead
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(UpdatePoint {
            series: r.text("series")?,
            k: r.small("k")?,
            cores: r.small("cores")?,
            cycles: r.centi("cycles")?,
            p99: r.centi("p99")?,
            min_core: r.centi("min_core")?,
            max_core: r.centi("max_core")?,
            samples: r.int("samples")?,
            updates: r.int("updates")?,
            lost: r.int("lost")?,
            tsc_overhead: r.int("tsc_overhead")?,
        })
    }
}

/// An `update-check` record: the conservation check of one point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateCheck<'a> {
    /// `shm-atomic`, `shm-lock` or `msg-client`.
    pub series: &'a str,
    /// Cache lines.
    pub k: u32,
    /// Cores in the run.
    pub cores: u32,
    /// Updates the cores made.
    pub sent: u64,
    /// Updates found in the shared lines, or applied by the server.
    pub applied: u64,
    /// Whether they agree (printed as 1 or 0).
    pub conserved: bool,
}

impl<'a> Record<'a> for UpdateCheck<'a> {
    const KIND: &'static str = "update-check";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "series={} k={} cores={} sent={} applied={} conserved={}",
            self.series,
            self.k,
            self.cores,
            self.sent,
            self.applied,
            u8::from(self.conserved)
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(UpdateCheck {
            series: r.text("series")?,
            k: r.small("k")?,
            cores: r.small("cores")?,
            sent: r.int("sent")?,
            applied: r.int("applied")?,
            conserved: r.flag("conserved")?,
        })
    }
}

/// An `update-skip` record: a point that could not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateSkip<'a> {
    /// The series (`msg`).
    pub series: &'a str,
    /// Cache lines.
    pub k: u32,
    /// Cores in the run.
    pub cores: u32,
    /// Why.
    pub reason: &'a str,
}

impl<'a> Record<'a> for UpdateSkip<'a> {
    const KIND: &'static str = "update-skip";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "series={} k={} cores={} reason={}",
            self.series, self.k, self.cores, self.reason
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(UpdateSkip {
            series: r.text("series")?,
            k: r.small("k")?,
            cores: r.small("cores")?,
            reason: r.text("reason")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::record::round_trip;
    use alloc::string::String;

    #[test]
    fn records_print_as_before_and_read_back() {
        let point = UpdatePoint {
            series: "shm",
            k: 8,
            cores: 2,
            cycles: Centi(16000),
            p99: Centi(32005),
            min_core: Centi(1),
            max_core: Centi(16000),
            samples: 100,
            updates: 1000,
            lost: 3,
            tsc_overhead: 40,
        };
        round_trip(
            &point,
            "series=shm k=8 cores=2 cycles=160.00 p99=320.05 min_core=0.01 max_core=160.00 samples=100 updates=1000 lost=3 tsc_overhead=40",
            &mut String::new(),
        );
        let check = UpdateCheck {
            series: "msg-client",
            k: 8,
            cores: 2,
            sent: 1000,
            applied: 1000,
            conserved: true,
        };
        round_trip(
            &check,
            "series=msg-client k=8 cores=2 sent=1000 applied=1000 conserved=1",
            &mut String::new(),
        );
        let skip = UpdateSkip {
            series: "msg",
            k: 1,
            cores: 1,
            reason: "needs-a-server-and-a-client-core",
        };
        round_trip(
            &skip,
            "series=msg k=1 cores=1 reason=needs-a-server-and-a-client-core",
            &mut String::new(),
        );
    }
}
