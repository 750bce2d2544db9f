//! Measurement loops and statistics, free of `std` so that the same code runs
//! on hosted Linux threads and in ring 3 on bare metal.
//!
//! The caller provides everything: the shared regions (a [`PingPong`] pair of
//! lines, formatted rings), the threads and their pinning, and the slices the
//! cycle samples go into. Each loop has two halves, one per core:
//!
//! | what | initiator / measuring side | other side |
//! |---|---|---|
//! | physical baseline: cache-line ping-pong over the lines of a duplex region | [`lines_ping_pong_initiator`] | [`lines_ping_pong_responder`] |
//! | the same on one fixed pair of lines | [`ping_pong_initiator`] | [`ping_pong_responder`] |
//! | message round trip | [`rtt_initiator`] | [`rtt_responder`] |
//! | pipelined throughput | [`throughput_receiver`] | [`throughput_sender`] |
//!
//! The message loops are generic over [`Tx`] and [`Rx`], implemented here for
//! [`Sender`] and [`Receiver`] (each message is a full 56-byte payload, see
//! [`bench_payload`]) and implementable for any other queue (for a `u64`, say),
//! so that competitors run exactly the same loop. The round-trip responder
//! echoes each message unchanged and the initiator checks every echo (a
//! branch-free compare, counted); the throughput receiver checks every
//! message's value and order as part of consuming it.
//!
//! Timing: [`tsc_begin`] is `lfence; rdtsc; lfence` and [`tsc_end`] is
//! `rdtscp; lfence`, so the measured region can neither start early nor end
//! late. [`tsc_overhead`] measures the cost of an empty begin/end pair, which
//! [`Summary::of`] subtracts. Statistics: [`discard_warmup`] drops the first
//! [`WARMUP_PERCENT`] percent of samples (in time order); [`Summary::of`]
//! sorts the rest in place and reports the median (lower median) and the
//! nearest-rank 99th percentile.
//!
//! Batches: a counter that advances in coarse steps (about 25 cycles on
//! some hosts, see [`timer_resolution`]) cannot time a single operation of
//! a few hundred cycles to better than several percent. The round-trip
//! loops therefore time `batch` consecutive operations per sample
//! ([`DEFAULT_BATCH`] by default); [`Summary::per_op`] subtracts the timer
//! overhead once per sample and reports each sample per operation in
//! hundredths of a cycle ([`per_op_x100`], rounded to nearest). The other
//! side runs [`batched_ops`] operations.
//!
//! Lines: what one transfer of a line costs depends on the line's address
//! (on the development host, by up to ±7 % from one pair of lines to the
//! next, and from one run to the next as the physical pages change), and a
//! ring moves a different line for each message. The physical baseline to
//! hold a channel against is therefore [`lines_ping_pong_initiator`]: the
//! same ping-pong, one 8-byte flag per message, moving from slot to slot of
//! a duplex region exactly as the channel's messages do. The single pair of
//! [`PingPong`] is kept for reference.
//!
//! In ring 3, `rdtsc` faults if the kernel has set `CR4.TSD`.
//!
//! The poll loops spin without `pause`, as message-passing poll loops do, so
//! each side reacts as soon as the line arrives. Nothing here asserts on time.

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::backend::Backend;
use crate::channel::{FlowControl, Receiver, Sender};
use crate::error::{RecvError, SendError};
use crate::layout::HEADER_FULL;
use crate::layout::{PAYLOAD_BYTES, PAYLOAD_WORDS};
use crate::ring::Duplex;

/// Percentage of samples, from the start, treated as warm-up.
pub const WARMUP_PERCENT: usize = 10;

/// Message tag used by the benchmark loops.
pub const BENCH_TAG: u16 = 0xBE;

/// Operations timed together per sample by default: 32 round trips of
/// about 300 cycles span about 400 steps of a 25-cycle counter.
pub const DEFAULT_BATCH: u64 = 32;

/// Reads the time-stamp counter at the start of a measured region:
/// `lfence; rdtsc; lfence` (earlier instructions complete first, later ones
/// wait for the read). Also a compiler barrier.
#[inline(always)]
pub fn tsc_begin() -> u64 {
    let lo: u32;
    let hi: u32;
    // SAFETY: `lfence` and `rdtsc` only serialise and read the time-stamp
    // counter; they touch no memory and no stack. (In ring 3 `rdtsc` raises
    // #GP if CR4.TSD is set; that is a fault for the kernel, not undefined
    // behaviour.) No `nomem`, so the compiler keeps memory accesses on their
    // side of the read.
    unsafe {
        asm!("lfence", "rdtsc", "lfence", out("eax") lo, out("edx") hi,
             options(nostack, preserves_flags));
    }
    ((hi as u64) << 32) | lo as u64
}

