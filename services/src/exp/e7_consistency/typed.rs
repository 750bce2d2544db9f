//! E7's records as types: what the cores write and the host reads.

use core::fmt;

use crate::exp::record::{Centi, FieldError, Fields, Record};
use crate::exp::start::start_fields;

start_fields! {
    /// E7's own fields of `exp-start`.
    ConsistencyStart<'a> {
        /// Operations per core per model.
        ops: u64 = int,
        /// Distinct keys.
        keys: u64 = int,
        /// Percent of writes.
        writes: u64 = int,
        /// The models, separated by `;`.
        models: &'a str = text,
        /// Models.
        points: u64 = int,
        /// Rounds of the skew measurement.
        skew_rounds: u64 = int,
        /// The bound on the TSC skew between any core and core 0, cycles.
        tsc_skew_cycles: u64 = int,
    }
}

/// An `exp-skew` record: core `core`'s TSC against core 0's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpSkew {
    /// The core measured.
    pub core: u32,
    /// Its TSC less core 0's, cycles.
    pub offset: i64,
    /// The round trip of the measurement, cycles.
    pub rtt: u64,
}

impl ExpSkew {
    /// The bound on the skew: `|offset| + rtt/2`.
    pub fn bound(self) -> u64 {
        self.offset.unsigned_abs() + self.rtt / 2
    }
}

impl Record<'_> for ExpSkew {
    const KIND: &'static str = "exp-skew";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "core={} offset={} rtt={} bound={}",
            self.core,
            self.offset,
            self.rtt,
            self.bound()
        )
    }

    fn read(r: Fields<'_, '_>) -> Result<Self, FieldError> {
        Ok(ExpSkew {
            core: r.small("core")?,
            offset: r.signed("offset")?,
            rtt: r.int("rtt")?,
        })
    }
}

/// A `replica-op` record: one completed operation of a core's client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaOp<'a> {
    /// `lin`, `seq` or `eventual`.
    pub model: &'a str,
    /// The core.
    pub core: u32,
    /// A write (`op=w`), or a read (`op=r`).
    pub write: bool,
    /// The key.
    pub key: u64,
    /// What a read returned, or what a write wrote.
    pub value: u64,
    /// The core's raw TSC before the invocation.
    pub invoke: u64,
    /// The core's raw TSC at the completion.
    pub response: u64,
}

impl<'a> Record<'a> for ReplicaOp<'a> {
    const KIND: &'static str = "replica-op";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "model={} core={} op={} key={} value={} invoke={} response={}",
            self.model,
            self.core,
            if self.write { "w" } else { "r" },
            self.key,
            self.value,
            self.invoke,
            self.response
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(ReplicaOp {
            model: r.text("model")?,
            core: r.small("core")?,
            write: match r.text("op")? {
                "w" => true,
                "r" => false,
                _ => return Err(FieldError { key: "op" }),
            },
            key: r.int("key")?,
            value: r.int("value")?,
            invoke: r.int("invoke")?,
            response: r.int("response")?,
        })
    }
}

/// A `replica-point` record: one model's figures and convergence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaPoint<'a> {
    /// `lin`, `seq` or `eventual`.
    pub model: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// Operations completed, all cores.
    pub ops: u64,
    /// Operations asked of each core.
    pub per_core: u64,
    /// Fewest operations one core completed.
    pub min_core: u64,
    /// Reads completed.
    pub reads: u64,
    /// Writes completed.
    pub writes: u64,
    /// Median over cores of each one's median cycles per read.
    pub read_median: Centi,
    /// Largest per-core 99th percentile of the reads.
    pub read_p99: Centi,
    /// Median over cores of each one's median cycles per write.
    pub write_median: Centi,
    /// Largest per-core 99th percentile of the writes.
    pub write_p99: Centi,
    /// Wall time: the slowest core's, cycles.
    pub cycles: u64,
    /// Operations per million cycles, all cores.
    pub tput: Centi,
    /// The digest of core 0's final map.
    pub digest: u64,
    /// Whether every replica's map has that digest (printed as 1 or 0).
    pub converged: bool,
}

impl<'a> Record<'a> for ReplicaPoint<'a> {
    const KIND: &'static str = "replica-point";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "model={} cores={} ops={} per_core={} min_core={} reads={} writes={} read_median={} read_p99={} write_median={} write_p99={} cycles={} tput={} digest={:016x} converged={}",
            self.model,
            self.cores,
            self.ops,
            self.per_core,
            self.min_core,
            self.reads,
            self.writes,
            self.read_median,
            self.read_p99,
            self.write_median,
            self.write_p99,
            self.cycles,
            self.tput,
            self.digest,
            u8::from(self.converged)
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(ReplicaPoint {
            model: r.text("model")?,
            cores: r.small("cores")?,
            ops: r.int("ops")?,
            per_core: r.int("per_core")?,
            min_core: r.int("min_core")?,
            reads: r.int("reads")?,
            writes: r.int("writes")?,
            read_median: r.centi("read_median")?,
            read_p99: r.centi("read_p99")?,
            write_median: r.centi("write_median")?,
            write_p99: r.centi("write_p99")?,
            cycles: r.int("cycles")?,
            tput: r.centi("tput")?,
            digest: r.hex("digest")?,
            converged: r.flag("converged")?,
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
        let skew = ExpSkew {
            core: 1,
            offset: -20,
            rtt: 80,
        };
        round_trip(
            &skew,
            "core=1 offset=-20 rtt=80 bound=60",
            &mut String::new(),
        );
        let op = ReplicaOp {
            model: "lin",
            core: 1,
            write: false,
            key: 3,
            value: 0,
            invoke: 1100,
            response: 1200,
        };
        round_trip(
            &op,
            "model=lin core=1 op=r key=3 value=0 invoke=1100 response=1200",
            &mut String::new(),
        );
        let point = ReplicaPoint {
            model: "lin",
            cores: 2,
            ops: 4,
            per_core: 2,
            min_core: 2,
            reads: 3,
            writes: 1,
            read_median: Centi(10_000),
            read_p99: Centi(10_000),
            write_median: Centi(100_000),
            write_p99: Centi(100_000),
            cycles: 2100,
            tput: Centi(190_476),
            digest: 0xab,
            converged: true,
        };
        round_trip(
            &point,
            "model=lin cores=2 ops=4 per_core=2 min_core=2 reads=3 writes=1 read_median=100.00 read_p99=100.00 write_median=1000.00 write_p99=1000.00 cycles=2100 tput=1904.76 digest=00000000000000ab converged=1",
            &mut String::new(),
        );
    }
}
