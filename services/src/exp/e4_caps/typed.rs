//! E4's records as types: what core 0 writes and the host reads.

use core::fmt;

use crate::exp::record::{Centi, FieldError, Fields, Record};
use crate::exp::start::start_fields;

start_fields! {
    /// E4's own fields of `exp-start`.
    CapsStart {
        /// Operations per capability point.
        reps: u64 = int,
        /// Cores other than the owner that hold a copy.
        holders: u32 = small,
        /// Capability points (variants × operations).
        points: u64 = int,
        /// 4 KiB blocks in each core's RAM partition.
        blocks: u64 = int,
    }
}

/// A `caps-point` record: one operation under one variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapsPoint<'a> {
    /// `targeted` or `broadcast`.
    pub variant: &'a str,
    /// `revoke`, `retype` or `delete`.
    pub op: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// Cores other than the owner that held a copy when the operation ran.
    pub r: u32,
    /// Operations measured.
    pub reps: u64,
    /// Median messages between monitors per operation, both directions.
    pub messages: u64,
    /// The most messages one operation took.
    pub messages_max: u64,
    /// What the variant promises: `2R + 2` (targeted), Barrelfish's count
    /// (broadcast).
    pub bound: u64,
    /// Median cycles from the request to its end.
    pub cycles: Centi,
    /// 99th percentile of the same.
    pub p99: Centi,
    /// The `tsc_begin`/`tsc_end` overhead subtracted.
    pub tsc_overhead: u64,
}

impl<'a> Record<'a> for CapsPoint<'a> {
    const KIND: &'static str = "caps-point";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "variant={} op={} cores={} r={} reps={} messages={} messages_max={} bound={} cycles={} p99={} tsc_overhead={}",
            self.variant,
            self.op,
            self.cores,
            self.r,
            self.reps,
            self.messages,
            self.messages_max,
            self.bound,
            self.cycles,
            self.p99,
            self.tsc_overhead
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(CapsPoint {
            variant: r.text("variant")?,
            op: r.text("op")?,
            cores: r.small("cores")?,
            r: r.small("r")?,
            reps: r.int("reps")?,
            messages: r.int("messages")?,
            messages_max: r.int("messages_max")?,
            bound: r.int("bound")?,
            cycles: r.centi("cycles")?,
            p99: r.centi("p99")?,
            tsc_overhead: r.int("tsc_overhead")?,
        })
    }
}

/// A `caps-check` record: what every operation of a point left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapsCheck<'a> {
    /// `targeted` or `broadcast`.
    pub variant: &'a str,
    /// The operation.
    pub op: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// Operations checked.
    pub reps: u64,
    /// Operations that ended otherwise than done, or left a copy, a
    /// record or an unfreed tree behind.
    pub violations: u64,
    /// Operations over the promised message count.
    pub over_bound: u64,
    /// Whether the point passed (printed as 1 or 0).
    pub ok: bool,
}

impl<'a> Record<'a> for CapsCheck<'a> {
    const KIND: &'static str = "caps-check";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "variant={} op={} cores={} reps={} violations={} over_bound={} ok={}",
            self.variant,
            self.op,
            self.cores,
            self.reps,
            self.violations,
            self.over_bound,
            u8::from(self.ok)
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(CapsCheck {
            variant: r.text("variant")?,
            op: r.text("op")?,
            cores: r.small("cores")?,
            reps: r.int("reps")?,
            violations: r.int("violations")?,
            over_bound: r.int("over_bound")?,
            ok: r.flag("ok")?,
        })
    }
}

/// A `caps-fault` record: the failure point of one variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapsFault<'a> {
    /// `targeted` or `broadcast`.
    pub variant: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// The core whose monitor stopped answering.
    pub silent: u32,
    /// Rounds.
    pub reps: u64,
    /// Revokes abandoned with `timeout` naming the silent core.
    pub timeouts: u64,
    /// Rounds after which every other core still held its copy.
    pub restored: u64,
    /// Retypes of the other tree that were done meanwhile.
    pub others_done: u64,
    /// Copies or records left after the clean-up (0 expected).
    pub left: u64,
    /// Median cycles from the revoke's request to its abandonment.
    pub cycles: Centi,
    /// The owner's bound, cycles.
    pub bound: u64,
    /// Whether every round went as promised (printed as 1 or 0).
    pub ok: bool,
}

impl<'a> Record<'a> for CapsFault<'a> {
    const KIND: &'static str = "caps-fault";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "variant={} cores={} silent={} reps={} timeouts={} restored={} others_done={} left={} cycles={} bound={} ok={}",
            self.variant,
            self.cores,
            self.silent,
            self.reps,
            self.timeouts,
            self.restored,
            self.others_done,
            self.left,
            self.cycles,
            self.bound,
            u8::from(self.ok)
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(CapsFault {
            variant: r.text("variant")?,
            cores: r.small("cores")?,
            silent: r.small("silent")?,
            reps: r.int("reps")?,
            timeouts: r.int("timeouts")?,
            restored: r.int("restored")?,
            others_done: r.int("others_done")?,
            left: r.int("left")?,
            cycles: r.centi("cycles")?,
            bound: r.int("bound")?,
            ok: r.flag("ok")?,
        })
    }
}

