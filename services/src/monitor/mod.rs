//! The monitor: one per core, generic over the [`Platform`].
//!
//! The monitor is thin. It owns the channels and doorbells ([`links`]),
//! hands every received message to the protocol machine that owns its tag
//! ([`router`]), sends what the machines give out and carries out their
//! effects (open a channel, run the job). It is the same code in ring 3
//! and on hosted threads.
//!
//! **Poll, then block.** With nothing to do, the loop polls every channel
//! for [`POLL_CYCLES`], then sets its core's doorbell, polls once more (so
//! a message that raced with the doorbell is not missed) and blocks in
//! [`Platform::wait`]. A sender that finds the receiver's doorbell set
//! notifies it. A blocked core halts; it does not spin.
//!
//! **Bad messages.** A message that does not decode, that no machine owns,
//! or that its machine refuses is dropped and counted; the first of each
//! kind per channel and tag is reported with a `dropped` record. The
//! channel keeps working. A corrupt channel (the URPC layer reports it) is
//! a fatal [`MonitorError`].
//!
//! A run: the mesh (`proto::mesh`); then, on monitor 0, the `spawn=` items
//! (`proto::spawn`, served by every monitor: `children`), each answered and
//! ended; then the job phase (`proto::job`): monitor 0 hands every monitor
//! the same arena of pool frames, each runs its part of the [`Job`], and
//! monitor 0 returns once every monitor has reported.
#![deny(unsafe_code)]

pub mod args;
mod children;
mod links;
mod router;

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use urpc::{RawMessage, Side};

use crate::platform::{Platform, PlatformError};
use crate::proto::host::{self, Machines};
use crate::proto::job::{JobEffect, JobPhase};
use crate::proto::mesh::{Mesh, MeshEffect, tag as mesh_tag};
use crate::proto::spawn::{Name, Spawns};
use crate::proto::{Inbound, Out, Via};
use crate::shm::{Arena, CHANNEL_FRAMES, Doorbells, FrameAllocator, Layout};
use links::Links;
use router::{Effect, Output, Router, collect};

/// Cycles a monitor polls before it blocks.
pub const POLL_CYCLES: u64 = 200_000;
/// Longest block before the loop looks around again (a safety net: every
/// wake-up is notified).
const WAIT_CYCLES: u64 = 50_000_000;
/// A tag that no protocol owns, sent by the malformed-message test.
pub const UNOWNED_TAG: u16 = 0x7777;

/// Work that every monitor runs once the mesh is complete.
pub trait Job<P: Platform> {
    /// Pool frames the job shares between the cores, on `cores` cores.
    fn arena_frames(&self, cores: u32) -> u64;
    /// Runs this core's part; `arena` is the same frames on every core.
    fn run(&mut self, platform: &mut P, arena: Arena) -> bool;
}

/// Most `spawn=` items a run takes.
pub const MAX_SPAWNS: usize = 16;

/// Most digits of a core number in a `spawn=` item: the kernel takes fewer
/// than 1000 cores.
pub const CORE_DIGITS: usize = 3;

/// The longest `spawn=NAME@CORE` item.
pub const MAX_SPAWN_ITEM: usize = "spawn=".len() + abi::disp::MAX_NAME + "@".len() + CORE_DIGITS;

/// Room the argument string keeps for an experiment's items (`exp=NAME`
/// and its options) beside the monitor's own.
pub const EXP_ROOM: usize = 256;

/// The longest argument string a monitor must be able to take: the most
/// `spawn=` items, each as long as it can be, `inject=malformed` and
/// [`EXP_ROOM`], comma separated.
pub const MAX_ARGS_NEEDED: usize =
    MAX_SPAWNS * (MAX_SPAWN_ITEM + 1) + "inject=malformed".len() + 1 + EXP_ROOM;

// The kernel hands a program that much.
const _: () = assert!(MAX_ARGS_NEEDED <= abi::MAX_ARGS);

/// How a monitor behaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Monitor 1 sends two malformed messages to monitor 0 before its
    /// hello (a test of the dropping path).
    pub inject_malformed: bool,
    /// Monitor 0: programs to start, each on a core, once the mesh is up
    /// and before the job; the run passes only if each exits with 0.
    pub spawns: [Option<(Name, u32)>; MAX_SPAWNS],
}

