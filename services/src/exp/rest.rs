//! Knowing when a protocol run over the mesh of `super::net` has come to
//! rest: no core has work of its own and no message is on its way.
//!
//! A protocol's work does not end with the answer its requester waits
//! for: a revoke's sweep, a returned region or a settled mark may still
//! travel. An experiment that counts an operation's messages, or starts
//! the next one on a clean slate, must wait for all of it. This is
//! Mattern's four-counter method (1987): every core publishes how many
//! messages it has sent to and taken from other cores, and whether it is
//! idle; core 0 reads all of them twice, one sweep after the other. If
//! every core was idle in both sweeps and the messages received in the
//! second equal the messages sent in the first, no message was on its way
//! at the end of the first sweep and none has been sent since: the run is
//! at rest, and core 0 publishes the phase's number.
//!
//! A core is idle in a phase when its machine says so (no request of its own
//! waiting, no operation running), its outboxes are empty, and the work
//! it was given for the phase is done. A machine only acts on a message
//! or on its own requests, so an idle core with nothing arriving stays
//! idle. Core 0 sweeps only once the phase's `stop` flag is up (the end of
//! the measured operation), so the sweeps never slow a measured
//! operation down.
//!
//! Layout: block 0 holds the number of the last phase at rest; block
//! `1 + c` holds core `c`'s sent count, received count, the phase it is
//! idle in (0 when busy: a core that has not begun the phase yet is not
//! idle in it) and the last phase it has begun polling in.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::ExpError;
use urpc::bench;

use super::net::Net;
use super::shared::{BLOCK, Control};
use crate::proto::Out;
use crate::proto::host::Machines;
use crate::shm::Shared;

const SENT: usize = 0;
const RECEIVED: usize = 8;
const IDLE: usize = 16;
const PRESENT: usize = 24;

/// The counters of the rest detection, at an offset of the arena.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rest {
    at: usize,
    cores: u32,
    /// A core that takes no message in the phase (see [`settle`]).
    silent: Option<u32>,
}

/// What one sweep over the cores read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sweep {
    sent: u64,
    received: u64,
    idle: bool,
}

impl Rest {
    /// Bytes the counters of `cores` cores take.
    pub(crate) const fn bytes(cores: u32) -> usize {
        (cores as usize + 1) * BLOCK
    }

    /// The counters at offset `at` (core 0 zeroes them, with
    /// [`Rest::reset`], before the first phase).
    pub(crate) const fn new(at: usize, cores: u32) -> Rest {
        Rest {
            at,
            cores,
            silent: None,
        }
    }

    /// The same counters, for a phase in which core `core` is silent.
    pub(crate) const fn with_silent(self, core: u32) -> Rest {
        Rest {
            silent: Some(core),
            ..self
        }
    }

    /// Zeroes every counter (core 0, while no core uses them).
    pub(crate) fn reset(&self, mem: &Shared<'_>) {
        mem.zero(self.at, Self::bytes(self.cores));
    }

    fn verdict<'a>(&self, mem: &Shared<'a>) -> &'a AtomicU64 {
        mem.word(self.at)
    }

    /// Publishes core `me`'s counts and the phase it is idle in (0: busy).
    /// The `unheard` messages (sent to the silent core in this phase) do
    /// not count: it takes none.
    fn publish(&self, mem: &Shared<'_>, me: u32, net: &Net<'_>, idle: u64, unheard: u64) {
        let base = self.at + (me as usize + 1) * BLOCK;
        mem.word(base + SENT)
            .store(net.sent - unheard, Ordering::SeqCst);
        mem.word(base + RECEIVED)
            .store(net.received, Ordering::SeqCst);
        mem.word(base + IDLE).store(idle, Ordering::SeqCst);
    }

    fn sweep(&self, mem: &Shared<'_>, phase: u64) -> Sweep {
        let mut s = Sweep {
            sent: 0,
            received: 0,
            idle: true,
        };
        for c in 0..self.cores {
            let base = self.at + (c as usize + 1) * BLOCK;
            // Idle first: a core that turns busy after this read has
            // received a message, which the received count shows.
            s.idle &= mem.word(base + IDLE).load(Ordering::SeqCst) == phase;
            s.sent += mem.word(base + SENT).load(Ordering::SeqCst);
            s.received += mem.word(base + RECEIVED).load(Ordering::SeqCst);
        }
        s
    }

    /// Core 0: whether the run is at rest (two sweeps, see the module
    /// doc).
    fn at_rest(&self, mem: &Shared<'_>, phase: u64) -> bool {
        let first = self.sweep(mem, phase);
        if !first.idle || first.sent != first.received {
            return false;
        }
        let second = self.sweep(mem, phase);
        second.idle && second.received == first.sent && second == first
    }

    /// Says that core `me` polls in `phase`.
    fn enter(&self, mem: &Shared<'_>, me: u32, phase: u64) {
        let base = self.at + (me as usize + 1) * BLOCK;
        mem.word(base + PRESENT).store(phase, Ordering::SeqCst);
    }

    /// Whether every core polls in `phase`.
    fn all_present(&self, mem: &Shared<'_>, phase: u64) -> bool {
        (0..self.cores).all(|c| {
            let base = self.at + (c as usize + 1) * BLOCK;
            mem.word(base + PRESENT).load(Ordering::SeqCst) >= phase
        })
    }

    /// Messages sent between cores so far, all cores (read at rest).
    pub(crate) fn sent(&self, mem: &Shared<'_>) -> u64 {
        (0..self.cores)
            .map(|c| {
                let base = self.at + (c as usize + 1) * BLOCK;
                mem.word(base + SENT).load(Ordering::SeqCst)
            })
            .sum()
    }
}

