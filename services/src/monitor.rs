//! The monitor's event loop: one per core, generic over the [`Platform`].
//!
//! The loop is thin: it owns the channels (bootstrap and mesh) and the
//! doorbells, feeds received messages to the [`mesh`](crate::mesh) state
//! machines and carries out what they ask (open a channel, send a message).
//! It is the same code in ring 3 and on hosted threads.
//!
//! **Poll, then block.** With nothing to do, the loop polls every channel
//! for [`POLL_CYCLES`], then sets its core's doorbell, polls once more (so
//! a message that raced with the doorbell is not missed) and blocks in
//! [`Platform::wait`]. A sender that finds the receiver's doorbell set
//! notifies it. A blocked core halts; it does not spin.
//!
//! **Bad messages.** A message that does not decode, or that the protocol
//! refuses, is dropped and counted; the first of each kind per channel is
//! reported with a `dropped` record. The channel keeps working. A corrupt
//! channel (the URPC layer reports it) is a fatal [`MonitorError`].
//!
//! After the mesh is complete, monitor 0 hands every monitor an optional
//! [`Job`] (an experiment) in a fresh arena of pool frames; every monitor
//! reports [`BootMsg::Done`] and monitor 0 returns when all have.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::ptr::NonNull;
use core::sync::atomic::{Ordering, fence};

use urpc::{AckLine, Duplex, Endpoint, RawMessage, RecvError, Ring, SendError, Side, Variant};

use crate::mesh::{Action, BootMsg, Broker, Malformed, Member, MeshError, PeerMsg};
use crate::platform::{FRAME, Platform, PlatformError};
use crate::pool::{Arena, CHANNEL_FRAMES, Doorbell, FrameAllocator, Layout, SLOTS};

/// Cycles a monitor polls before it blocks.
pub const POLL_CYCLES: u64 = 200_000;
/// Longest block before the loop looks around again (a safety net: every
/// wake-up is notified).
const WAIT_CYCLES: u64 = 50_000_000;

/// Work that every monitor runs once the mesh is complete.
pub trait Job<P: Platform> {
    /// Pool frames the job shares between the cores, on `cores` cores.
    fn arena_frames(&self, cores: u32) -> u64;
    /// Runs this core's part; `arena` is the same frames on every core.
    fn run(&mut self, platform: &mut P, arena: Arena) -> bool;
}

/// How a monitor behaves.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Monitor 1 sends two malformed messages to monitor 0 before its
    /// hello (a test of the dropping path).
    pub inject_malformed: bool,
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
    /// The monitor's own state machines disagreed with its channels (a bug).
    Protocol(MeshError),
}

impl core::fmt::Display for MonitorError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MonitorError::Platform(e) => write!(f, "platform: {e}"),
            MonitorError::Setup(e) => write!(f, "channel setup: {e}"),
            MonitorError::Corrupt { peer } => write!(f, "the channel with core {peer} is corrupt"),
            MonitorError::PoolExhausted => write!(f, "the shared pool is too small"),
            MonitorError::Protocol(e) => write!(f, "internal protocol error: {e}"),
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
    /// Whether every monitor reported success (monitor 0 only).
    pub all_ok: bool,
}

type Link = Endpoint<'static, AckLine>;

/// Which kind of channel a message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    Bootstrap,
    Mesh,
}

impl Via {
    fn name(self) -> &'static str {
        match self {
            Via::Bootstrap => "bootstrap",
            Via::Mesh => "mesh",
        }
    }
}

enum Phase {
    Meshing,
    Job { first: u64, frames: u64 },
    Finished,
}