/// Reads the time-stamp counter at the end of a measured region:
/// `rdtscp; lfence` (`rdtscp` waits for earlier instructions; the fence keeps
/// later ones out). Also a compiler barrier.
#[inline(always)]
pub fn tsc_end() -> u64 {
    let lo: u32;
    let hi: u32;
    // SAFETY: as for `tsc_begin`; `rdtscp` also writes the processor id into
    // ecx, which is declared clobbered.
    unsafe {
        asm!("rdtscp", "lfence", out("eax") lo, out("edx") hi, out("ecx") _,
             options(nostack, preserves_flags));
    }
    ((hi as u64) << 32) | lo as u64
}

/// Reads the time-stamp counter with a bare `rdtsc` (no fences), so that
/// successive reads are as close together as the instruction allows. The
/// one plain TSC read of the project: the CPU driver, the ring-3 runtime and
/// the hosted platform all use it.
#[inline(always)]
pub fn rdtsc() -> u64 {
    let lo: u32;
    let hi: u32;
    // SAFETY: as for `tsc_begin`.
    unsafe {
        asm!("rdtsc", out("eax") lo, out("edx") hi, options(nostack, preserves_flags));
    }
    ((hi as u64) << 32) | lo as u64
}

/// What the timer can resolve, measured by [`timer_resolution`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerResolution {
    /// The smallest non-zero difference between two successive counter
    /// reads, in cycles: the counter's step, or the cost of one read where
    /// that is larger.
    pub step: u64,
    /// The cost of an empty [`tsc_begin`]/[`tsc_end`] pair, as
    /// [`tsc_overhead`] measures it (itself a multiple of the step).
    pub overhead: u64,
}

/// Measures the timer: fills `samples` with the differences between
/// successive bare counter reads and takes the smallest non-zero one
/// ([`smallest_step`]), then reuses `samples` for [`tsc_overhead`].
pub fn timer_resolution(samples: &mut [u64]) -> TimerResolution {
    let mut prev = rdtsc();
    for s in samples.iter_mut() {
        let t = rdtsc();
        *s = t.wrapping_sub(prev);
        prev = t;
    }
    let step = smallest_step(samples);
    TimerResolution {
        step,
        overhead: tsc_overhead(samples),
    }
}

/// The smallest non-zero value of `diffs` (0 if there is none).
pub fn smallest_step(diffs: &[u64]) -> u64 {
    diffs.iter().copied().filter(|&d| d != 0).min().unwrap_or(0)
}

/// One operation's share, in hundredths of a cycle and rounded to nearest,
/// of `cycles` spent on `batch` operations (0 when `batch` is 0).
pub const fn per_op_x100(cycles: u64, batch: u64) -> u64 {
    if batch == 0 {
        return 0;
    }
    let v = (cycles as u128 * 100 + batch as u128 / 2) / batch as u128;
    if v > u64::MAX as u128 {
        u64::MAX
    } else {
        v as u64
    }
}

/// Operations the other side of a batched loop must run for `samples`
/// samples of `batch` operations each.
pub const fn batched_ops(samples: usize, batch: u64) -> usize {
    samples * batch as usize
}

/// Fills `samples` with the cost of an empty [`tsc_begin`]/[`tsc_end`] pair
/// and returns the smallest after warm-up (0 for an empty slice).
///
/// The minimum, not the median: anything above it is interference
/// (preemption, an emulated TSC read under a busy host), which is not part
/// of every measured sample. Subtracting an inflated median can wipe out
/// short samples entirely.
pub fn tsc_overhead(samples: &mut [u64]) -> u64 {
    for s in samples.iter_mut() {
        let t0 = tsc_begin();
        let t1 = tsc_end();
        *s = t1.wrapping_sub(t0);
    }
    Summary::of(discard_warmup(samples), 0).map_or(0, |s| s.min)
}

/// The samples left after dropping the first [`WARMUP_PERCENT`] percent.
pub fn discard_warmup(samples: &mut [u64]) -> &mut [u64] {
    let skip = samples.len() * WARMUP_PERCENT / 100;
    &mut samples[skip..]
}

