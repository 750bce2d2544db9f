//! **Guarantee:** a run is a pure function of its [`Config`] and its
//! scenario: the same seed gives the same schedule, the same deliveries at
//! the same simulated cycles, the same faults and the same outcome. Every
//! channel is FIFO, as a URPC channel is.
//!
//! The world: simulated time, a FIFO channel per ordered pair of cores and
//! kind of channel, and one simulated core per core of the scenario, each
//! modelled the way a monitor runs:
//!
//! - a message lands on its channel after a delay drawn from the fault
//!   plan (never before an earlier message of the same channel);
//! - a core that is polling takes it at once; a core that has polled for
//!   [`POLL`] cycles without work blocks, and a message then notifies it
//!   ([`WAKE`] cycles to wake), unless the plan loses the notification, in
//!   which case the core wakes when its wait times out ([`WAIT`] cycles
//!   after it blocked), as the monitor's safety net does;
//! - a stalled core does nothing until its outage ends; a failed one never
//!   runs again, while what it already sent still arrives;
//! - handling one message costs [`STEP`] cycles of the core's time;
//! - a scenario may ask for a timer on a core (a client's next operation,
//!   a monitor's own work), which fires unless the core is stopped.
//!
//! After every step the scenario checks its invariants; at the end it
//! checks what must hold once everything settled.

use alloc::collections::{BinaryHeap, VecDeque};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Reverse;

use urpc::RawMessage;

use super::faults::{Faults, Plan};
use crate::proto::{Inbound, Via};
use crate::rng::Rng;

/// Cycles a core polls for work before it blocks.
pub const POLL: u64 = 20_000;
/// Cycles from a notification to the blocked core running.
pub const WAKE: u64 = 2_000;
/// Cycles a blocked core waits before it looks around anyway.
pub const WAIT: u64 = 200_000;
/// Cycles one message costs its receiver.
pub const STEP: u64 = 60;
/// Steps the trace keeps (the last ones).
const TRACE: usize = 400;

/// What a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Number of cores.
    pub cores: u32,
    /// The seed of the schedule and of the faults.
    pub seed: u64,
    /// The faults to inject.
    pub faults: Faults,
    /// Simulated cycles after which a run that has not settled is a
    /// violation (no progress), unless a core failed for good.
    pub limit: u64,
}

/// A broken invariant, or a run that did not settle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// What broke, in one sentence.
    pub what: String,
}

impl Violation {
    /// A violation saying `what`.
    pub fn new(what: impl Into<String>) -> Violation {
        Violation { what: what.into() }
    }
}

/// One step of a run, as the trace shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The core started.
    Start,
    /// The core took a message.
    Deliver {
        /// The sender.
        from: u32,
        /// The kind of channel.
        via: Via,
        /// The message's tag.
        tag: u16,
    },
    /// The core's timer fired.
    Timer,
    /// The core was stopped until this cycle (`u64::MAX`: for good).
    Stopped {
        /// The cycle it runs again.
        until: u64,
    },
    /// A notification to the blocked core was lost.
    LostNotify,
    /// The blocked core woke because its wait timed out.
    TimedOut,
}

/// One traced step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Traced {
    /// The simulated cycle.
    pub at: u64,
    /// The core.
    pub core: u32,
    /// What happened.
    pub step: Step,
}

/// How a run ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// Steps taken.
    pub steps: u64,
    /// The simulated cycle of the last step.
    pub end: u64,
    /// Whether a core failed for good (only safety was checked).
    pub degraded: bool,
    /// The first violation, if any.
    pub violation: Option<Violation>,
    /// The last steps (all of them for short runs).
    pub trace: VecDeque<Traced>,
}

/// What a scenario's handler may do: send messages and ask for a timer.
#[derive(Debug)]
pub struct Ctx<'a> {
    now: u64,
    core: u32,
    rng: &'a mut Rng,
    sends: Vec<(u32, Via, RawMessage)>,
    timer: Option<u64>,
    others: Vec<(u32, u64)>,
}

impl Ctx<'_> {
    /// The simulated cycle.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The core the handler runs on.
    pub fn core(&self) -> u32 {
        self.core
    }

    /// The run's generator, for the scenario's own choices.
    pub fn rng(&mut self) -> &mut Rng {
        self.rng
    }

    /// Sends `msg` to core `to` on the mesh (or locally, to itself).
    pub fn send(&mut self, to: u32, msg: RawMessage) {
        let via = if to == self.core {
            Via::Local
        } else {
            Via::Mesh
        };
        self.sends.push((to, via, msg));
    }

    /// Sends `msg` to core `to` on a channel of kind `via`.
    pub fn send_via(&mut self, to: u32, via: Via, msg: RawMessage) {
        self.sends.push((to, via, msg));
    }

    /// Sends everything a machine gave out.
    pub fn send_all(&mut self, sends: Vec<(u32, RawMessage)>) {
        for (to, msg) in sends {
            self.send(to, msg);
        }
    }

    /// Asks for [`Scenario::on_timer`] on this core after `cycles`.
    pub fn timer(&mut self, cycles: u64) {
        self.timer = Some(cycles);
    }

    /// Asks for [`Scenario::on_timer`] on another core after `cycles`: that
    /// core notices something in shared memory (a channel formatted) by its
    /// own polling, without a message.
    pub fn timer_for(&mut self, core: u32, cycles: u64) {
        self.others.push((core, cycles));
    }
}