/// One core's monitor.
pub struct Monitor<'p, P: Platform> {
    p: &'p mut P,
    core: u32,
    cores: u32,
    doorbells: NonNull<Doorbell>,
    /// Bootstrap channels, by the core at the other end.
    boot: Vec<Option<Link>>,
    /// Mesh channels, by peer.
    peers: Vec<Option<Link>>,
    /// Bootstrap channels waiting for their other end to format them
    /// (monitor 0 only).
    boot_opening: Vec<Option<NonNull<u8>>>,
    /// Side-B mesh channels waiting for their peer to format them.
    peer_opening: Vec<Option<NonNull<u8>>>,
    boot_out: Vec<VecDeque<RawMessage>>,
    peer_out: Vec<VecDeque<RawMessage>>,
    broker: Option<Broker>,
    member: Member,
    phase: Phase,
    done: Vec<Option<bool>>,
    reported: Vec<(Via, u32, u16)>,
    stats: Stats,
    started: u64,
}

/// The two rings of a duplex channel at `base` (two frames).
///
/// # Safety
///
/// `base` must map two pool frames for the rest of the program.
unsafe fn format_duplex(base: NonNull<u8>) -> Result<Duplex<'static>, urpc::SetupError> {
    // SAFETY: both frames are mapped for the program's life (caller), and
    // are only accessed through the URPC crate, whose accesses are atomic.
    unsafe {
        let a_to_b = Ring::format_raw(base, FRAME, SLOTS, Variant::AckLine)?;
        let b_to_a = Ring::format_raw(base.add(FRAME), FRAME, SLOTS, Variant::AckLine)?;
        Ok(Duplex { a_to_b, b_to_a })
    }
}