/// A `ram-point` record: one RAM series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RamPoint<'a> {
    /// `msg` or `global`.
    pub series: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// Blocks allocated per round, all cores.
    pub allocs: u64,
    /// Of those, blocks that came from another core.
    pub borrowed: u64,
    /// Median over cores of each one's median cycles per allocation served
    /// without a message (batches).
    pub alloc: Centi,
    /// Largest per-core 99th percentile of the same.
    pub alloc_p99: Centi,
    /// Median cycles of an allocation served by another core (0: none).
    pub borrow: Centi,
    /// 99th percentile of the same.
    pub borrow_p99: Centi,
    /// Median over cores of each one's median cycles per free (batches).
    pub free: Centi,
    /// Messages between monitors per round, all cores.
    pub messages: u64,
    /// The `tsc_begin`/`tsc_end` overhead subtracted.
    pub tsc_overhead: u64,
}

impl<'a> Record<'a> for RamPoint<'a> {
    const KIND: &'static str = "ram-point";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "series={} cores={} allocs={} borrowed={} alloc={} alloc_p99={} borrow={} borrow_p99={} free={} messages={} tsc_overhead={}",
            self.series,
            self.cores,
            self.allocs,
            self.borrowed,
            self.alloc,
            self.alloc_p99,
            self.borrow,
            self.borrow_p99,
            self.free,
            self.messages,
            self.tsc_overhead
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(RamPoint {
            series: r.text("series")?,
            cores: r.small("cores")?,
            allocs: r.int("allocs")?,
            borrowed: r.int("borrowed")?,
            alloc: r.centi("alloc")?,
            alloc_p99: r.centi("alloc_p99")?,
            borrow: r.centi("borrow")?,
            borrow_p99: r.centi("borrow_p99")?,
            free: r.centi("free")?,
            messages: r.int("messages")?,
            tsc_overhead: r.int("tsc_overhead")?,
        })
    }
}

/// A `mem-check` record: RAM conservation over one series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemCheck<'a> {
    /// `msg` or `global`.
    pub series: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// Bytes of RAM, all cores, at the start.
    pub total: u64,
    /// Bytes of RAM, all cores, at the end.
    pub end: u64,
    /// Blocks found held by two cores at once.
    pub held_twice: u64,
    /// Blocks not back with their owner at the end.
    pub not_home: u64,
    /// Whether the RAM was conserved (printed as 1 or 0).
    pub conserved: bool,
}

impl<'a> Record<'a> for MemCheck<'a> {
    const KIND: &'static str = "mem-check";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "series={} cores={} total={} end={} held_twice={} not_home={} conserved={}",
            self.series,
            self.cores,
            self.total,
            self.end,
            self.held_twice,
            self.not_home,
            u8::from(self.conserved)
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(MemCheck {
            series: r.text("series")?,
            cores: r.small("cores")?,
            total: r.int("total")?,
            end: r.int("end")?,
            held_twice: r.int("held_twice")?,
            not_home: r.int("not_home")?,
            conserved: r.flag("conserved")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::record::round_trip;
    use alloc::string::String;

    #[test]
    fn the_records_print_and_read_back() {
        let mut s = String::new();
        let point = CapsPoint {
            variant: "targeted",
            op: "revoke",
            cores: 4,
            r: 2,
            reps: 20,
            messages: 6,
            messages_max: 6,
            bound: 6,
            cycles: Centi(1_234_500),
            p99: Centi(2_000_000),
            tsc_overhead: 40,
        };
        round_trip(
            &point,
            "variant=targeted op=revoke cores=4 r=2 reps=20 messages=6 messages_max=6 bound=6 cycles=12345.00 p99=20000.00 tsc_overhead=40",
            &mut s,
        );
        let check = CapsCheck {
            variant: "broadcast",
            op: "delete",
            cores: 4,
            reps: 20,
            violations: 0,
            over_bound: 0,
            ok: true,
        };
        round_trip(
            &check,
            "variant=broadcast op=delete cores=4 reps=20 violations=0 over_bound=0 ok=1",
            &mut s,
        );
        let ram = RamPoint {
            series: "msg",
            cores: 2,
            allocs: 64,
            borrowed: 16,
            alloc: Centi(30_000),
            alloc_p99: Centi(40_000),
            borrow: Centi(500_000),
            borrow_p99: Centi(900_000),
            free: Centi(20_000),
            messages: 48,
            tsc_overhead: 40,
        };
        round_trip(
            &ram,
            "series=msg cores=2 allocs=64 borrowed=16 alloc=300.00 alloc_p99=400.00 borrow=5000.00 borrow_p99=9000.00 free=200.00 messages=48 tsc_overhead=40",
            &mut s,
        );
        let fault = CapsFault {
            variant: "targeted",
            cores: 3,
            silent: 2,
            reps: 4,
            timeouts: 4,
            restored: 4,
            others_done: 4,
            left: 0,
            cycles: Centi(20_000_000_000),
            bound: 200_000_000,
            ok: true,
        };
        round_trip(
            &fault,
            "variant=targeted cores=3 silent=2 reps=4 timeouts=4 restored=4 others_done=4 left=0 cycles=200000000.00 bound=200000000 ok=1",
            &mut s,
        );
        let mem = MemCheck {
            series: "msg",
            cores: 2,
            total: 262_144,
            end: 262_144,
            held_twice: 0,
            not_home: 0,
            conserved: true,
        };
        round_trip(
            &mem,
            "series=msg cores=2 total=262144 end=262144 held_twice=0 not_home=0 conserved=1",
            &mut s,
        );
    }
}