/// Protocol machines on every core, and what must hold of them.
pub trait Scenario {
    /// The core's first step, at cycle 0.
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation>;

    /// Core `core` takes `m`.
    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Result<(), Violation>;

    /// The timer the core asked for fired.
    fn on_timer(&mut self, _core: u32, _ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        Ok(())
    }

    /// The invariants, after every step (those a scenario checks as its
    /// machines give effects need nothing here).
    fn check(&mut self) -> Result<(), Violation> {
        Ok(())
    }

    /// What must hold once the run settled; `failed[c]` says whether core
    /// `c` stopped for good (then only safety can be asked for).
    fn finish(&mut self, failed: &[bool]) -> Result<(), Violation>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// A message lands on core `to`'s channel from `from`.
    Arrive {
        to: u32,
        from: u32,
        via: u8,
        ch: usize,
    },
    /// The core runs: takes what waits on its channels.
    Run { core: u32, timeout: Option<u64> },
    /// The core's timer fires.
    Timer { core: u32 },
}

#[derive(Debug)]
struct Node {
    inbox: VecDeque<Inbound>,
    /// A `Run` is queued.
    scheduled: bool,
    /// The core polls until this cycle, then blocks.
    poll_until: u64,
    /// The core is busy until this cycle.
    busy_until: u64,
    /// Counts the core's runs, so that a stale timeout does nothing.
    runs: u64,
}

/// The simulated machine.
struct World<'s, S: Scenario> {
    cfg: Config,
    plan: Plan,
    rng: Rng,
    scenario: &'s mut S,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    /// In-flight messages of each channel (from, to, via), FIFO.
    wires: Vec<VecDeque<RawMessage>>,
    /// The last arrival time on each channel.
    last: Vec<u64>,
    nodes: Vec<Node>,
    steps: u64,
    trace: VecDeque<Traced>,
}

const VIAS: [Via; 3] = [Via::Bootstrap, Via::Mesh, Via::Local];

fn via_index(via: Via) -> u8 {
    match via {
        Via::Bootstrap => 0,
        Via::Mesh => 1,
        Via::Local => 2,
    }
}

/// Runs `scenario` under `cfg` to the end.
pub fn run<S: Scenario>(cfg: Config, scenario: &mut S) -> Outcome {
    let mut rng = Rng::new(cfg.seed);
    let plan = Plan::new(cfg.faults, cfg.cores, &mut rng);
    let n = cfg.cores as usize;
    let mut w = World {
        cfg,
        plan,
        rng,
        scenario,
        now: 0,
        seq: 0,
        queue: BinaryHeap::new(),
        wires: vec![VecDeque::new(); n * n * VIAS.len()],
        last: vec![0; n * n * VIAS.len()],
        nodes: (0..n)
            .map(|_| Node {
                inbox: VecDeque::new(),
                scheduled: false,
                poll_until: POLL,
                busy_until: 0,
                runs: 0,
            })
            .collect(),
        steps: 0,
        trace: VecDeque::new(),
    };
    let violation = w.go().err();
    let failed: Vec<bool> = (0..cfg.cores).map(|c| w.plan.fails(c)).collect();
    let violation = violation.or_else(|| w.scenario.finish(&failed).err());
    Outcome {
        seed: cfg.seed,
        steps: w.steps,
        end: w.now,
        degraded: w.plan.any_fails(),
        violation,
        trace: w.trace,
    }
}