/// Attaches to a duplex channel that the other end formatted.
///
/// # Safety
///
/// As for [`format_duplex`].
unsafe fn attach_duplex(base: NonNull<u8>) -> Result<Duplex<'static>, urpc::SetupError> {
    // SAFETY: forwarded contract.
    unsafe { Duplex::attach_raw(base, CHANNEL_FRAMES as usize * FRAME) }
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
        let doorbells = p.map_pool(first, frames)?.cast::<Doorbell>();
        let n = cores as usize;
        let mut m = Monitor {
            core,
            cores,
            doorbells,
            boot: (0..n).map(|_| None).collect(),
            peers: (0..n).map(|_| None).collect(),
            boot_opening: vec![None; n],
            peer_opening: vec![None; n],
            boot_out: (0..n).map(|_| VecDeque::new()).collect(),
            peer_out: (0..n).map(|_| VecDeque::new()).collect(),
            broker: None,
            member: Member::new(core, cores),
            phase: Phase::Meshing,
            done: vec![None; n],
            reported: Vec::new(),
            stats: Stats::default(),
            started: p.now(),
            p,
        };
        m.p.record(
            "monitor-up",
            format_args!("cores={cores} pool_frames={}", m.p.pool_frames()),
        );
        if core == 0 {
            let pool_end = m.p.pool_frames();
            let mut broker = Broker::new(cores, FrameAllocator::new(layout.first_free(), pool_end));
            let out = broker.start().map_err(MonitorError::Protocol)?;
            m.broker = Some(broker);
            m.route(out)?;
            for c in 1..cores {
                let base = m.p.map_pool(layout.bootstrap(c), CHANNEL_FRAMES)?;
                m.boot_opening[c as usize] = Some(base);
            }
        } else {
            let base = m.p.map_pool(layout.bootstrap(core), CHANNEL_FRAMES)?;
            // SAFETY: the frames stay mapped for the program's life.
            let duplex = unsafe { format_duplex(base) }?;
            m.boot[0] = Some(duplex.endpoint(Side::B)?);
            if options.inject_malformed && core == 1 {
                let unknown = RawMessage::new(0x7777, &[1, 2, 3]).expect("3 bytes fit");
                let short = RawMessage::new(crate::mesh::tag::HELLO, &[9]).expect("1 byte fits");
                m.boot_out[0].push_back(unknown);
                m.boot_out[0].push_back(short);
            }
            m.boot_out[0].push_back(BootMsg::Hello { core }.encode());
        }
        Ok(m)
    }

    fn doorbell(&self, core: u32) -> &Doorbell {
        // SAFETY: the doorbell frames hold one line per core and stay
        // mapped; `core < cores` everywhere this is called.
        unsafe { &*self.doorbells.as_ptr().add(core as usize) }
    }

    /// Delivers the broker's messages: to this core's own member, or into
    /// bootstrap outboxes.
    fn route(&mut self, out: Vec<(u32, BootMsg)>) -> Result<(), MonitorError> {
        for (to, msg) in out {
            if to == self.core {
                self.on_boot(0, msg)?;
            } else {
                self.boot_out[to as usize].push_back(msg.encode());
            }
        }
        Ok(())
    }

    /// Reports a dropped message once per channel and tag, and counts it.
    fn drop_message(&mut self, via: Via, from: u32, tag: u16, reason: &str) {
        self.stats.dropped += 1;
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

    fn refused(&mut self, via: Via, from: u32, tag: u16, e: MeshError) {
        let reason = match e {
            MeshError::UnknownCore(_) => "unknown-core",
            MeshError::Duplicate => "duplicate",
            MeshError::OutOfOrder => "out-of-order",
            MeshError::PoolExhausted => "pool-exhausted",
        };
        self.drop_message(via, from, tag, reason);
    }

    /// Carries out the member's actions.
    fn act(&mut self, actions: Vec<Action>) -> Result<(), MonitorError> {
        for a in actions {
            match a {
                Action::Open {
                    peer,
                    first_frame,
                    side,
                } => {
                    let base = self.p.map_pool(first_frame, CHANNEL_FRAMES)?;
                    if side == Side::A {
                        // SAFETY: the frames stay mapped for the program's life.
                        let duplex = unsafe { format_duplex(base) }?;
                        self.peers[peer as usize] = Some(duplex.endpoint(Side::A)?);
                        let more = self.member.on_open(peer).map_err(MonitorError::Protocol)?;
                        self.act(more)?;
                    } else {
                        self.peer_opening[peer as usize] = Some(base);
                    }
                }
                Action::Send { peer, msg } => self.peer_out[peer as usize].push_back(msg.encode()),
                Action::Report(msg) => {
                    if self.member.all_linked() {
                        let cycles = self.p.now().wrapping_sub(self.started);
                        self.p.record(
                            "mesh-member",
                            format_args!("links={} cycles={cycles}", self.member.linked()),
                        );
                    }
                    if self.core == 0 {
                        self.hand_to_broker(0, msg)?;
                    } else {
                        self.boot_out[0].push_back(msg.encode());
                    }
                }
            }
        }
        Ok(())
    }

    fn hand_to_broker(&mut self, from: u32, msg: BootMsg) -> Result<(), MonitorError> {
        let Some(broker) = self.broker.as_mut() else {
            return Ok(());
        };
        let tag = msg.encode().tag();
        match broker.on_message(from, msg) {
            Ok(out) => self.route(out),
            Err(MeshError::PoolExhausted) => Err(MonitorError::PoolExhausted),
            Err(e) => {
                self.refused(Via::Bootstrap, from, tag, e);
                Ok(())
            }
        }
    }

    /// A message arrived on the bootstrap channel of `from` (core 0's view)
    /// or from core 0 (everyone else's view; `from` = 0).
    fn on_boot(&mut self, from: u32, msg: BootMsg) -> Result<(), MonitorError> {
        let tag = msg.encode().tag();
        match msg {
            BootMsg::Hello { .. } | BootMsg::Linked { .. } if self.core == 0 => {
                self.hand_to_broker(from, msg)
            }
            BootMsg::Done { ok } if self.core == 0 => {
                if self.done[from as usize].replace(ok).is_some() {
                    self.drop_message(Via::Bootstrap, from, tag, "duplicate");
                }
                Ok(())
            }
            BootMsg::Connect {
                peer,
                side,
                first_frame,
            } if from == 0 => match self.member.on_connect(peer, side, first_frame) {
                Ok(actions) => self.act(actions),
                Err(e) => {
                    self.refused(Via::Bootstrap, from, tag, e);
                    Ok(())
                }
            },
            BootMsg::MeshDone { .. } if from == 0 => Ok(()),
            BootMsg::Arena { first, frames }
                if from == 0 && matches!(self.phase, Phase::Meshing) =>
            {
                self.phase = Phase::Job { first, frames };
                Ok(())
            }
            _ => {
                self.drop_message(Via::Bootstrap, from, tag, "out-of-order");
                Ok(())
            }
        }
    }

    fn on_peer(&mut self, peer: u32, raw: RawMessage) -> Result<(), MonitorError> {
        match PeerMsg::decode(&raw) {
            Ok(msg) => match self.member.on_peer(peer, msg) {
                Ok(actions) => self.act(actions),
                Err(e) => {
                    self.refused(Via::Mesh, peer, raw.tag(), e);
                    Ok(())
                }
            },
            Err(m) => {
                self.drop_message(Via::Mesh, peer, m.tag(), m.reason());
                Ok(())
            }
        }
    }

    /// One pass over every channel; returns whether anything happened.
    fn poll(&mut self) -> Result<bool, MonitorError> {
        let mut progress = false;
        // Channels waiting for the other end to format them.
        for c in 0..self.cores as usize {
            for bootstrap in [true, false] {
                let slot = if bootstrap {
                    &mut self.boot_opening[c]
                } else {
                    &mut self.peer_opening[c]
                };
                let Some(base) = *slot else {
                    continue;
                };
                // SAFETY: the frames stay mapped for the program's life.
                let duplex = match unsafe { attach_duplex(base) } {
                    Ok(duplex) => duplex,
                    Err(urpc::SetupError::NotFormatted { .. }) => continue,
                    Err(e) => return Err(e.into()),
                };
                *slot = None;
                progress = true;
                if bootstrap {
                    self.boot[c] = Some(duplex.endpoint(Side::A)?);
                } else {
                    self.peers[c] = Some(duplex.endpoint(Side::B)?);
                    let actions = self
                        .member
                        .on_open(c as u32)
                        .map_err(MonitorError::Protocol)?;
                    self.act(actions)?;
                }
            }
        }
        // Bootstrap channels, then mesh channels.
        for via in [Via::Bootstrap, Via::Mesh] {
            for c in 0..self.cores as usize {
                while let Some(raw) = self.next_message(via, c)? {
                    progress = true;
                    match via {
                        Via::Bootstrap => match BootMsg::decode(&raw) {
                            Ok(msg) => self.on_boot(c as u32, msg)?,
                            Err(m) => self.malformed(Via::Bootstrap, c as u32, m),
                        },
                        Via::Mesh => self.on_peer(c as u32, raw)?,
                    }
                }
            }
        }
        progress |= self.flush()?;
        Ok(progress)
    }

    /// The next message on the `via` channel with core `c`, if any.
    fn next_message(&mut self, via: Via, c: usize) -> Result<Option<RawMessage>, MonitorError> {
        let link = match via {
            Via::Bootstrap => self.boot[c].as_mut(),
            Via::Mesh => self.peers[c].as_mut(),
        };
        let Some(link) = link else {
            return Ok(None);
        };
        match link.rx.try_recv_raw() {
            Ok(raw) => {
                self.stats.received += 1;
                Ok(Some(raw))
            }
            Err(RecvError::Empty) => Ok(None),
            Err(_) => Err(MonitorError::Corrupt { peer: c as u32 }),
        }
    }

    fn malformed(&mut self, via: Via, from: u32, m: Malformed) {
        self.drop_message(via, from, m.tag(), m.reason());
    }

    /// Sends what the outboxes hold; rings the doorbell of a sleeping
    /// receiver.
    fn flush(&mut self) -> Result<bool, MonitorError> {
        let mut progress = false;
        for c in 0..self.cores as usize {
            for peer_channel in [false, true] {
                let (link, queue) = if peer_channel {
                    (self.peers[c].as_mut(), &mut self.peer_out[c])
                } else {
                    (self.boot[c].as_mut(), &mut self.boot_out[c])
                };
                let Some(link) = link else {
                    continue;
                };
                let mut sent = false;
                while let Some(msg) = queue.front() {
                    match link.tx.try_send_raw(msg) {
                        Ok(()) => {
                            queue.pop_front();
                            sent = true;
                            self.stats.sent += 1;
                        }
                        Err(SendError::Full) => break,
                        Err(_) => return Err(MonitorError::Corrupt { peer: c as u32 }),
                    }
                }
                if sent {
                    progress = true;
                    fence(Ordering::SeqCst);
                    if self.doorbell(c as u32).sleeping.load(Ordering::SeqCst) != 0 {
                        self.p.notify(c as u32)?;
                    }
                }
            }
        }
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
            if self.p.now().wrapping_sub(idle_since) < POLL_CYCLES {
                core::hint::spin_loop();
                continue;
            }
            // Poll, then block: announce the block, look once more, sleep.
            self.doorbell(self.core).sleeping.store(1, Ordering::SeqCst);
            if !until(self) && !self.poll()? {
                self.stats.blocks += 1;
                self.p.wait(WAIT_CYCLES);
            }
            self.doorbell(self.core).sleeping.store(0, Ordering::SeqCst);
            idle_since = self.p.now();
        }
    }

    /// Runs the monitor to the end: the mesh, then `job` (if any), then the
    /// final round of `Done` messages. Returns this core's counters; on
    /// monitor 0 `all_ok` says whether every monitor succeeded.
    pub fn run(mut self, job: Option<&mut dyn Job<P>>) -> Result<Stats, MonitorError> {
        // The mesh.
        self.run_until(|m| m.member.all_linked() && m.broker.as_ref().is_none_or(Broker::is_done))?;
        if self.core == 0 {
            let n = u64::from(self.cores);
            let cycles = self.p.now().wrapping_sub(self.started);
            self.p.record(
                "mesh-complete",
                format_args!("cores={n} channels={} cycles={cycles}", n * (n - 1) / 2),
            );
        }
        // Monitor 0 hands out the arena; the others wait for it.
        let frames = job.as_ref().map_or(0, |j| j.arena_frames(self.cores));
        if self.core == 0 {
            let mut alloc = self
                .broker
                .as_ref()
                .map(Broker::frames)
                .ok_or(MonitorError::PoolExhausted)?;
            let first = alloc.take(frames).ok_or(MonitorError::PoolExhausted)?;
            self.phase = Phase::Job { first, frames };
            for c in 1..self.cores {
                self.boot_out[c as usize].push_back(BootMsg::Arena { first, frames }.encode());
            }
            self.run_until(|m| m.boot_out.iter().all(VecDeque::is_empty))?;
        } else {
            self.run_until(|m| matches!(m.phase, Phase::Job { .. }))?;
        }
        let Phase::Job { first, frames } = self.phase else {
            unreachable!("the phase was set above");
        };
        let ok = match job {
            Some(job) if frames > 0 => {
                let base = self.p.map_pool(first, frames)?;
                // SAFETY: the platform mapped the frames, page aligned, for
                // the rest of the program; every core's job accesses them
                // only atomically (the `Job` contract).
                let arena = unsafe { Arena::new(first, frames, base) };
                job.run(self.p, arena)
            }
            Some(job) => job.run(self.p, Arena::empty()),
            None => true,
        };
        self.p.record(
            "monitor-done",
            format_args!(
                "ok={} sent={} received={} dropped={} blocks={}",
                u8::from(ok),
                self.stats.sent,
                self.stats.received,
                self.stats.dropped,
                self.stats.blocks
            ),
        );
        if self.core == 0 {
            self.done[0] = Some(ok);
            self.run_until(|m| m.done.iter().all(Option::is_some))?;
            self.stats.all_ok = self.done.iter().all(|d| *d == Some(true));
        } else {
            self.boot_out[0].push_back(BootMsg::Done { ok }.encode());
            self.run_until(|m| m.boot_out[0].is_empty())?;
            self.stats.all_ok = ok;
        }
        self.phase = Phase::Finished;
        Ok(self.stats)
    }
}