/// Order statistics of a set of cycle samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// Smallest sample.
    pub min: u64,
    /// Lower median.
    pub median: u64,
    /// Nearest-rank 99th percentile.
    pub p99: u64,
    /// Largest sample.
    pub max: u64,
}

impl Summary {
    /// Subtracts `overhead` from every sample (saturating), sorts the samples
    /// in place and summarises them. `None` for an empty slice.
    pub fn of(samples: &mut [u64], overhead: u64) -> Option<Summary> {
        let n = samples.len();
        if n == 0 {
            return None;
        }
        for s in samples.iter_mut() {
            *s = s.saturating_sub(overhead);
        }
        samples.sort_unstable();
        Some(Summary {
            count: n,
            min: samples[0],
            median: samples[(n - 1) / 2],
            p99: samples[(n * 99).div_ceil(100) - 1],
            max: samples[n - 1],
        })
    }

    /// Summarises samples that each timed `batch` operations, per
    /// operation: subtracts `overhead` from every sample (saturating, once
    /// per sample: one begin/end pair timed the whole batch), turns each
    /// into hundredths of a cycle per operation ([`per_op_x100`]), sorts
    /// them in place and summarises them. Every field but `count` is then in
    /// hundredths of a cycle. `None` for an empty slice. Drop the warm-up
    /// first ([`discard_warmup`]).
    pub fn per_op(samples: &mut [u64], overhead: u64, batch: u64) -> Option<Summary> {
        for s in samples.iter_mut() {
            *s = per_op_x100(s.saturating_sub(overhead), batch);
        }
        Summary::of(samples, 0)
    }
}

/// Messages per 1000 cycles, times 100 (so `1234` reads `12.34`), for
/// `messages` received in `cycles`. Integer-only, for bare metal.
pub fn msgs_per_kcycle_x100(messages: u64, cycles: u64) -> u64 {
    if cycles == 0 {
        return 0;
    }
    ((messages as u128 * 100_000) / cycles as u128) as u64
}

/// Why a measurement loop stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchError {
    /// The channel reported an error other than full/empty.
    Broken,
}

/// A non-empty try failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// Full or empty: try again.
    Retry,
    /// The channel is broken.
    Broken,
}

/// What a queue under measurement carries, built from and checked against a
/// sequence value.
pub trait BenchMsg: Copy {
    /// The message for `value`.
    fn from_value(value: u64) -> Self;
    /// The value it carries; a value that no `from_value` produced if the
    /// message is damaged (so a torn message shows up as a wrong value).
    fn value(&self) -> u64;
}

/// A `u64` carries itself (the competitor queues).
impl BenchMsg for u64 {
    #[inline(always)]
    fn from_value(value: u64) -> Self {
        value
    }
    #[inline(always)]
    fn value(&self) -> u64 {
        *self
    }
}

/// A URPC payload: [`bench_payload`] / [`bench_value`].
impl BenchMsg for [u64; PAYLOAD_WORDS] {
    #[inline(always)]
    fn from_value(value: u64) -> Self {
        bench_payload(value)
    }
    #[inline(always)]
    fn value(&self) -> u64 {
        bench_value(self)
    }
}

/// The sending half of a queue under measurement.
pub trait Tx {
    /// What it carries.
    type Msg: BenchMsg;
    /// Tries to send `msg`.
    fn try_send_msg(&mut self, msg: &Self::Msg) -> Result<(), Stall>;
}

/// The receiving half of a queue under measurement.
pub trait Rx {
    /// What it carries.
    type Msg: BenchMsg;
    /// Tries to receive a message.
    fn try_recv_msg(&mut self) -> Result<Self::Msg, Stall>;
}

/// Per-word constants of the benchmark payload.
const WORD_KEYS: [u64; PAYLOAD_WORDS] = [
    0,
    0x9E37_79B9_7F4A_7C15,
    0xBF58_476D_1CE4_E5B9,
    0x94D0_49BB_1331_11EB,
    0xD6E8_FEB8_6659_FD93,
    0xA076_1D64_78BD_642F,
    0xE703_7ED1_A0B4_28DB,
];

/// The 56-byte payload the benchmark sends for `value`: word `i` is `value`
/// xor a fixed per-word constant, so every word depends on the value and a
/// mix of two messages is detected.
#[inline(always)]
pub fn bench_payload(value: u64) -> [u64; PAYLOAD_WORDS] {
    core::array::from_fn(|i| value ^ WORD_KEYS[i])
}