impl<S: Scenario> World<'_, S> {
    fn go(&mut self) -> Result<(), Violation> {
        for core in 0..self.cfg.cores {
            self.handle(core, 0, |s, ctx| s.start(core, ctx), Step::Start)?;
        }
        while let Some(Reverse((at, _, ev))) = self.queue.pop() {
            self.now = at;
            if at > self.cfg.limit {
                if self.plan.any_fails() {
                    return Ok(());
                }
                return Err(Violation::new(alloc::format!(
                    "no progress: still running at cycle {at} (limit {})",
                    self.cfg.limit
                )));
            }
            match ev {
                Ev::Arrive { to, from, via, ch } => self.arrive(to, from, via, ch),
                Ev::Run { core, timeout } => self.run_core(core, timeout)?,
                Ev::Timer { core } => self.timer(core)?,
            }
        }
        Ok(())
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, ev)));
    }

    fn note(&mut self, core: u32, step: Step) {
        if self.trace.len() == TRACE {
            self.trace.pop_front();
        }
        self.trace.push_back(Traced {
            at: self.now,
            core,
            step,
        });
    }

    /// If `core` is stopped now: requeues `ev` for when it runs again.
    fn stopped(&mut self, core: u32, ev: Ev) -> bool {
        let Some(until) = self.plan.stopped_until(core, self.now) else {
            return false;
        };
        self.note(core, Step::Stopped { until });
        if until != u64::MAX {
            self.push(until, ev);
        }
        true
    }

    fn arrive(&mut self, to: u32, from: u32, via: u8, ch: usize) {
        let Some(msg) = self.wires[ch].pop_front() else {
            return;
        };
        let node = &mut self.nodes[to as usize];
        node.inbox.push_back(Inbound {
            from,
            via: VIAS[via as usize],
            msg,
        });
        if node.scheduled {
            return;
        }
        if self.now <= node.poll_until {
            let at = self.now.max(node.busy_until);
            node.scheduled = true;
            self.push(
                at,
                Ev::Run {
                    core: to,
                    timeout: None,
                },
            );
        } else if self.plan.lose_notify(&mut self.rng) {
            // The core sleeps on until its wait times out: the monitor's
            // wait ends every `WAIT` cycles after it blocked.
            self.note(to, Step::LostNotify);
            let node = &self.nodes[to as usize];
            let waited = self.now - node.poll_until;
            let at = node.poll_until + WAIT * (waited / WAIT + 1);
            let runs = node.runs;
            self.push(
                at,
                Ev::Run {
                    core: to,
                    timeout: Some(runs),
                },
            );
        } else {
            node.scheduled = true;
            self.push(
                self.now + WAKE,
                Ev::Run {
                    core: to,
                    timeout: None,
                },
            );
        }
    }

    fn run_core(&mut self, core: u32, timeout: Option<u64>) -> Result<(), Violation> {
        let node = &mut self.nodes[core as usize];
        match timeout {
            // A stale timeout: the core ran since it blocked.
            Some(runs) if runs != node.runs || node.scheduled => return Ok(()),
            Some(_) => {
                if node.inbox.is_empty() {
                    return Ok(());
                }
                self.note(core, Step::TimedOut);
            }
            None => node.scheduled = false,
        }
        if self.stopped(
            core,
            Ev::Run {
                core,
                timeout: None,
            },
        ) {
            self.nodes[core as usize].scheduled = true;
            return Ok(());
        }
        let mut t = self.now.max(self.nodes[core as usize].busy_until);
        while let Some(m) = self.nodes[core as usize].inbox.pop_front() {
            let step = Step::Deliver {
                from: m.from,
                via: m.via,
                tag: m.msg.tag(),
            };
            self.handle(core, t, |s, ctx| s.on_message(core, &m, ctx), step)?;
            t += STEP;
        }
        let node = &mut self.nodes[core as usize];
        node.busy_until = t;
        node.poll_until = t + POLL;
        node.runs += 1;
        Ok(())
    }

    fn timer(&mut self, core: u32) -> Result<(), Violation> {
        if self.stopped(core, Ev::Timer { core }) {
            return Ok(());
        }
        let t = self.now.max(self.nodes[core as usize].busy_until);
        self.handle(core, t, |s, ctx| s.on_timer(core, ctx), Step::Timer)
    }

    /// Runs one handler of the scenario on `core` at cycle `t`, puts what
    /// it sent on the wires, arms its timer and checks the invariants.
    fn handle(
        &mut self,
        core: u32,
        t: u64,
        f: impl FnOnce(&mut S, &mut Ctx<'_>) -> Result<(), Violation>,
        step: Step,
    ) -> Result<(), Violation> {
        self.steps += 1;
        let saved = self.now;
        self.now = t;
        self.note(core, step);
        let mut ctx = Ctx {
            now: t,
            core,
            rng: &mut self.rng,
            sends: Vec::new(),
            timer: None,
            others: Vec::new(),
        };
        let r = f(self.scenario, &mut ctx);
        let (sends, timer, others) = (ctx.sends, ctx.timer, ctx.others);
        r?;
        let n = self.cfg.cores as usize;
        for (to, via, msg) in sends {
            if to >= self.cfg.cores {
                return Err(Violation::new(alloc::format!(
                    "core {core} sent to core {to}, which does not exist"
                )));
            }
            let v = via_index(via);
            let ch = ((core as usize * n) + to as usize) * VIAS.len() + v as usize;
            let at = (t + self.plan.delay(&mut self.rng)).max(self.last[ch]);
            self.last[ch] = at;
            self.wires[ch].push_back(msg);
            self.push(
                at,
                Ev::Arrive {
                    to,
                    from: core,
                    via: v,
                    ch,
                },
            );
        }
        if let Some(after) = timer {
            self.push(t + after, Ev::Timer { core });
        }
        for (other, after) in others {
            if other < self.cfg.cores {
                self.push(t + after, Ev::Timer { core: other });
            }
        }
        self.now = saved;
        self.scenario.check()
    }
}
