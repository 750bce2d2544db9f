//! E2: the cost of updating shared state by shared memory and by messages
//! (Multikernel, Figure 3).
//!
//! The experiment runs a list of *points*, each a series and a number `k`
//! of cache lines, `rounds` times each. A round of a point:
//!
//! 1. core 0 resets the point's shared state (the shared array, the lock,
//!    the stop flag; for MSG it formats one duplex channel per client);
//! 2. a barrier, which wakes every core, then a start barrier, which
//!    polls long enough that every core leaves it at nearly the same time;
//! 3. every core runs the point's loop (below) until it has done `updates`
//!    updates, or its round lasted `ms` milliseconds, or another core
//!    raised the stop flag (the first core done raises it, so the samples
//!    are taken while every core is still at work);
//! 4. barrier; core 0 checks the counts.
//!
//! After the last round every core summarises its samples into the result
//! table; core 0 prints one `update-cost` record per series line.
//!
//! The loops, per core (no platform call inside). Every sample times a
//! batch of [`BATCH`] updates and is reported per update in hundredths of
//! a cycle (`urpc::bench::Summary::per_op`): the TSC may advance in steps
//! of tens of cycles, too coarse for one update:
//!
//! - **SHM k** (`shm`): each update adds 1 to each of the 8 words of each of
//!   the `k` shared lines with plain (relaxed atomic) loads and stores, no
//!   lock, as in the paper: concurrent updates are lost, and the record
//!   says how many (`lost`).
//! - **SHM k atomic** (`shm-atomic`): one `fetch_add` on the first word of
//!   each of the `k` lines per update; no update is lost (checked).
//! - **SHM k lock** (`shm-lock`): a ticket lock in the arena around the
//!   plain update; no update is lost (checked).
//! - **MSG k** (`msg-client`, `msg-server`): core 0 is the server and cores
//!   1..N−1 are its clients. Each client sends an update over its own URPC
//!   channel and waits for the reply (a synchronous RPC; a sample times
//!   [`BATCH`] consecutive calls, built before the clock starts and checked
//!   after it stops); the server's [`UpdateServer`](crate::proto::update::UpdateServer) applies it to its
//!   private copy of `k` lines and replies; the server times each message
//!   from the poll that found it to the reply sent and adds those times up
//!   over [`BATCH`] messages per sample (its waits for the clients are not
//!   in them). The server checks that it applied exactly what each client
//!   sent (`update-check`). With one core there is no client, and MSG is
//!   skipped (`update-skip`).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use urpc::Variant;
use urpc::bench::{self, Summary};
use urpc::{duplex_region_size, region_size};

use super::ExpError;
use super::declare_exp::{experiment, slots};
use super::experiment::Run;
use super::record::emit;
use super::request::Request;
use super::shared::{BLOCK, Bump, Control, control_bytes};
use super::stats::{pooled_per_op, sample_buffer};
use crate::platform::Platform;
use crate::shm::Shared;

mod args;
mod msg;
mod records;

pub use super::catalog::{UpdateCheck, UpdatePoint, UpdateSkip, UpdateStart};
pub use args::{Lines, MAX_LINES, Series, UpdateArgs};
use msg::{client, serve};
use records::{Check, print_point};

experiment! {
    /// E2 (`exp=update-cost`).
    UpdateCost = "update-cost"(UpdateArgs) run_points;
    plan(req, args, _cores) Ok(Plan::new(req, args));
}

/// Words per cache line.
const LINE_WORDS: usize = 8;
/// Updates per timed sample, in every series (an MSG client's RPC is about
/// 800 cycles, so a sample spans hundreds of timer steps).
const BATCH: u64 = 16;
/// Slots per ring of a client's channel (the RPC is synchronous).
const MSG_SLOTS: usize = 4;
/// Bytes of one core's line in the result table.
const RESULT_BYTES: usize = 64;
/// Empty polls between two looks at the abort flag.
const CHECK_EVERY: u32 = 4096;
/// Most samples a core keeps over all rounds of a point (2 MiB; a round
/// keeps `MAX_SAMPLES / rounds`, later ones are not recorded), so that the
/// samples and their sorted copy fit a ring-3 heap whatever `rounds` is.
const MAX_SAMPLES: usize = 262_144;

/// A series and its number of lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Point {
    pub series: Series,
    pub k: u32,
}

/// E2's parameters, defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub(crate) points: Vec<Point>,
    pub(crate) rounds: usize,
    pub(crate) updates: u64,
    pub(crate) ms: u64,
}