/// What stopped a monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorError {
    /// A platform call failed.
    Platform(PlatformError),
    /// A channel region could not be formatted or attached.
    Setup(urpc::SetupError),
    /// A channel broke the URPC protocol.
    Corrupt {
        /// The core at the other end.
        peer: u32,
    },
    /// The shared pool is too small.
    PoolExhausted,
    /// A machine gave out a message for a core this monitor has no channel
    /// to (a bug).
    NoRoute {
        /// The core.
        to: u32,
    },
    /// A machine found its own state wrong (a bug).
    Protocol {
        /// The refusal's reason.
        what: &'static str,
    },
    /// Another core of the run failed.
    Aborted,
}

impl core::fmt::Display for MonitorError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MonitorError::Platform(e) => write!(f, "platform: {e}"),
            MonitorError::Setup(e) => write!(f, "channel setup: {e}"),
            MonitorError::Corrupt { peer } => write!(f, "the channel with core {peer} is corrupt"),
            MonitorError::PoolExhausted => write!(f, "the shared pool is too small"),
            MonitorError::NoRoute { to } => write!(f, "no channel to core {to}"),
            MonitorError::Protocol { what } => write!(f, "internal protocol error: {what}"),
            MonitorError::Aborted => write!(f, "another core of the run failed"),
        }
    }
}

impl From<PlatformError> for MonitorError {
    fn from(e: PlatformError) -> Self {
        MonitorError::Platform(e)
    }
}

impl From<urpc::SetupError> for MonitorError {
    fn from(e: urpc::SetupError) -> Self {
        MonitorError::Setup(e)
    }
}

/// Counters a monitor reports at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages sent.
    pub sent: u64,
    /// Messages received.
    pub received: u64,
    /// Messages dropped as malformed or refused.
    pub dropped: u64,
    /// Times the monitor blocked.
    pub blocks: u64,
    /// Whether every monitor reported success (monitor 0; the others: their
    /// own part).
    pub all_ok: bool,
}

/// One core's monitor.
pub struct Monitor<'p, P: Platform> {
    p: &'p mut P,
    core: u32,
    cores: u32,
    links: Links,
    router: Router,
    /// Messages the machines sent to this core.
    local: VecDeque<RawMessage>,
    /// The arena the job phase handed this core.
    run: Option<(u64, u64)>,
    /// Monitor 0: the job phase's verdict.
    verdict: Option<bool>,
    /// What to spawn once the mesh is up (monitor 0).
    spawns: [Option<(Name, u32)>; MAX_SPAWNS],
    /// Domains this monitor started for a request: (requester, id,
    /// platform handle).
    children: Vec<(u32, u32, u32)>,
    /// Requests waiting for a domain to end: (requester, id, program).
    waiting: VecDeque<(u32, u32, Name)>,
    /// Monitor 0: a `spawn=` item named a core that does not exist.
    bad_spawn: bool,
    reported: Vec<(Via, u32, u16)>,
    dropped: u64,
    blocks: u64,
    started: u64,
}

