//! Every record kind, declared once: the struct that the cores print and
//! the host reads back, with its fields in the order of the line (see the
//! table in `exp`). Each experiment's own fields of `exp-start` are here
//! too; `exp-start` itself is [`ExpStart`](super::ExpStart).

use super::declare::{record, start_fields};
use super::record::Centi;

mod caps;
mod hand;
#[cfg(test)]
mod tests;

pub use caps::{CapsCheck, CapsFault, CapsPoint, CapsStart, MemCheck, RamPoint};
pub use hand::{ExpSkew, ExpStart, ReplicaOp, StartFields, UrpcSummary};

start_fields! {
    /// E1's own fields of `exp-start`.
    UrpcStart<'a> {
        /// Round trips per round (a whole number of batches).
        samples: u64 = int,
        /// Round trips per latency sample.
        rtt_batch: u64 = int,
        /// Messages per throughput sample.
        batch: u64 = int,
        /// Throughput samples per round.
        tp_samples: u64 = int,
        /// Slots per ring.
        slots: u64 = int,
        /// `all`, `adjacent` or `from`.
        pairs: &'a str = text,
        /// Pairs measured.
        npairs: u64 = int,
    }
}

record! {
    /// A `urpc-pair` record: one variant on one ordered pair.
    UrpcPair<'a> = "urpc-pair" {
        /// The sending, initiating core.
        src: u32 = small,
        /// The receiving, echoing core.
        dst: u32 = small,
        /// `raw`, `ack` or `used`.
        variant: &'a str = text,
        /// Median round trip, whole cycles.
        rtt_median: u64 = int,
        /// 99th-percentile round trip, whole cycles.
        rtt_p99: u64 = int,
        /// Fastest round trip, whole cycles.
        rtt_min: u64 = int,
        /// `rtt_median / 2`.
        oneway_median: Centi = centi,
        /// The median round trip before rounding (absent from older runs).
        rtt_fine: Option<Centi> = optional(centi),
        /// Its half (absent from older runs).
        oneway_fine: Option<Centi> = optional(centi),
        /// `raw` only: the ping-pong on one fixed pair of lines.
        one_pair_rtt: Option<Centi> = optional(centi),
        /// Pipelined throughput, messages per 1000 cycles (`na` for `raw`).
        tput: Option<Centi> = or_na(centi),
        /// Cycles per batch of throughput messages (`na` for `raw`).
        tp_batch_median: Option<u64> = or_na(int),
        /// Latency samples kept.
        samples: u64 = int,
        /// Throughput samples kept.
        tp_samples: u64 = int,
        /// The `tsc_begin`/`tsc_end` overhead subtracted.
        tsc_overhead: u64 = int,
    }
}

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

record! {
    /// An `update-cost` record: one point of one series.
    UpdatePoint<'a> = "update-cost" {
        /// `shm`, `shm-atomic`, `shm-lock`, `msg-client` or `msg-server`.
        series: &'a str = text,
        /// Cache lines.
        k: u32 = small,
        /// Cores in the run.
        cores: u32 = small,
        /// Median over the series' cores of each core's median cycles per
        /// update.
        cycles: Centi = centi,
        /// Largest per-core 99th percentile.
        p99: Centi = centi,
        /// Smallest per-core median.
        min_core: Centi = centi,
        /// Largest per-core median.
        max_core: Centi = centi,
        /// Samples (batches).
        samples: u64 = int,
        /// Updates done by the series' cores, all rounds.
        updates: u64 = int,
        /// `shm`: updates lost to unlocked races; else 0.
        lost: u64 = int,
        /// The `tsc_begin`/`tsc_end` overhead subtracted.
        tsc_overhead: u64 = int,
    }
}

record! {
    /// An `update-check` record: the conservation check of one point.
    UpdateCheck<'a> = "update-check" {
        /// `shm-atomic`, `shm-lock` or `msg-client`.
        series: &'a str = text,
        /// Cache lines.
        k: u32 = small,
        /// Cores in the run.
        cores: u32 = small,
        /// Updates the cores made.
        sent: u64 = int,
        /// Updates found in the shared lines, or applied by the server.
        applied: u64 = int,
        /// Whether they agree (printed as 1 or 0).
        conserved: bool = flag,
    }
}

record! {
    /// An `update-skip` record: a point that could not run.
    UpdateSkip<'a> = "update-skip" {
        /// The series (`msg`).
        series: &'a str = text,
        /// Cache lines.
        k: u32 = small,
        /// Cores in the run.
        cores: u32 = small,
        /// Why.
        reason: &'a str = text,
    }
}

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