/// The value carried by a benchmark payload, altered if any word is not what
/// [`bench_payload`] wrote.
#[inline(always)]
pub fn bench_value(words: &[u64; PAYLOAD_WORDS]) -> u64 {
    let mut diff = 0;
    for i in 1..PAYLOAD_WORDS {
        diff |= words[i] ^ words[0] ^ WORD_KEYS[i];
    }
    words[0] ^ diff
}

/// Sends all 56 payload bytes, tag [`BENCH_TAG`].
impl<F: FlowControl, B: Backend> Tx for Sender<'_, F, B> {
    type Msg = [u64; PAYLOAD_WORDS];
    #[inline(always)]
    fn try_send_msg(&mut self, msg: &Self::Msg) -> Result<(), Stall> {
        match self.try_send_words(BENCH_TAG, PAYLOAD_BYTES, msg) {
            Ok(()) => Ok(()),
            Err(SendError::Full) => Err(Stall::Retry),
            Err(_) => Err(Stall::Broken),
        }
    }
}

/// Reads all 56 payload bytes.
impl<F: FlowControl, B: Backend> Rx for Receiver<'_, F, B> {
    type Msg = [u64; PAYLOAD_WORDS];
    #[inline(always)]
    fn try_recv_msg(&mut self) -> Result<Self::Msg, Stall> {
        match self.try_recv_words() {
            Ok((_, _, words)) => Ok(words),
            Err(RecvError::Empty) => Err(Stall::Retry),
            Err(_) => Err(Stall::Broken),
        }
    }
}

#[inline(always)]
fn send<T: Tx>(tx: &mut T, msg: &T::Msg) -> Result<(), BenchError> {
    loop {
        match tx.try_send_msg(msg) {
            Ok(()) => return Ok(()),
            Err(Stall::Retry) => {}
            Err(Stall::Broken) => return Err(BenchError::Broken),
        }
    }
}

#[inline(always)]
fn recv<R: Rx>(rx: &mut R) -> Result<R::Msg, BenchError> {
    loop {
        match rx.try_recv_msg() {
            Ok(m) => return Ok(m),
            Err(Stall::Retry) => {}
            Err(Stall::Broken) => return Err(BenchError::Broken),
        }
    }
}

/// Two flags in separate 128-byte blocks (so neither the line nor its
/// adjacent-line prefetch partner is shared): the physical baseline.
#[derive(Debug, Default)]
#[repr(C)]
pub struct PingPong {
    ping: Padded,
    pong: Padded,
}

#[derive(Debug, Default)]
#[repr(C, align(128))]
struct Padded(AtomicU64);

impl PingPong {
    /// Both flags zero.
    pub const fn new() -> Self {
        PingPong {
            ping: Padded(AtomicU64::new(0)),
            pong: Padded(AtomicU64::new(0)),
        }
    }
}

/// Physical baseline, measuring side: for each sample, runs `batch` rounds
/// (round `r` writes `r` into the ping line with Release and spins with
/// Acquire until the responder echoes it in the pong line, rounds numbered
/// from 1) and records the cycles of the whole batch. Run
/// [`ping_pong_responder`] with [`batched_ops`]`(samples.len(), batch)`
/// rounds on another core. Use a fresh (or reset) [`PingPong`] for each
/// run.
pub fn ping_pong_initiator(lines: &PingPong, batch: u64, samples: &mut [u64]) {
    let mut round = 0u64;
    for s in samples.iter_mut() {
        let t0 = tsc_begin();
        for _ in 0..batch {
            round += 1;
            lines.ping.0.store(round, Ordering::Release);
            while lines.pong.0.load(Ordering::Acquire) != round {}
        }
        let t1 = tsc_end();
        *s = t1.wrapping_sub(t0);
    }
}

/// Physical baseline, other side: echoes `rounds` rounds.
pub fn ping_pong_responder(lines: &PingPong, rounds: usize) {
    for i in 0..rounds {
        let round = i as u64 + 1;
        while lines.ping.0.load(Ordering::Acquire) != round {}
        lines.pong.0.store(round, Ordering::Release);
    }
}

/// The flag of round `round` in the lines ping-pong: never a header that
/// formatting writes (those have the full bit clear).
#[inline(always)]
const fn line_flag(round: u64) -> u64 {
    round | HEADER_FULL
}