impl<'p, P: Platform> Monitor<'p, P> {
    /// Sets up the monitor of this core: maps the doorbells and its
    /// bootstrap channel(s) and announces itself.
    pub fn new(p: &'p mut P, options: Options) -> Result<Monitor<'p, P>, MonitorError> {
        let core = p.core();
        let cores = p.cores();
        let layout = Layout::new(cores);
        if layout.frames_needed() > p.pool_frames() {
            return Err(MonitorError::PoolExhausted);
        }
        let (first, frames) = layout.doorbells();
        let doorbells =
            Doorbells::new(p.map_pool(first, frames)?, cores).ok_or(MonitorError::PoolExhausted)?;
        let allocator = FrameAllocator::new(layout.first_free(), p.pool_frames());
        let mut m = Monitor {
            core,
            cores,
            links: Links::new(cores, doorbells),
            router: Router {
                mesh: Mesh::new(core, cores, allocator),
                job: JobPhase::new(core, cores),
                spawn: Spawns::new(cores),
            },
            local: VecDeque::new(),
            run: None,
            verdict: None,
            spawns: options.spawns,
            children: Vec::new(),
            waiting: VecDeque::new(),
            bad_spawn: false,
            reported: Vec::new(),
            dropped: 0,
            blocks: 0,
            started: p.now(),
            p,
        };
        m.p.record(
            "monitor-up",
            format_args!("cores={cores} pool_frames={}", m.p.pool_frames()),
        );
        if core == 0 {
            for c in 1..cores {
                let arena = m.p.map_pool(layout.bootstrap(c), CHANNEL_FRAMES)?;
                m.links.expect_bootstrap(c, arena);
            }
        } else {
            let arena = m.p.map_pool(layout.bootstrap(core), CHANNEL_FRAMES)?;
            m.links.format_bootstrap(arena)?;
            if options.inject_malformed && core == 1 {
                let unknown = RawMessage::new(UNOWNED_TAG, &[1, 2, 3]);
                let short = RawMessage::new(mesh_tag::HELLO, &[9]);
                for msg in [unknown, short].into_iter().flatten() {
                    m.links.queue_bootstrap(0, msg);
                }
            }
        }
        let mut out = Out::new();
        m.router
            .mesh
            .start(&mut out)
            .map_err(|_| MonitorError::PoolExhausted)?;
        m.apply(collect(out, Effect::Mesh))?;
        Ok(m)
    }

    /// Sends what a machine gave out and carries out its effects.
    fn apply(&mut self, (sends, effects): Output) -> Result<(), MonitorError> {
        for (to, msg) in sends {
            if to == self.core {
                self.local.push_back(msg);
            } else {
                self.links.queue(self.core, to, msg)?;
            }
        }
        for e in effects {
            match e {
                Effect::Mesh(MeshEffect::Open {
                    peer,
                    first_frame,
                    side,
                }) => {
                    let arena = self.p.map_pool(first_frame, CHANNEL_FRAMES)?;
                    if side == Side::A {
                        self.links.format_mesh(peer, arena)?;
                        self.opened(peer)?;
                    } else {
                        self.links.expect_mesh(peer, arena);
                    }
                }
                Effect::Mesh(MeshEffect::AllLinked { links }) => {
                    let cycles = self.p.now().wrapping_sub(self.started);
                    self.p
                        .record("mesh-member", format_args!("links={links} cycles={cycles}"));
                }
                Effect::Job(JobEffect::Run { first, frames }) => self.run = Some((first, frames)),
                Effect::Job(JobEffect::AllDone { ok }) => self.verdict = Some(ok),
                Effect::Spawn(e) => self.on_spawn(e)?,
            }
        }
        Ok(())
    }

    fn opened(&mut self, peer: u32) -> Result<(), MonitorError> {
        let mut out = Out::new();
        self.router
            .mesh
            .opened(peer, &mut out)
            .map_err(|_| MonitorError::Protocol {
                what: "a channel opened that the mesh did not ask for",
            })?;
        self.apply(collect(out, Effect::Mesh))
    }

    /// Reports a dropped message once per channel and tag, and counts it.
    fn drop_message(&mut self, via: Via, from: u32, tag: u16, reason: &str) {
        self.dropped += 1;
        if !self.reported.contains(&(via, from, tag)) {
            self.reported.push((via, from, tag));
            self.p.record(
                "dropped",
                format_args!(
                    "channel={} peer={from} tag={tag:#x} reason={reason}",
                    via.name()
                ),
            );
        }
    }

    fn dispatch(&mut self, m: Inbound) -> Result<(), MonitorError> {
        match host::handle(&mut self.router, self.p.now(), &m) {
            Ok(out) => self.apply((out.sends, out.effects)),
            Err(d) if d.fatal => Err(MonitorError::Protocol { what: d.reason }),
            Err(d) => {
                self.drop_message(m.via, m.from, m.msg.tag(), d.reason);
                Ok(())
            }
        }
    }

    /// One pass over every channel; returns whether anything happened.
    fn poll(&mut self) -> Result<bool, MonitorError> {
        let mut progress = false;
        for peer in self.links.attach_ready()? {
            progress = true;
            self.opened(peer)?;
        }
        for via in [Via::Bootstrap, Via::Mesh] {
            for c in 0..self.cores {
                while let Some(msg) = self.links.recv(via, c)? {
                    progress = true;
                    self.dispatch(Inbound { from: c, via, msg })?;
                }
            }
        }
        while let Some(msg) = self.local.pop_front() {
            progress = true;
            let from = self.core;
            self.dispatch(Inbound {
                from,
                via: Via::Local,
                msg,
            })?;
        }
        let now = self.p.now();
        if self.router.deadline().is_some_and(|d| d <= now) {
            progress = true;
            let mut out = Out::new();
            self.router.on_deadlines(now, &mut out);
            self.apply((out.sends, out.effects))?;
        }
        if !self.children.is_empty() {
            progress |= self.poll_children()?;
        }
        progress |= self.links.flush(self.p)?;
        Ok(progress)
    }

    /// Polls until `until()` holds, blocking when idle.
    fn run_until(&mut self, mut until: impl FnMut(&Self) -> bool) -> Result<(), MonitorError> {
        let mut idle_since = self.p.now();
        loop {
            if until(self) {
                return Ok(());
            }
            if self.poll()? {
                idle_since = self.p.now();
                continue;
            }
            if self.p.aborted_by().is_some() {
                return Err(MonitorError::Aborted);
            }
            if self.p.now().wrapping_sub(idle_since) < POLL_CYCLES {
                core::hint::spin_loop();
                continue;
            }
            // Poll, then block: announce the block, look once more, sleep.
            let me = self.core;
            self.links.doorbell(me).sleeping.store(1, Ordering::SeqCst);
            if !until(self) && !self.poll()? {
                self.blocks += 1;
                let timeout = match self.router.deadline() {
                    Some(d) => d.saturating_sub(self.p.now()).clamp(1, WAIT_CYCLES),
                    None => WAIT_CYCLES,
                };
                self.p.wait(timeout);
            }
            self.links.doorbell(me).sleeping.store(0, Ordering::SeqCst);
            idle_since = self.p.now();
        }
    }

    fn job_step(
        &mut self,
        step: impl FnOnce(&mut JobPhase, &mut Out<JobEffect>) -> Result<(), crate::proto::job::JobError>,
    ) -> Result<(), MonitorError> {
        let mut out = Out::new();
        step(&mut self.router.job, &mut out).map_err(|_| MonitorError::Protocol {
            what: "the job phase refused its own monitor",
        })?;
        self.apply(collect(out, Effect::Job))
    }

    /// Runs the monitor to the end: the mesh, then `job` (if any), then the
    /// round of completions. Returns this core's counters; on monitor 0
    /// `all_ok` says whether every monitor succeeded.
    pub fn run(mut self, job: Option<&mut dyn Job<P>>) -> Result<Stats, MonitorError> {
        self.run_until(|m| m.router.mesh.is_done())?;
        if self.core == 0 {
            let n = u64::from(self.cores);
            let cycles = self.p.now().wrapping_sub(self.started);
            self.p.record(
                "mesh-complete",
                format_args!("cores={n} channels={} cycles={cycles}", n * (n - 1) / 2),
            );
            self.spawn_all()?;
            let frames = job.as_ref().map_or(0, |j| j.arena_frames(self.cores));
            let mut alloc = self
                .router
                .mesh
                .frames()
                .ok_or(MonitorError::PoolExhausted)?;
            let first = alloc.take(frames).ok_or(MonitorError::PoolExhausted)?;
            self.job_step(|j, out| j.start(first, frames, out))?;
        }
        self.run_until(|m| m.run.is_some())?;
        let (first, frames) = self.run.unwrap_or((0, 0));
        let ok = match job {
            Some(job) => {
                let arena = if frames > 0 {
                    self.p.map_pool(first, frames)?
                } else {
                    Arena::empty()
                };
                job.run(self.p, arena)
            }
            None => true,
        };
        self.p.record(
            "monitor-done",
            format_args!(
                "ok={} sent={} received={} dropped={} blocks={}",
                u8::from(ok),
                self.links.sent,
                self.links.received,
                self.dropped,
                self.blocks
            ),
        );
        self.job_step(|j, out| j.finished(ok, out))?;
        let all_ok = if self.core == 0 {
            self.run_until(|m| m.verdict.is_some())?;
            self.verdict == Some(true) && self.router.spawn.all_passed() && !self.bad_spawn
        } else {
            self.run_until(|m| m.links.all_sent())?;
            ok
        };
        Ok(Stats {
            sent: self.links.sent,
            received: self.links.received,
            dropped: self.dropped,
            blocks: self.blocks,
            all_ok,
        })
    }
}
