//! The experiments: the same code on every core, in ring 3 under the
//! monitor and on hosted threads.
//!
//! Every core calls [`run`] with the same [`Request`] and an [`Arena`] over
//! the same pool frames (zeroed), [`arena_frames`] frames long. The cores
//! share nothing else: every barrier, flag, channel and result table lives
//! in the arena, and every wait polls for a while and then blocks in
//! [`Platform::wait`] (the last arriver notifies). The measured loops make
//! no platform call.
//!
//! - E1, `exp=urpc` ([`e1_urpc`]): URPC round trip, one-way latency and
//!   pipelined throughput per ordered core pair, for both flow-control
//!   variants, beside the raw cache-line ping-pong (Multikernel Table 2).
//! - E2, `exp=update-cost` ([`e2_update_cost`]): cycles per update of `k`
//!   shared cache lines by shared memory (plain, atomic, locked) and by
//!   synchronous messages to a server core (Multikernel Figure 3). Core 0
//!   is the server and cores 1..N−1 its clients; with one core the MSG
//!   series is skipped.
//!
//! - E5, `exp=locks` ([`e5_locks`]): throughput and latency of every lock
//!   of [`LOCK_SERIES`]: test-and-set, test-and-test-and-set with
//!   backoff, ticket, Anderson, MCS and CLH on shared memory ([`sync`]),
//!   and a lock server, token passing, delegation and a queue lock by
//!   messages (`crate::proto::lock`), with a critical section that touches
//!   `cs-lines` shared cache lines and is checked every round.
//! - E6, `exp=barriers` ([`e6_barriers`]): cycles per episode of every barrier
//!   of [`BARRIER_SERIES`]: sense-reversing, combining tree, MCS
//!   tree, tournament and dissemination on shared memory, and central,
//!   tree and dissemination barriers by messages
//!   (`crate::proto::barrier`), checked every round.
//! - E7, `exp=consistency` ([`e7_consistency`]): a replicated map
//!   (`crate::proto::replica`) with a replica and a closed-loop client on
//!   every core, under each consistency model: read and write latency,
//!   throughput, the history of every operation (for the host's history
//!   checker) and a convergence check of the final maps.
//!
//! Each experiment is a type that implements [`Experiment`]: its own
//! argument keys, the arena it needs and its run, registered by one line
//! in the list of [`registry`]. The common arguments are described in
//! [`request`] and every request is parsed by [`Request::parse`].
//!
//! # Records (format `@flotilla/1`)
//!
//! Results are printed with [`Platform::record`], one line each:
//! `[core N] [boot monitor] @flotilla/1 <kind> key=value ...` under the
//! kernel, which stamps the monitor's lines (`boot::stamp`), and
//! `[core N] @flotilla/1 <kind> key=value ...` in a hosted run. Cycle
//! counts are TSC cycles with the `tsc_begin`/`tsc_end` overhead
//! (`tsc_overhead`) subtracted. `X.YY` values are decimals with two places. Latencies and
//! update costs are timed in batches (E1: `rtt_batch` round trips per
//! sample; E2: `batch` updates or RPCs per sample) and reported per
//! operation, because the TSC may advance in steps of tens of cycles
//! (`timer_resolution`): one sample of one ~300-cycle round trip would be
//! off by up to a step.
//!
//! Every record of the table below is also a type that implements
//! [`record::Record`], defined once in `catalog` ([`ExpStart`] with
//! each experiment's own fields, such as
//! [`UrpcStart`]; [`UrpcPair`], [`UrpcSummary`], [`UpdatePoint`],
//! [`UpdateCheck`], [`UpdateSkip`], [`LockPoint`], [`BarrierPoint`],
//! [`SyncCheck`], [`SyncSkip`], [`ExpSkew`], [`ReplicaOp`],
//! [`ReplicaPoint`], [`ExpDone`]): the cores print it and the host reads
//! it back.
//!
//! | kind | printed by | fields |
//! |---|---|---|
//! | `exp-start` | core 0, first | `exp` (`urpc`, `update-cost`, `locks`, `barriers`, `consistency`), `cores`, `quick` (0/1), `rounds`, `tsc_hz`, `timer_resolution` (the smallest non-zero difference between successive TSC reads on core 0, cycles), `tsc_overhead` (core 0's), `args` (the request, as `exp=...` items); E1 also `samples` (round trips per round, a whole number of batches), `rtt_batch` (round trips per latency sample, raw and URPC alike), `batch` (messages per throughput sample), `tp_samples` (throughput samples per round), `slots`, `pairs` (`all`, `adjacent`, `from`), `npairs`; E2 also `updates` (most updates per core per round), `ms` (longest round), `points`, `server` (the server core, 0), `batch` (updates or RPCs per sample); E5 also `acquisitions`, `cs_lines`, `batch` (acquisitions per sample), `points`; E6 also `episodes`, `checked` (checked episodes per round), `arity`, `batch` (episodes per sample), `points`; E7 also `ops` (per core per model), `keys`, `writes` (percent), `models` (`lin;seq;eventual`), `points` (models), `skew_rounds`, `tsc_skew_cycles` (the bound on the TSC skew between any core and core 0, cycles: the largest `\|offset\| + rtt/2` of `exp-skew`, 0 on one core) |
//! | `exp-skew` | core 0, after `exp-start`, per core 1..N−1 (E7) | `core`, `offset` (that core's TSC less core 0's, signed cycles, by Cristian's method: the round with the smallest round trip), `rtt` (that round trip, cycles), `bound` (`\|offset\| + rtt/2`) |
//! | `urpc-pair` | the pair's `src` core, three per pair | `src`, `dst`, `variant` (`raw`: cache-line ping-pong, one 8-byte flag per message moving through the slot lines of a duplex region as the channel's messages do; `ack`: URPC, ack-line flow control, the default; `used`: URPC, used-bit flow control), `rtt_median`, `rtt_p99`, `rtt_min` (cycles per round trip in the median, 99th-percentile and fastest batch, rounded to whole cycles), `oneway_median` (`rtt_median / 2`, X.YY), `rtt_fine`, `oneway_fine` (the median round trip and its half before rounding, X.YY), `tput` (pipelined throughput `src → dst` in messages per 1000 cycles from the median batch, X.YY; `na` for `raw`), `tp_batch_median` (cycles per batch of `batch` messages; `na` for `raw`), `samples` (latency samples, each of `rtt_batch` round trips, kept after warm-up), `tp_samples`, `tsc_overhead`; `raw` also `one_pair_rtt` (X.YY: the same ping-pong on one fixed pair of lines, whose cost depends on where those two lines are) |
//! | `urpc-summary` | core 0, after the pairs | `pairs`, `raw_rtt`, `ack_rtt`, `used_rtt` (median over pairs of the per-pair medians, whole cycles), `raw_oneway`, `ack_oneway`, `used_oneway` (X.YY, unrounded), `ack_tput`, `used_tput` (median over pairs, X.YY), `faster` (the variant with the lower median round trip), `ratio` (that variant's one-way over the raw one-way, X.YY, from the unrounded medians), `one_pair_oneway` (X.YY, from `one_pair_rtt`) |
//! | `update-cost` | core 0, per point | `series` (`shm`, `shm-atomic`, `shm-lock`, `msg-client`, `msg-server`), `k` (cache lines), `cores`, `cycles` (median over the series' cores of each core's median cycles per update, X.YY), `p99` (largest per-core 99th percentile, X.YY), `min_core`, `max_core` (smallest and largest per-core median, X.YY), `samples` (batches of `batch`), `updates` (updates done by the series' cores, all rounds), `lost` (`shm`: updates lost to unlocked races; else 0), `tsc_overhead` |
//! | `update-check` | core 0, per point of `shm-atomic`, `shm-lock`, `msg` | `series` (`shm-atomic`, `shm-lock`, `msg-client`), `k`, `cores`, `sent` (updates the cores made), `applied` (updates found in the shared lines, or applied by the server), `conserved` (1; a mismatch fails the run instead) |
//! | `update-skip` | core 0 | `series` (`msg`), `k`, `cores`, `reason` |
//! | `lock-point` | core 0, per lock (E5) | `series`, `cores`, `cs_lines`, `participants` (cores that took the lock), `acquisitions` (all participants, all rounds), `cycles` (wall time: the slowest core's elapsed cycles over all rounds), `tput` (acquisitions per million cycles, X.YY), `latency` (median over participants of each one's median cycles per acquisition, from batches of 32, X.YY), `p99` (largest per-core 99th percentile, X.YY), `min_core`, `max_core` (fewest and most acquisitions of one core), `max_run` (longest run of consecutive grants to one core in the first 4096 grants of a round; `na` for delegation), `samples`, `tsc_overhead` |
//! | `barrier-point` | core 0, per barrier (E6) | `series`, `cores`, `arity` (of `msg-tree`), `episodes` (per core, all rounds), `cycles` (median over cores of each one's median cycles per episode, from batches of 32, X.YY), `p99`, `min_core`, `max_core` (X.YY), `samples`, `tsc_overhead` |
//! | `sync-check` | core 0, per point of E5 and E6 | `exp`, `series`, `cores`, `expected` (E5: acquisitions; E6: checked episodes), `counted` (E5: the critical section's counter, or the delegation server's), `violations` (E5: a core found another inside; E6: a core left an episode before another arrived), `ok` (1; a violation fails the run after this record) |
//! | `sync-skip` | core 0 | `exp`, `series`, `cores`, `reason` |
//! | `replica-op` | every core, per completed operation, after each model's measured phase (E7) | `model` (`lin`, `seq`, `eventual`), `core`, `op` (`r` or `w`), `key`, `value` (what a read returned, or what a write wrote: `(core << 32) \| n` for the core's `n`-th operation, never 0; unwritten keys read 0), `invoke`, `response` (the core's raw TSC before the invocation and at the completion, not corrected for skew) |
//! | `replica-point` | core 0, per model (E7) | `model`, `cores`, `ops` (completed, all cores), `per_core` (asked of each core), `min_core` (fewest one core completed: `per_core`, or the run fails), `reads`, `writes`, `read_median`, `write_median` (median over cores of each one's median cycles per operation, X.YY), `read_p99`, `write_p99` (largest per-core 99th percentile, X.YY), `cycles` (wall time: the slowest core's), `tput` (operations per million cycles, all cores, X.YY), `digest` (of core 0's final map, hex), `converged` (1: every replica's map has that digest; 0 fails the run after this record) |
//! | `exp-done` | core 0, last | `exp`, `cores`, `ok` (1) |
//!
//! A failure is an [`ExpError`] from [`run`] on the core that found it;
//! the other cores' waits then end with [`ExpError::Aborted`].
#![deny(unsafe_code)]