record! {
    /// A `lock-point` record: one lock.
    LockPoint<'a> = "lock-point" {
        /// The lock (`tas`, ..., `msg-queue`).
        series: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// Shared cache lines of the critical section.
        cs_lines: u32 = small,
        /// Cores that took the lock.
        participants: u32 = small,
        /// Acquisitions, all participants and rounds.
        acquisitions: u64 = int,
        /// Wall time: the slowest core's elapsed cycles over all rounds.
        cycles: u64 = int,
        /// Acquisitions per million cycles.
        tput: Centi = centi,
        /// Median over participants of each one's median cycles per
        /// acquisition.
        latency: Centi = centi,
        /// Largest per-core 99th percentile.
        p99: Centi = centi,
        /// Fewest acquisitions of one core.
        min_core: u64 = int,
        /// Most acquisitions of one core.
        max_core: u64 = int,
        /// Longest run of grants to one core (`na` for delegation).
        max_run: Option<u64> = or_na(int),
        /// Samples.
        samples: u64 = int,
        /// The `tsc_begin`/`tsc_end` overhead subtracted.
        tsc_overhead: u64 = int,
        /// The slowest timed batch of any participant, per acquisition: with
        /// `cycles`, it shows how much of the wall time a few batches took
        /// (a preempted thread on a loaded host). Older logs lack it.
        slowest: Option<Centi> = optional(centi),
    }
}

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

record! {
    /// A `barrier-point` record: one barrier.
    BarrierPoint<'a> = "barrier-point" {
        /// The barrier (`sense`, ..., `msg-dissemination`).
        series: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// Fan-in and fan-out of `msg-tree`.
        arity: u32 = small,
        /// Episodes per core, all rounds.
        episodes: u64 = int,
        /// Median over cores of each one's median cycles per episode.
        cycles: Centi = centi,
        /// Largest per-core 99th percentile.
        p99: Centi = centi,
        /// Smallest per-core median.
        min_core: Centi = centi,
        /// Largest per-core median.
        max_core: Centi = centi,
        /// Samples.
        samples: u64 = int,
        /// The `tsc_begin`/`tsc_end` overhead subtracted.
        tsc_overhead: u64 = int,
    }
}

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

record! {
    /// A `replica-point` record: one model's figures and convergence.
    ReplicaPoint<'a> = "replica-point" {
        /// `lin`, `seq` or `eventual`.
        model: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// Operations completed, all cores.
        ops: u64 = int,
        /// Operations asked of each core.
        per_core: u64 = int,
        /// Fewest operations one core completed.
        min_core: u64 = int,
        /// Reads completed.
        reads: u64 = int,
        /// Writes completed.
        writes: u64 = int,
        /// Median over cores of each one's median cycles per read.
        read_median: Centi = centi,
        /// Largest per-core 99th percentile of the reads.
        read_p99: Centi = centi,
        /// Median over cores of each one's median cycles per write.
        write_median: Centi = centi,
        /// Largest per-core 99th percentile of the writes.
        write_p99: Centi = centi,
        /// Wall time: the slowest core's, cycles.
        cycles: u64 = int,
        /// Operations per million cycles, all cores.
        tput: Centi = centi,
        /// The digest of core 0's final map.
        digest: u64 = hex,
        /// Whether every replica's map has that digest (printed as 1 or 0).
        converged: bool = flag,
    }
}

record! {
    /// A `sync-check` record: the check of one lock or barrier.
    SyncCheck<'a> = "sync-check" {
        /// `locks` or `barriers`.
        exp: &'a str = text,
        /// The series checked.
        series: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// E5: acquisitions; E6: checked episodes.
        expected: u64 = int,
        /// E5: the critical section's counter, or the delegation server's.
        counted: u64 = int,
        /// Violations found.
        violations: u64 = int,
        /// Whether the check passed (printed as 1 or 0).
        ok: bool = flag,
    }
}

record! {
    /// A `sync-skip` record: a series that could not run.
    SyncSkip<'a> = "sync-skip" {
        /// `locks` or `barriers`.
        exp: &'a str = text,
        /// The series skipped.
        series: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// Why.
        reason: &'a str = text,
    }
}

record! {
    /// An `exp-done` record: core 0's last, once the experiment succeeded.
    ExpDone<'a> = "exp-done" {
        /// The experiment's name.
        exp: &'a str = text,
        /// Cores in the run.
        cores: u32 = small,
        /// Whether it finished (printed as 1 or 0).
        ok: bool = flag,
    }
}