/// A core's own work in a phase: what it starts, and what it does with
/// its machine's effects.
pub(crate) trait Work<M: Machines> {
    /// Starts or continues this core's own work; called on every pass.
    fn step(&mut self, m: &mut M, out: &mut Out<M::Effect>) -> Result<(), ExpError>;
    /// Handles one effect of the machine (it may call the machine again,
    /// adding to `out`).
    fn effect(&mut self, m: &mut M, e: M::Effect, out: &mut Out<M::Effect>)
    -> Result<(), ExpError>;
    /// Whether this core's own work for the phase is done.
    fn done(&self, m: &M) -> bool;
}

/// Polls `machine` over `net` until the whole run is at rest, giving
/// every effect to `work`; `phase` numbers the phase (1, 2, ...: each
/// larger than the last). Core 0 sweeps only once `ctl.stop()` is up.
/// The time is the TSC; a machine whose deadline passed gets its turn.
///
/// A silent core ([`Rest::with_silent`]: a monitor that stopped
/// answering, for the failure tests) takes no message and does nothing until the phase is at rest;
/// the messages sent to it stay in its rings and are not waited for. It
/// is never core 0.
///
/// No core starts its own work before every core polls: a barrier may
/// leave a core asleep for a while after the others (its wake-up is a
/// notification), and an operation timed from then would time the
/// wake-up.
pub(crate) fn settle<M: Machines, W: Work<M>>(
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    rest: &Rest,
    net: &mut Net<'_>,
    machine: &mut M,
    work: &mut W,
    phase: u64,
) -> Result<(), ExpError> {
    let me = ctl.me();
    let silent = rest.silent;
    // What was sent to the silent core before the phase has arrived (the
    // last phase came to rest); what is sent to it now stays unheard.
    let heard = silent.map_or(0, |c| net.sent_to[c as usize]);
    let verdict = rest.verdict(mem);
    if silent == Some(me) {
        rest.enter(mem, me, phase);
        rest.publish(mem, me, net, phase, 0);
        while verdict.load(Ordering::Acquire) < phase {
            ctl.check()?;
            core::hint::spin_loop();
        }
        return Ok(());
    }
    let mut out = Out::new();
    // Effects are handed over through a second buffer, kept between
    // passes, so that a pass allocates nothing once both have grown.
    let mut effects = Vec::new();
    let mut last = None;
    let mut open = false;
    rest.enter(mem, me, phase);
    loop {
        open = open || rest.all_present(mem, phase);
        if open {
            work.step(machine, &mut out)?;
        }
        net.now = bench::tsc_begin();
        if machine.deadline().is_some_and(|d| d <= net.now) {
            machine.on_deadlines(net.now, &mut out);
        }
        let moved = net.poll(ctl, machine, &mut out)?;
        while !out.effects.is_empty() {
            core::mem::swap(&mut out.effects, &mut effects);
            for e in effects.drain(..) {
                work.effect(machine, e, &mut out)?;
            }
        }
        net.send(&mut out.sends)?;
        let idle = !moved && flushed(net, silent) && work.done(machine);
        let now = (net.sent, net.received, idle);
        if last != Some(now) {
            let unheard = silent.map_or(0, |c| net.sent_to[c as usize] - heard);
            rest.publish(mem, me, net, if idle { phase } else { 0 }, unheard);
            last = Some(now);
        }
        if verdict.load(Ordering::Acquire) >= phase {
            return Ok(());
        }
        if me == 0 && idle && ctl.stop().load(Ordering::Acquire) != 0 && rest.at_rest(mem, phase) {
            verdict.store(phase, Ordering::Release);
            return Ok(());
        }
    }
}

/// Whether every outbox is empty but the one to the `silent` core.
fn flushed(net: &Net<'_>, silent: Option<u32>) -> bool {
    match silent {
        None => net.flushed(),
        Some(c) => net.flushed_but(c),
    }
}