mod catalog;
mod declare;
mod declare_exp;
pub mod e1_urpc;
pub mod e2_update_cost;
pub mod e4_caps;
pub mod e5_locks;
pub mod e6_barriers;
pub mod e7_consistency;
mod error;
mod experiment;
mod net;
mod points;
pub mod record;
pub mod registry;
pub mod request;
mod rest;
mod series_set;
mod shared;
mod stats;
pub mod sync;

pub use catalog::{ExpDone, ExpStart, StartFields, SyncCheck, SyncSkip};
pub use e1_urpc::{Pairs, Urpc, UrpcArgs, UrpcPair, UrpcStart, UrpcSummary};
pub use e2_update_cost::{
    Lines, MAX_LINES, Series, UpdateArgs, UpdateCheck, UpdateCost, UpdatePoint, UpdateSkip,
    UpdateStart,
};
pub use e4_caps::{
    CapsArgs, CapsCheck, CapsFault, CapsPoint, CapsRam, CapsStart, MemCheck, RamPoint,
};
pub use e5_locks::{LOCK_SERIES, LockArgs, LockPoint, LockStart, Locks};
pub use e6_barriers::{BARRIER_SERIES, BarrierArgs, BarrierPoint, BarrierStart, Barriers};
pub use e7_consistency::{
    Consistency, ConsistencyArgs, ConsistencyStart, ExpSkew, HISTORY_BYTES_PER_OP,
    HISTORY_HEAP_BYTES, ModelSet, ReplicaOp, ReplicaPoint, converged, map_digest,
};
pub use error::ExpError;
pub use experiment::{Experiment, Run};
pub use registry::{ExpKind, KEYS, Params};
pub use request::{ArgsError, Request, SAMPLE_HEAP_BYTES};
pub use series_set::SeriesSet;