impl Plan {
    pub(crate) fn new(req: &Request, a: &UpdateArgs) -> Plan {
        let mask = a.series.unwrap_or(Series::all_mask());
        let k = a.k.unwrap_or(Lines::of(&[1, 2, 4, 8]));
        let sync_k = a.sync_k.unwrap_or(Lines::of(&[8]));
        let msg_k = a.msg_k.unwrap_or(Lines::of(&[1, 8]));
        let mut points = Vec::new();
        for series in Series::ALL.into_iter().filter(|s| s.is_in(mask)) {
            let lines = match series {
                Series::Shm => k,
                Series::Atomic | Series::Lock => sync_k,
                Series::Msg => msg_k,
            };
            points.extend(lines.iter().map(|k| Point { series, k }));
        }
        Plan {
            points,
            rounds: req.rounds() as usize,
            updates: u64::from(a.updates.unwrap_or(if req.quick { 5000 } else { 100_000 })),
            ms: u64::from(a.ms.unwrap_or(if req.quick { 40 } else { 500 })),
        }
    }

    fn max_k(&self) -> usize {
        self.points.iter().map(|p| p.k as usize).max().unwrap_or(0)
    }
}

/// Where E2's regions are in the arena.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    array: usize,
    lock: usize,
    results: usize,
    channels: usize,
    channel_stride: usize,
    cores: usize,
    end: usize,
}

impl Layout {
    fn new(plan: &Plan, cores: u32) -> Layout {
        let mut b = Bump::at(control_bytes(cores));
        let array = b.take(plan.max_k() * 64);
        let lock = b.take(2 * BLOCK);
        let results = b.take(plan.points.len() * cores as usize * RESULT_BYTES);
        let channel_stride = duplex_region_size(MSG_SLOTS).next_multiple_of(BLOCK);
        let channels = b.take(cores.saturating_sub(1) as usize * channel_stride);
        Layout {
            array,
            lock,
            results,
            channels,
            channel_stride,
            cores: cores as usize,
            end: b.end(),
        }
    }

    fn result(&self, point: usize, core: u32) -> usize {
        self.results + (point * self.cores + core as usize) * RESULT_BYTES
    }

    fn channel(&self, client: u32) -> usize {
        self.channels + (client as usize - 1) * self.channel_stride
    }
}

slots! {
    /// Words of a core's result line.
    step 8: MEDIAN_X100 P99_X100 SAMPLES UPDATES ROUND_UPDATES OVERHEAD
}

/// The record name of a point's series as measured by `core`.
fn series_name(series: Series, core: u32) -> &'static str {
    match series {
        Series::Shm => "shm",
        Series::Atomic => "shm-atomic",
        Series::Lock => "shm-lock",
        Series::Msg if core == 0 => "msg-server",
        Series::Msg => "msg-client",
    }
}

/// Runs E2 on this core.
fn run_points<P: Platform>(p: &mut P, run: Run<'_, UpdateCost>) -> Result<(), ExpError> {
    let (plan, lay, ctl, mem) = (&run.plan, &run.lay, &run.ctl, &run.mem);
    let (me, cores, overhead) = (run.me, run.cores, run.overhead());
    let hz = match p.tsc_hz() {
        0 => 1_000_000_000,
        hz => hz,
    };
    let budget = plan.ms.saturating_mul(hz) / 1000;
    let own = UpdateStart {
        updates: plan.updates,
        ms: plan.ms,
        points: plan.points.len() as u64,
        server: 0,
        batch: BATCH,
    };
    run.start(p, own);
    ctl.barrier(p)?;
    for (i, &point) in plan.points.iter().enumerate() {
        if point.series == Series::Msg && cores < 2 {
            if me == 0 {
                let rec = UpdateSkip {
                    series: "msg",
                    k: point.k,
                    cores,
                    reason: "needs-a-server-and-a-client-core",
                };
                emit(p, &rec);
            }
            continue;
        }
        let mut samples: Vec<Vec<u64>> = Vec::with_capacity(plan.rounds);
        let round_cap = (MAX_SAMPLES / plan.rounds.max(1)).max(1);
        let mut check = Check::default();
        let mut total = 0;
        for _ in 0..plan.rounds {
            if me == 0 {
                reset(&run, point)?;
            }
            let cap = match point.series {
                Series::Msg if me == 0 => round_cap,
                _ => ((plan.updates / BATCH) as usize + 1).min(round_cap),
            };
            let mut round = sample_buffer(cap);
            ctl.barrier(p)?;
            ctl.start_barrier(p)?;
            let deadline = bench::tsc_begin().saturating_add(budget);
            let done = match point.series {
                Series::Msg if me == 0 => {
                    serve(ctl, mem, lay, point.k, overhead, &mut round, &mut check)?
                }
                Series::Msg => client(ctl, mem, lay, plan.updates, deadline, &mut round)?,
                s => shared_loop(
                    ctl,
                    mem,
                    lay,
                    s,
                    point.k,
                    plan.updates,
                    deadline,
                    &mut round,
                ),
            };
            mem.word(lay.result(i, me) + slot::ROUND_UPDATES)
                .store(done, Ordering::Relaxed);
            total += done;
            samples.push(round);
            ctl.barrier(p)?;
            if me == 0 {
                check.round(mem, lay, i, point, cores)?;
            }
        }
        // The server subtracted the overhead from each message it timed.
        let per_sample = match point.series {
            Series::Msg if me == 0 => 0,
            _ => overhead,
        };
        let s = pooled_per_op(&mut samples, per_sample, BATCH).unwrap_or(Summary {
            count: 0,
            min: 0,
            median: 0,
            p99: 0,
            max: 0,
        });
        let at = lay.result(i, me);
        for (off, v) in [
            (slot::MEDIAN_X100, s.median),
            (slot::P99_X100, s.p99),
            (slot::SAMPLES, s.count as u64),
            (slot::UPDATES, total),
            (slot::OVERHEAD, overhead),
        ] {
            mem.word(at + off).store(v, Ordering::Relaxed);
        }
        ctl.barrier(p)?;
        if me == 0 {
            print_point(p, mem, lay, i, point, cores, &check);
        }
    }
    run.done(p);
    ctl.barrier(p)
}