/// Physical baseline over the lines of a duplex region, measuring side:
/// for each sample, runs `batch` rounds and records the cycles of the whole
/// batch. Round `r` (numbered from `first + 1`) writes its flag into the
/// header word of slot `r mod N` of the A-to-B ring (Release) and spins
/// (Acquire) until the responder echoes it in slot `r mod N` of the B-to-A
/// ring: the lines, and their order, that `N` messages each way take over
/// the channel, with nothing but one 8-byte store per message. Run
/// [`lines_ping_pong_responder`] with the same `first` and
/// [`batched_ops`]`(samples.len(), batch)` rounds on another core.
///
/// The region is not a channel while and after this runs (format it again
/// to use it as one), and no endpoint may be attached to it. No round of
/// this run may have a number an earlier run wrote on these lines (start
/// `first` past them; 0 on freshly formatted lines).
pub fn lines_ping_pong_initiator(lines: Duplex<'_>, first: u64, batch: u64, samples: &mut [u64]) {
    let (out, inn) = (lines.a_to_b.slots, lines.b_to_a.slots);
    let n = out.len().min(inn.len());
    if n == 0 {
        return;
    }
    let mut round = first;
    let mut i = (first % n as u64) as usize;
    for s in samples.iter_mut() {
        let t0 = tsc_begin();
        for _ in 0..batch {
            round += 1;
            i += 1;
            if i == n {
                i = 0;
            }
            out[i].header.store(line_flag(round), Ordering::Release);
            while inn[i].header.load(Ordering::Acquire) != line_flag(round) {}
        }
        let t1 = tsc_end();
        *s = t1.wrapping_sub(t0);
    }
}

/// Physical baseline over the lines of a duplex region, other side: echoes
/// `rounds` rounds of [`lines_ping_pong_initiator`] (the same `first`).
pub fn lines_ping_pong_responder(lines: Duplex<'_>, first: u64, rounds: usize) {
    let (inn, out) = (lines.a_to_b.slots, lines.b_to_a.slots);
    let n = out.len().min(inn.len());
    if n == 0 {
        return;
    }
    let mut round = first;
    let mut i = (first % n as u64) as usize;
    for _ in 0..rounds {
        round += 1;
        i += 1;
        if i == n {
            i = 0;
        }
        while inn[i].header.load(Ordering::Acquire) != line_flag(round) {}
        out[i].header.store(line_flag(round), Ordering::Release);
    }
}

/// Physical streaming baseline over the lines of a duplex region, sending
/// side: message `r` (numbered from `first + 1`, `count` of them) is one
/// 8-byte Release store of its flag into the header word of slot `r mod N`
/// of the A-to-B ring, as soon as the receiver has consumed the message
/// that slot held before (`r − N`). The receiver's credit is one line, the
/// header of slot 0 of the B-to-A ring, written every `N/2` messages: the
/// least a bounded ring can cost, so that a URPC variant's throughput can
/// be given as a fraction of what the same lines carry with no protocol.
/// Run [`lines_stream_receiver`] with the same `first` on another core.
///
/// The region is not a channel while and after this runs (format it again
/// to use it as one), and no endpoint may be attached to it. `first` must
/// be at least every number an earlier run wrote on these lines (0 on
/// freshly formatted lines): a larger one in a slot reads as overwritten.
pub fn lines_stream_sender(lines: Duplex<'_>, first: u64, count: u64) {
    let (out, credit) = (lines.a_to_b.slots, lines.b_to_a.slots);
    let n = out.len() as u64;
    let Some(credit) = credit.first() else { return };
    if n == 0 {
        return;
    }
    let mut consumed = first;
    for r in first + 1..=first + count {
        while r - consumed > n {
            let c = credit.header.load(Ordering::Acquire) & !HEADER_FULL;
            consumed = consumed.max(c);
        }
        out[(r % n) as usize]
            .header
            .store(line_flag(r), Ordering::Release);
    }
}

