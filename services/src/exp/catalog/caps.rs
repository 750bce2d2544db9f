//! E4's records (`exp=caps`).

use super::super::declare::{record, start_fields};
use super::super::record::Centi;

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

record! {
    /// A `caps-point` record: one operation under one variant.
    CapsPoint<'a> = "caps-point" {
        /// `targeted` or `broadcast`.
        variant: &'a str = text,
        /// `revoke`, `retype` or `delete`.
        op: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// Cores other than the owner that held a copy when the operation ran.
        r: u32 = small,
        /// Operations measured.
        reps: u64 = int,
        /// Median messages between monitors per operation, both directions.
        messages: u64 = int,
        /// The most messages one operation took.
        messages_max: u64 = int,
        /// What the variant promises: `2R + 2` (targeted), Barrelfish's count
        /// (broadcast).
        bound: u64 = int,
        /// Median cycles from the request to its end.
        cycles: Centi = centi,
        /// 99th percentile of the same.
        p99: Centi = centi,
        /// The `tsc_begin`/`tsc_end` overhead subtracted.
        tsc_overhead: u64 = int,
    }
}

record! {
    /// A `caps-check` record: what every operation of a point left behind.
    CapsCheck<'a> = "caps-check" {
        /// `targeted` or `broadcast`.
        variant: &'a str = text,
        /// The operation.
        op: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// Operations checked.
        reps: u64 = int,
        /// Operations that ended otherwise than done, or left a copy, a
        /// record or an unfreed tree behind.
        violations: u64 = int,
        /// Operations over the promised message count.
        over_bound: u64 = int,
        /// Whether the point passed (printed as 1 or 0).
        ok: bool = flag,
    }
}

record! {
    /// A `caps-fault` record: the failure point of one variant.
    CapsFault<'a> = "caps-fault" {
        /// `targeted` or `broadcast`.
        variant: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// The core whose monitor stopped answering.
        silent: u32 = small,
        /// Rounds.
        reps: u64 = int,
        /// Revokes abandoned with `timeout` naming the silent core.
        timeouts: u64 = int,
        /// Rounds after which every other core still held its copy.
        restored: u64 = int,
        /// Retypes of the other tree that were done meanwhile.
        others_done: u64 = int,
        /// Copies or records left after the clean-up (0 expected).
        left: u64 = int,
        /// Median cycles from the revoke's request to its abandonment.
        cycles: Centi = centi,
        /// The owner's bound, cycles.
        bound: u64 = int,
        /// Whether every round went as promised (printed as 1 or 0).
        ok: bool = flag,
    }
}

record! {
    /// A `ram-point` record: one RAM series.
    RamPoint<'a> = "ram-point" {
        /// `msg` or `global`.
        series: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// Blocks allocated per round, all cores.
        allocs: u64 = int,
        /// Of those, blocks that came from another core.
        borrowed: u64 = int,
        /// Median over cores of each one's median cycles per allocation served
        /// without a message (batches).
        alloc: Centi = centi,
        /// Largest per-core 99th percentile of the same.
        alloc_p99: Centi = centi,
        /// Median cycles of an allocation served by another core (0: none).
        borrow: Centi = centi,
        /// 99th percentile of the same.
        borrow_p99: Centi = centi,
        /// Median over cores of each one's median cycles per free (batches).
        free: Centi = centi,
        /// Messages between monitors per round, all cores.
        messages: u64 = int,
        /// The `tsc_begin`/`tsc_end` overhead subtracted.
        tsc_overhead: u64 = int,
    }
}

record! {
    /// A `mem-check` record: RAM conservation over one series.
    MemCheck<'a> = "mem-check" {
        /// `msg` or `global`.
        series: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// Bytes of RAM, all cores, at the start.
        total: u64 = int,
        /// Bytes of RAM, all cores, at the end.
        end: u64 = int,
        /// Blocks found held by two cores at once.
        held_twice: u64 = int,
        /// Blocks not back with their owner at the end.
        not_home: u64 = int,
        /// Whether the RAM was conserved (printed as 1 or 0).
        conserved: bool = flag,
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