use crate::platform::Platform;
use crate::shm::{Arena, FRAME, Shared};
use experiment::Visit;
use shared::{Control, control_bytes};

/// An experiment as a monitor's job: runs [`run`] in the arena the job
/// phase hands out; on failure prints why, reports an `exp-error` record
/// and keeps the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpJob {
    /// The request.
    pub req: Request,
    /// This core's error, if its part failed.
    pub error: Option<ExpError>,
}

impl ExpJob {
    /// The job of `req`.
    pub fn new(req: Request) -> ExpJob {
        ExpJob { req, error: None }
    }
}

impl<P: Platform> crate::monitor::Job<P> for ExpJob {
    fn arena_frames(&self, cores: u32) -> u64 {
        arena_frames(&self.req, cores)
    }

    fn run(&mut self, p: &mut P, arena: Arena) -> bool {
        match run(p, arena, &self.req) {
            Ok(()) => true,
            Err(e) => {
                p.print(format_args!("experiment failed: {e}"));
                p.record("exp-error", format_args!("core={}", p.core()));
                self.error = Some(e);
                false
            }
        }
    }
}

/// Pool frames the experiment needs for all its shared memory on `cores`
/// cores.
pub fn arena_frames(req: &Request, cores: u32) -> u64 {
    let bytes = req.params.visit(ArenaBytes { req, cores });
    bytes.max(control_bytes(cores)).div_ceil(FRAME) as u64
}