/// Core 0, before each round: zero the shared lines and the lock, clear
/// the stop flag, and for MSG format every client's channel.
fn reset(run: &Run<'_, UpdateCost>, point: Point) -> Result<(), ExpError> {
    let (ctl, mem, lay, plan) = (&run.ctl, &run.mem, &run.lay, &run.plan);
    ctl.stop().store(0, Ordering::Relaxed);
    mem.zero(lay.array, plan.max_k() * 64);
    mem.zero(lay.lock, 2 * BLOCK);
    if point.series == Series::Msg {
        let one = region_size(MSG_SLOTS);
        for client in 1..lay.cores as u32 {
            for at in [lay.channel(client), lay.channel(client) + one] {
                // No endpoint exists now: the last round's ended before the
                // last barrier.
                mem.format_ring(at, one, MSG_SLOTS, Variant::AckLine)?;
            }
        }
    }
    Ok(())
}

/// The words of the first `k` shared lines.
fn shared_words<'a>(mem: &Shared<'a>, lay: &Layout, k: u32) -> Vec<&'a AtomicU64> {
    (0..k as usize * LINE_WORDS)
        .map(|w| mem.word(lay.array + 8 * w))
        .collect()
}

/// The shared-memory loops. Returns the number of updates done.
#[allow(clippy::too_many_arguments)]
fn shared_loop(
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    lay: &Layout,
    series: Series,
    k: u32,
    updates: u64,
    deadline: u64,
    samples: &mut Vec<u64>,
) -> u64 {
    let words = shared_words(mem, lay, k);
    let firsts: Vec<&AtomicU64> = words.iter().step_by(LINE_WORDS).copied().collect();
    let next = mem.word(lay.lock);
    let serving = mem.word(lay.lock + BLOCK);
    let plain = || {
        for w in &words {
            w.store(w.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        }
    };
    match series {
        Series::Atomic => timed(ctl, updates, deadline, samples, || {
            for w in &firsts {
                w.fetch_add(1, Ordering::Relaxed);
            }
        }),
        Series::Lock => timed(ctl, updates, deadline, samples, || {
            let ticket = next.fetch_add(1, Ordering::Relaxed);
            while serving.load(Ordering::Acquire) != ticket {
                core::hint::spin_loop();
            }
            plain();
            serving.store(ticket.wrapping_add(1), Ordering::Release);
        }),
        _ => timed(ctl, updates, deadline, samples, plain),
    }
}

/// Times batches of [`BATCH`] calls of `op` until `updates` are done,
/// `deadline` passes or the stop flag is up; then raises the stop flag.
#[inline(always)]
fn timed(
    ctl: &Control<'_>,
    updates: u64,
    deadline: u64,
    samples: &mut Vec<u64>,
    mut op: impl FnMut(),
) -> u64 {
    let stop = ctl.stop();
    let mut done = 0;
    while done < updates {
        let t0 = bench::tsc_begin();
        for _ in 0..BATCH {
            op();
        }
        let t1 = bench::tsc_end();
        if samples.len() < samples.capacity() {
            samples.push(t1.wrapping_sub(t0));
        }
        done += BATCH;
        if stop.load(Ordering::Relaxed) != 0 || t1 >= deadline {
            break;
        }
    }
    stop.store(1, Ordering::Relaxed);
    done
}
