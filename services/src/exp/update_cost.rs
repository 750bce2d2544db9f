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
//!   after it stops); the server's [`UpdateServer`] applies it to its
//!   private copy of `k` lines and replies; the server times each message
//!   from the poll that found it to the reply sent and adds those times up
//!   over [`BATCH`] messages per sample (its waits for the clients are not
//!   in them). The server checks that it applied exactly what each client
//!   sent (`update-check`). With one core there is no client, and MSG is
//!   skipped (`update-skip`).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use urpc::bench::{self, Summary};
use urpc::{AckLine, Endpoint, RawMessage, Receiver, RecvError, SendError, Sender, Side, Variant};
use urpc::{duplex_region_size, region_size};

use super::ExpError;
use super::args::{Lines, Params, Request, Series, UpdateArgs};
use super::shared::{BLOCK, Bump, Control, control_bytes};
use super::stats::{Centi, median, pooled_per_op, sample_buffer};
use crate::platform::Platform;
use crate::proto::update::{ClientMsg, ServerReply, UpdateServer};
use crate::shm::Shared;

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
/// Samples for the timer's step and the `tsc_begin`/`tsc_end` overhead.
const OVERHEAD_SAMPLES: usize = 2000;
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
pub(crate) struct Plan {
    pub points: Vec<Point>,
    pub rounds: usize,
    pub updates: u64,
    pub ms: u64,
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
struct Layout {
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

/// Bytes E2 needs on `cores` cores.
pub(crate) fn arena_bytes(req: &Request, a: &UpdateArgs, cores: u32) -> usize {
    Layout::new(&Plan::new(req, a), cores).end
}

/// Words of a core's result line.
mod slot {
    pub const MEDIAN_X100: usize = 0;
    pub const P99_X100: usize = 8;
    pub const SAMPLES: usize = 16;
    pub const UPDATES: usize = 24;
    pub const ROUND_UPDATES: usize = 32;
    pub const OVERHEAD: usize = 40;
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
pub(crate) fn run<P: Platform>(
    p: &mut P,
    ctl: Control<'_>,
    mem: Shared<'_>,
    req: &Request,
) -> Result<(), ExpError> {
    let Params::UpdateCost(args) = req.params else {
        return Err(ExpError::BadRequest("not an update-cost request"));
    };
    let plan = Plan::new(req, &args);
    let lay = Layout::new(&plan, ctl.cores());
    let (me, cores) = (ctl.me(), ctl.cores());
    let timer = bench::timer_resolution(&mut alloc::vec![0; OVERHEAD_SAMPLES]);
    let overhead = timer.overhead;
    let hz = match p.tsc_hz() {
        0 => 1_000_000_000,
        hz => hz,
    };
    let budget = plan.ms.saturating_mul(hz) / 1000;
    if me == 0 {
        p.record(
            "exp-start",
            format_args!(
                "exp=update-cost cores={cores} quick={} rounds={} updates={} ms={} points={} server=0 batch={BATCH} timer_resolution={} tsc_overhead={overhead} tsc_hz={} args={req}",
                u8::from(req.quick),
                plan.rounds,
                plan.updates,
                plan.ms,
                plan.points.len(),
                timer.step,
                p.tsc_hz()
            ),
        );
    }
    ctl.barrier(p)?;
    for (i, &point) in plan.points.iter().enumerate() {
        if point.series == Series::Msg && cores < 2 {
            if me == 0 {
                p.record(
                    "update-skip",
                    format_args!(
                        "series=msg k={} cores={cores} reason=needs-a-server-and-a-client-core",
                        point.k
                    ),
                );
            }
            continue;
        }
        let mut samples: Vec<Vec<u64>> = Vec::with_capacity(plan.rounds);
        let round_cap = (MAX_SAMPLES / plan.rounds.max(1)).max(1);
        let mut check = Check::default();
        let mut total = 0;
        for _ in 0..plan.rounds {
            if me == 0 {
                reset(&ctl, &mem, &lay, &plan, point)?;
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
                    serve(&ctl, &mem, &lay, point.k, overhead, &mut round, &mut check)?
                }
                Series::Msg => client(&ctl, &mem, &lay, plan.updates, deadline, &mut round)?,
                s => shared_loop(
                    &ctl,
                    &mem,
                    &lay,
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
                check.round(&mem, &lay, i, point, cores)?;
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
            print_point(p, &mem, &lay, i, point, cores, &check);
        }
    }
    if me == 0 {
        p.record(
            "exp-done",
            format_args!("exp=update-cost cores={cores} ok=1"),
        );
    }
    ctl.barrier(p)
}

/// Core 0, before each round: zero the shared lines and the lock, clear
/// the stop flag, and for MSG format every client's channel.
fn reset(
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    lay: &Layout,
    plan: &Plan,
    point: Point,
) -> Result<(), ExpError> {
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

fn channel<'a>(
    mem: &Shared<'a>,
    lay: &Layout,
    client: u32,
    side: Side,
) -> Result<Endpoint<'a, AckLine>, ExpError> {
    let len = duplex_region_size(MSG_SLOTS);
    // Formatted by core 0 before the barrier.
    let duplex = mem.attach_duplex(lay.channel(client), len)?;
    Ok(duplex.endpoint::<AckLine>(side)?)
}

/// Retries `attempt` while it reports `busy` (a full or empty ring),
/// checking for an abort now and then; any other error breaks the channel
/// with `peer`.
fn retry<T, E>(
    ctl: &Control<'_>,
    peer: u32,
    mut attempt: impl FnMut() -> Result<T, E>,
    busy: impl Fn(&E) -> bool,
) -> Result<T, ExpError> {
    let mut spins = 0u32;
    loop {
        match attempt() {
            Ok(value) => return Ok(value),
            Err(e) if busy(&e) => {
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(CHECK_EVERY) {
                    ctl.check()?;
                }
            }
            Err(_) => {
                return Err(ExpError::Broken {
                    what: "update channel",
                    peer,
                });
            }
        }
    }
}

fn send(
    ctl: &Control<'_>,
    tx: &mut Sender<'_, AckLine>,
    msg: RawMessage,
    peer: u32,
) -> Result<(), ExpError> {
    retry(
        ctl,
        peer,
        || tx.try_send_raw(&msg),
        |e| *e == SendError::Full,
    )
}

fn recv(
    ctl: &Control<'_>,
    rx: &mut Receiver<'_, AckLine>,
    peer: u32,
) -> Result<RawMessage, ExpError> {
    retry(ctl, peer, || rx.try_recv_raw(), |e| *e == RecvError::Empty)
}

/// A client: synchronous update RPCs to core 0, timed in batches of
/// [`BATCH`] (a shorter last batch is not recorded). Returns the number
/// sent.
fn client(
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    lay: &Layout,
    updates: u64,
    deadline: u64,
    samples: &mut Vec<u64>,
) -> Result<u64, ExpError> {
    let me = ctl.me();
    let mut ep = channel(mem, lay, me, Side::B)?;
    let stop = ctl.stop();
    let mut seq = 0;
    let mut replies = [RawMessage::from_words(0, 0, &[0; urpc::PAYLOAD_WORDS]); BATCH as usize];
    while seq < updates {
        let n = (updates - seq).min(BATCH) as usize;
        let msgs: [RawMessage; BATCH as usize] = core::array::from_fn(|j| {
            ClientMsg::Update {
                client: me,
                seq: seq + j as u64,
                delta: 1,
            }
            .encode()
        });
        let t0 = bench::tsc_begin();
        for (msg, reply) in msgs.iter().zip(replies.iter_mut()).take(n) {
            send(ctl, &mut ep.tx, *msg, 0)?;
            *reply = recv(ctl, &mut ep.rx, 0)?;
        }
        let t1 = bench::tsc_end();
        if n as u64 == BATCH && samples.len() < samples.capacity() {
            samples.push(t1.wrapping_sub(t0));
        }
        for reply in &replies[..n] {
            match ServerReply::decode(reply) {
                Ok(ServerReply::Applied { seq: s, applied }) if s == seq && applied == seq + 1 => {}
                _ => return Err(ExpError::BadReply { client: me, seq }),
            }
            seq += 1;
        }
        if stop.load(Ordering::Relaxed) != 0 || t1 >= deadline {
            break;
        }
    }
    stop.store(1, Ordering::Relaxed);
    send(
        ctl,
        &mut ep.tx,
        ClientMsg::Done {
            client: me,
            sent: seq,
        }
        .encode(),
        0,
    )?;
    Ok(seq)
}

/// The server (core 0): polls every client's channel in turn and feeds
/// what arrives to an [`UpdateServer`] until every client is done; times
/// each update from the poll that found it to its reply, less `overhead`,
/// and records the sum over every [`BATCH`] updates. Returns the number of
/// updates applied.
fn serve(
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    lay: &Layout,
    k: u32,
    overhead: u64,
    samples: &mut Vec<u64>,
    check: &mut Check,
) -> Result<u64, ExpError> {
    let clients = lay.cores as u32 - 1;
    let mut eps = Vec::with_capacity(clients as usize);
    for c in 1..=clients {
        eps.push(channel(mem, lay, c, Side::A)?);
    }
    let mut server = UpdateServer::new(1, clients, k as usize);
    let mut idle = 0u32;
    let (mut busy, mut timed) = (0u64, 0u64);
    while !server.all_done() {
        for (i, ep) in eps.iter_mut().enumerate() {
            let client = i as u32 + 1;
            let t0 = bench::tsc_begin();
            match ep.rx.try_recv_raw() {
                Ok(msg) => {
                    let step = server.handle_raw(client, &msg)?;
                    if let Some(reply) = step.reply {
                        send(ctl, &mut ep.tx, reply.encode(), client)?;
                        let t1 = bench::tsc_end();
                        busy += t1.wrapping_sub(t0).saturating_sub(overhead);
                        timed += 1;
                        if timed == BATCH {
                            if samples.len() < samples.capacity() {
                                samples.push(busy);
                            }
                            (busy, timed) = (0, 0);
                        }
                    }
                }
                Err(RecvError::Empty) => {
                    idle = idle.wrapping_add(1);
                    if idle.is_multiple_of(CHECK_EVERY) {
                        ctl.check()?;
                    }
                }
                Err(_) => {
                    return Err(ExpError::Broken {
                        what: "update channel",
                        peer: client,
                    });
                }
            }
        }
    }
    let totals = server.conservation()?;
    check.applied_by_client = (1..=clients).map(|c| server.applied(c)).collect();
    check.copy_ok &= server
        .copy()
        .iter()
        .all(|l| l.0.iter().all(|&w| w == totals.applied));
    Ok(totals.applied)
}

/// What core 0 checks across a point's rounds.
#[derive(Clone, Debug)]
struct Check {
    /// Updates the cores say they did (MSG: the clients).
    sent: u64,
    /// Updates found applied (MSG: by the server; SHM: in the counter).
    applied: u64,
    /// MSG: the server's per-client counts of the current round.
    applied_by_client: Vec<u64>,
    /// MSG: the server's private copy matches its count.
    copy_ok: bool,
}

impl Default for Check {
    fn default() -> Check {
        Check {
            sent: 0,
            applied: 0,
            applied_by_client: Vec::new(),
            copy_ok: true,
        }
    }
}

impl Check {
    /// After a round: compares what the cores did with what the shared
    /// lines or the server hold. An atomic, locked or message-passing
    /// update that went missing is an error.
    fn round(
        &mut self,
        mem: &Shared<'_>,
        lay: &Layout,
        i: usize,
        point: Point,
        cores: u32,
    ) -> Result<(), ExpError> {
        let did = |c: u32| {
            mem.word(lay.result(i, c) + slot::ROUND_UPDATES)
                .load(Ordering::Relaxed)
        };
        let not_conserved = |expected, counted| ExpError::NotConserved {
            series: series_name(point.series, 1),
            k: point.k,
            expected,
            counted,
        };
        match point.series {
            Series::Msg => {
                for c in 1..cores {
                    let applied = self
                        .applied_by_client
                        .get(c as usize - 1)
                        .copied()
                        .unwrap_or(0);
                    if did(c) != applied {
                        return Err(not_conserved(did(c), applied));
                    }
                    self.sent += did(c);
                    self.applied += applied;
                }
                if !self.copy_ok {
                    return Err(not_conserved(self.sent, u64::MAX));
                }
            }
            series => {
                let expected: u64 = (0..cores).map(did).sum();
                let words = shared_words(mem, lay, point.k);
                let counted = words[0].load(Ordering::Relaxed);
                let exact = match series {
                    Series::Atomic => words
                        .iter()
                        .step_by(LINE_WORDS)
                        .all(|w| w.load(Ordering::Relaxed) == expected),
                    Series::Lock => words.iter().all(|w| w.load(Ordering::Relaxed) == expected),
                    _ => true,
                };
                if !exact {
                    return Err(not_conserved(expected, counted));
                }
                self.sent += expected;
                self.applied += counted;
            }
        }
        Ok(())
    }
}

fn print_point<P: Platform>(
    p: &mut P,
    mem: &Shared<'_>,
    lay: &Layout,
    i: usize,
    point: Point,
    cores: u32,
    check: &Check,
) {
    let k = point.k;
    let groups: &[(u32, u32)] = if point.series == Series::Msg {
        &[(1, cores), (0, 1)]
    } else {
        &[(0, cores)]
    };
    for &(from, to) in groups {
        let get = |c: u32, off: usize| mem.word(lay.result(i, c) + off).load(Ordering::Relaxed);
        let mut medians: Vec<u64> = (from..to).map(|c| get(c, slot::MEDIAN_X100)).collect();
        let p99 = (from..to)
            .map(|c| get(c, slot::P99_X100))
            .max()
            .unwrap_or(0);
        let samples: u64 = (from..to).map(|c| get(c, slot::SAMPLES)).sum();
        let updates: u64 = (from..to).map(|c| get(c, slot::UPDATES)).sum();
        let min = medians.iter().copied().min().unwrap_or(0);
        let max = medians.iter().copied().max().unwrap_or(0);
        let cycles = median(&mut medians);
        let overhead = get(from, slot::OVERHEAD);
        let name = series_name(point.series, from);
        let lost = if point.series == Series::Shm {
            check.sent.saturating_sub(check.applied)
        } else {
            0
        };
        p.record(
            "update-cost",
            format_args!(
                "series={name} k={k} cores={cores} cycles={} p99={} min_core={} max_core={} samples={samples} updates={updates} lost={lost} tsc_overhead={overhead}",
                Centi(cycles),
                Centi(p99),
                Centi(min),
                Centi(max)
            ),
        );
    }
    if point.series != Series::Shm {
        p.record(
            "update-check",
            format_args!(
                "series={} k={k} cores={cores} sent={} applied={} conserved={}",
                series_name(point.series, 1),
                check.sent,
                check.applied,
                u8::from(check.sent == check.applied)
            ),
        );
    }
}