/// Physical streaming baseline, measuring side: waits for the first message
/// of [`lines_stream_sender`] (untimed), then for each sample times the
/// arrival of `batch` messages, as [`throughput_receiver`] does for a
/// channel. Returns the number of messages that were overwritten before
/// they were read (0 unless the sender ran past the credit). Run the sender
/// with the same `first` and [`throughput_messages`]`(samples.len(), batch)`
/// messages.
pub fn lines_stream_receiver(
    lines: Duplex<'_>,
    first: u64,
    batch: u64,
    samples: &mut [u64],
) -> u64 {
    let (inn, credit) = (lines.a_to_b.slots, lines.b_to_a.slots);
    let n = inn.len() as u64;
    let Some(credit) = credit.first() else {
        return 0;
    };
    if n == 0 {
        return 0;
    }
    let every = (n / 2).max(1);
    let mut round = first;
    let mut bad = 0;
    let mut take = |round: u64| {
        let want = line_flag(round);
        let slot = &inn[(round % n) as usize].header;
        loop {
            let h = slot.load(Ordering::Acquire);
            if h == want {
                break;
            }
            // A later message in this slot: the one wanted was overwritten.
            if h & HEADER_FULL != 0 && h > want {
                bad += 1;
                break;
            }
        }
        if (round - first).is_multiple_of(every) {
            credit.header.store(line_flag(round), Ordering::Release);
        }
    };
    round += 1;
    take(round);
    for s in samples.iter_mut() {
        let t0 = tsc_begin();
        for _ in 0..batch {
            round += 1;
            take(round);
        }
        let t1 = tsc_end();
        *s = t1.wrapping_sub(t0);
    }
    credit.header.store(line_flag(round), Ordering::Release);
    bad
}

/// Round trip, measuring side: for each sample, runs `batch` round trips
/// (sends a message and waits for its echo) and records the cycles of the
/// whole batch. Each echo is compared with the message sent (branch-free)
/// after the next message has gone out, and each message is built before
/// the echo of the previous one arrives: both happen while a message
/// travels, so that a round trip costs what the channel costs, as when the
/// clock stopped around each one. Returns the number of echoes that were
/// not the message sent (0 on a correct channel). Run [`rtt_responder`]
/// with [`batched_ops`]`(samples.len(), batch)` rounds on another core.
pub fn rtt_initiator<T: Tx, R: Rx<Msg = T::Msg>>(
    tx: &mut T,
    rx: &mut R,
    batch: u64,
    samples: &mut [u64],
) -> Result<u64, BenchError> {
    let mut bad = 0;
    let mut value = 0u64;
    let mut msg = T::Msg::from_value(value);
    // The last echo received and the value it must carry (none yet: a
    // message that checks).
    let mut echoed = u64::MAX;
    let mut echo = T::Msg::from_value(echoed);
    for s in samples.iter_mut() {
        let t0 = tsc_begin();
        for _ in 0..batch {
            send(tx, &msg)?;
            bad += (echo.value() != echoed) as u64;
            echoed = value;
            value += 1;
            msg = T::Msg::from_value(value);
            echo = recv(rx)?;
        }
        let t1 = tsc_end();
        *s = t1.wrapping_sub(t0);
    }
    bad += (echo.value() != echoed) as u64;
    Ok(bad)
}

/// Round trip, other side: echoes `rounds` messages unchanged (every payload
/// word is read and written back).
pub fn rtt_responder<R: Rx, T: Tx<Msg = R::Msg>>(
    rx: &mut R,
    tx: &mut T,
    rounds: usize,
) -> Result<(), BenchError> {
    for _ in 0..rounds {
        let m = recv(rx)?;
        send(tx, &m)?;
    }
    Ok(())
}

/// Messages a [`throughput_sender`] must send for a [`throughput_receiver`]
/// taking `samples` samples of `batch` messages each: one untimed message to
/// start, then `samples * batch`.
pub const fn throughput_messages(samples: usize, batch: u64) -> u64 {
    1 + samples as u64 * batch
}

/// Pipelined throughput, sending side: sends values `0..count` as fast as the
/// queue accepts them (so it stays non-empty whenever the receiver is the
/// slower side).
pub fn throughput_sender<T: Tx>(tx: &mut T, count: u64) -> Result<(), BenchError> {
    for v in 0..count {
        send(tx, &T::Msg::from_value(v))?;
    }
    Ok(())
}

/// Pipelined throughput, measuring side: waits for the first message
/// (untimed), then for each sample times the reception of `batch` messages.
/// Returns the number of messages that were not the next value in sequence
/// (0 on a correct channel). Convert with [`msgs_per_kcycle_x100`].
pub fn throughput_receiver<R: Rx>(
    rx: &mut R,
    batch: u64,
    samples: &mut [u64],
) -> Result<u64, BenchError> {
    let mut bad = (recv(rx)?.value() != 0) as u64;
    let mut expect = 1u64;
    for s in samples.iter_mut() {
        let t0 = tsc_begin();
        for _ in 0..batch {
            let v = recv(rx)?.value();
            bad += (v != expect) as u64;
            expect += 1;
        }
        let t1 = tsc_end();
        *s = t1.wrapping_sub(t0);
    }
    Ok(bad)
}