/// The bytes of the arena a request needs (none for a request the machine
/// cannot run).
struct ArenaBytes<'r> {
    req: &'r Request,
    cores: u32,
}

impl Visit for ArenaBytes<'_> {
    type Out = usize;

    fn visit<E: Experiment>(self, args: &E::Args) -> usize {
        E::plan(self.req, args, self.cores)
            .map_or(0, |plan| E::arena_bytes(&E::layout(&plan, self.cores)))
    }
}

/// The opening of a run, then the experiment's own.
struct Runs<'a, 'p, P> {
    p: &'p mut P,
    ctl: Control<'a>,
    mem: Shared<'a>,
    req: &'a Request,
}

impl<P: Platform> Visit for Runs<'_, '_, P> {
    type Out = Result<(), ExpError>;

    fn visit<E: Experiment>(self, args: &E::Args) -> Self::Out {
        let run = Run::<E>::open(self.req, args, self.ctl, self.mem)?;
        E::run(self.p, run)
    }
}

/// TSC ticks per second, or a guess when the platform does not know.
fn hz(tsc_hz: u64) -> u64 {
    match tsc_hz {
        0 => 2_000_000_000,
        hz => hz,
    }
}

/// Runs the experiment on this core. Every core calls it with the same
/// `req` and an `Arena` over the same pool frames (zeroed),
/// `arena_frames(req, cores)` frames long.
///
/// The arena must stay mapped, readable and writable for the whole call on
/// every core, and nothing else may use it meanwhile ([`Platform::map_pool`]
/// gives such a mapping). On an error other than [`ExpError::Aborted`],
/// this core marks the run aborted in the arena, so that the other cores
/// stop waiting for it.
pub fn run<P: Platform>(p: &mut P, arena: Arena, req: &Request) -> Result<(), ExpError> {
    let cores = p.cores();
    let needed = arena_frames(req, cores);
    if arena.frames() < needed {
        return Err(ExpError::ArenaTooSmall {
            frames: arena.frames(),
            needed,
        });
    }
    let mem = arena.shared();
    // Blocks last at most 5 ms (a safety net: every wake-up is notified);
    // start barriers poll for 2 ms.
    let hz = hz(p.tsc_hz());
    let ctl = Control::new(mem, p.core(), cores, hz / 200, hz / 500);
    let result = req.params.visit(Runs { p, ctl, mem, req });
    if let Err(e) = result
        && !matches!(e, ExpError::Aborted { .. })
    {
        ctl.abort(p);
    }
    result
}

/// Marks the run in `arena` as failed by this core and wakes every core,
/// so that their waits in [`run`] end with [`ExpError::Aborted`]. For a
/// runtime whose core failed outside [`run`] (a panic, a lost thread).
/// Does nothing with an arena too small to hold the control block.
///
/// The arena must be mapped as for [`run`].
pub fn abort<P: Platform>(p: &mut P, arena: Arena) {
    let cores = p.cores();
    if arena.len() < control_bytes(cores) {
        return;
    }
    let mem = arena.shared();
    Control::new(mem, p.core(), cores, 1, 0).abort(p);
}
