//! **Guarantee:** RAM is conserved and never held twice: at every moment
//! each byte of the machine's RAM is free on exactly one core, allocated on
//! exactly one core, or in exactly one message on its way between two; at
//! rest the free and allocated bytes of all cores add up to the RAM the
//! run began with. Every allocation request is answered exactly once.
//!
//! RAM across cores, as a sans-IO protocol between monitors. Every monitor
//! owns the RAM of its partition and serves its own core first
//! ([`Ram::alloc`]). A core that runs short asks its peers in order, same
//! NUMA node first (the order comes from the SRAT, [`Ram::new`]), with
//! [`RamMsg::Ask`]; a peer with a free region that large gives it
//! ([`RamMsg::Give`], an ownership transfer: the region leaves the giver's
//! free list as it is sent) or says [`RamMsg::NoRoom`]. Freed RAM goes
//! back to the core it came from ([`Ram::free`], [`RamMsg::Return`]), so a
//! partition lends without shrinking for good.
//!
//! A peer that does not answer within the bound is passed over: the asker
//! asks the next one. If the silent peer's region arrives later, the asker
//! sends it straight back (once), so no byte is lost. Refused (a typed
//! [`RamError`], no change): a malformed message, a core the machine lacks,
//! an answer to a request not made, from a core not asked, or given twice,
//! a gift of bytes the asker holds already or of another size than asked,
//! a return of a region the receiver did not give.

pub mod model;
mod msg;

#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

pub use msg::{RamMsg, tag};

use super::{Inbound, Out, Protocol, Refusal};
use crate::wire::registry::RAM;
use crate::wire::{Malformed, TagRange};

/// A region of RAM: `size` bytes from `base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region {
    /// First byte.
    pub base: u64,
    /// Bytes (at least 1).
    pub size: u64,
}

impl Region {
    /// Whether the region is not empty and does not wrap.
    pub fn is_valid(self) -> bool {
        self.size > 0 && self.base.checked_add(self.size).is_some()
    }

    /// One past the last byte.
    pub fn end(self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Whether the two regions share a byte.
    pub fn overlaps(self, o: Region) -> bool {
        self.base < o.end() && o.base < self.end()
    }
}

/// What the machine asks its monitor to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RamEffect {
    /// Request `req` got `region` (from this core or a peer).
    Allocated {
        /// The request.
        req: u64,
        /// The region, now this core's to use.
        region: Region,
    },
    /// Request `req` found no core with that much free RAM.
    Exhausted {
        /// The request.
        req: u64,
    },
}

/// Why a message or a call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum RamError {
    /// The message does not decode.
    Malformed(Malformed),
    /// From a core the machine lacks.
    UnknownCore,
    /// An answer to a request not made, or from a core not asked.
    UnknownRequest,
    /// A free or a return of a region this core did not hand out.
    NotOurs,
    /// A request for no bytes.
    Empty,
}

impl Refusal for RamError {
    fn reason(&self) -> &'static str {
        match self {
            RamError::Malformed(m) => m.reason(),
            RamError::UnknownCore => "unknown-core",
            RamError::UnknownRequest => "out-of-order",
            RamError::NotOurs | RamError::Empty => "bad-value",
        }
    }
}

impl From<Malformed> for RamError {
    fn from(m: Malformed) -> RamError {
        RamError::Malformed(m)
    }
}

/// A request waiting for a peer.
#[derive(Clone, Debug)]
struct Asking {
    size: u64,
    /// The peer asked now.
    peer: u32,
    /// The peers still to ask, in order.
    next: Vec<u32>,
    deadline: u64,
}

/// One core's RAM machine.
#[derive(Debug)]
pub struct Ram {
    me: u32,
    cores: u32,
    /// The peers to ask, same node first.
    order: Vec<u32>,
    bound: u64,
    /// Free regions, by base (never two that touch).
    free: BTreeMap<u64, u64>,
    /// Regions in use here, with the core they came from.
    used: BTreeMap<Region, u32>,
    /// Regions this core gave to others, with the core holding them.
    lent: BTreeMap<Region, u32>,
    asking: BTreeMap<u64, Asking>,
    /// Peers passed over, by request: each may still answer once.
    passed: BTreeMap<(u64, u32), ()>,
    next_req: u64,
    sent: u64,
    /// Deliberately broken: a peer gives a region and keeps it free too.
    keeps_given: bool,
}

impl Ram {
    /// Core `me` of `cores`, whose partition is `mine`; `node[c]` is core
    /// `c`'s NUMA node (peers on `me`'s node are asked first, then the
    /// others, nearest number first). A peer that does not answer within
    /// `bound` cycles is passed over.
    pub fn new(me: u32, cores: u32, node: &[u32], mine: &[Region], bound: u64) -> Ram {
        let home = node.get(me as usize).copied().unwrap_or(0);
        let mut order: Vec<u32> = (0..cores).filter(|&c| c != me).collect();
        order.sort_by_key(|&c| {
            let far = node.get(c as usize).copied().unwrap_or(0) != home;
            (far, c.abs_diff(me), c)
        });
        let mut ram = Ram {
            me,
            cores,
            order,
            bound,
            free: BTreeMap::new(),
            used: BTreeMap::new(),
            lent: BTreeMap::new(),
            asking: BTreeMap::new(),
            passed: BTreeMap::new(),
            next_req: 0,
            sent: 0,
            keeps_given: false,
        };
        for r in mine.iter().filter(|r| r.is_valid()) {
            ram.put_free(*r);
        }
        ram
    }

    /// The same machine, broken: it gives regions away and keeps them free
    /// as well (for the checks that must catch it).
    pub fn broken(me: u32, cores: u32, node: &[u32], mine: &[Region], bound: u64) -> Ram {
        Ram {
            keeps_given: true,
            ..Ram::new(me, cores, node, mine, bound)
        }
    }

    /// The peers this core asks, in order.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Messages sent to other cores.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Free bytes here.
    pub fn free_bytes(&self) -> u64 {
        self.free.values().sum()
    }

    /// The free regions here.
    pub fn free_regions(&self) -> impl Iterator<Item = Region> + '_ {
        self.free.iter().map(|(&base, &size)| Region { base, size })
    }

    /// Bytes in use here.
    pub fn used_bytes(&self) -> u64 {
        self.used.keys().map(|r| r.size).sum()
    }

    /// The regions in use here.
    pub fn used_regions(&self) -> impl Iterator<Item = Region> + '_ {
        self.used.keys().copied()
    }

    /// Whether no request waits for a peer.
    pub fn quiescent(&self) -> bool {
        self.asking.is_empty()
    }

    fn send(&mut self, out: &mut Out<RamEffect>, to: u32, msg: RamMsg) {
        self.sent += 1;
        out.send_raw(to, msg.encode());
    }

    /// Whether any byte of `r` is free or in use here.
    fn holds_any(&self, r: Region) -> bool {
        let free = self
            .free
            .range(..r.end())
            .next_back()
            .is_some_and(|(&base, &size)| Region { base, size }.overlaps(r));
        free || self.used.keys().any(|u| u.overlaps(r))
    }

    /// Adds `r` to the free list, merged with the free regions it touches.
    fn put_free(&mut self, r: Region) {
        let (mut base, mut end) = (r.base, r.end());
        if let Some((&b, &s)) = self.free.range(..base).next_back()
            && b + s == base
        {
            self.free.remove(&b);
            base = b;
        }
        if let Some(&s) = self.free.get(&end) {
            self.free.remove(&end);
            end += s;
        }
        self.free.insert(base, end - base);
    }

    /// Takes `size` bytes from the first free region that holds them: its
    /// last bytes, so that the rest keeps its place in the list.
    fn take_free(&mut self, size: u64) -> Option<Region> {
        let (&base, have) = self.free.iter_mut().find(|(_, s)| **s >= size)?;
        *have -= size;
        let taken = Region {
            base: base + *have,
            size,
        };
        if *have == 0 {
            self.free.remove(&base);
        }
        Some(taken)
    }

    /// Asks for `size` bytes: from this core's free RAM at once, or from
    /// the peers; the answer is [`RamEffect::Allocated`] or
    /// [`RamEffect::Exhausted`]. Returns the request's number.
    pub fn alloc(
        &mut self,
        now: u64,
        size: u64,
        out: &mut Out<RamEffect>,
    ) -> Result<u64, RamError> {
        if size == 0 {
            return Err(RamError::Empty);
        }
        let req = self.next_req;
        self.next_req += 1;
        if let Some(region) = self.take_free(size) {
            self.used.insert(region, self.me);
            out.effect(RamEffect::Allocated { req, region });
            return Ok(req);
        }
        let next = self.order.clone();
        self.ask_next(now, req, size, next, out);
        Ok(req)
    }

    /// Asks the first of `next`, or gives up.
    fn ask_next(
        &mut self,
        now: u64,
        req: u64,
        size: u64,
        mut next: Vec<u32>,
        out: &mut Out<RamEffect>,
    ) {
        if next.is_empty() {
            out.effect(RamEffect::Exhausted { req });
            return;
        }
        let peer = next.remove(0);
        self.send(out, peer, RamMsg::Ask { req, size });
        self.asking.insert(
            req,
            Asking {
                size,
                peer,
                next,
                deadline: now.saturating_add(self.bound),
            },
        );
    }

    /// Frees `region`, in use here: back to this core's free list, or to
    /// the core it came from.
    pub fn free(&mut self, region: Region, out: &mut Out<RamEffect>) -> Result<(), RamError> {
        let from = self.used.remove(&region).ok_or(RamError::NotOurs)?;
        if from == self.me {
            self.put_free(region);
        } else {
            self.send(out, from, RamMsg::Return { region });
        }
        Ok(())
    }

    fn on_msg(
        &mut self,
        now: u64,
        from: u32,
        msg: RamMsg,
        out: &mut Out<RamEffect>,
    ) -> Result<(), RamError> {
        match msg {
            RamMsg::Ask { req, size } => match self.take_free(size) {
                Some(region) => {
                    if self.keeps_given {
                        self.put_free(region);
                    }
                    self.lent.insert(region, from);
                    self.send(out, from, RamMsg::Give { req, region });
                }
                None => self.send(out, from, RamMsg::NoRoom { req }),
            },
            RamMsg::Give { req, region } => {
                if self.holds_any(region) {
                    return Err(RamError::NotOurs);
                }
                match self.asking.get(&req) {
                    Some(a) if a.peer == from => {
                        if region.size != a.size {
                            return Err(RamError::NotOurs);
                        }
                        self.asking.remove(&req);
                        self.used.insert(region, from);
                        out.effect(RamEffect::Allocated { req, region });
                    }
                    // The answer of a peer passed over: back it goes, once.
                    _ if self.passed.remove(&(req, from)).is_some() => {
                        self.send(out, from, RamMsg::Return { region });
                    }
                    _ => return Err(RamError::UnknownRequest),
                }
            }
            RamMsg::NoRoom { req } => match self.asking.get(&req) {
                Some(a) if a.peer == from => {
                    let a = self.asking.remove(&req).expect("asking");
                    self.ask_next(now, req, a.size, a.next, out);
                }
                _ if self.passed.remove(&(req, from)).is_some() => {}
                _ => return Err(RamError::UnknownRequest),
            },
            RamMsg::Return { region } => {
                if self.lent.get(&region) != Some(&from) {
                    return Err(RamError::NotOurs);
                }
                self.lent.remove(&region);
                self.put_free(region);
            }
        }
        Ok(())
    }
}

impl Protocol for Ram {
    type Effect = RamEffect;
    type Error = RamError;
    const TAGS: TagRange = RAM;

    fn on_message(
        &mut self,
        now: u64,
        m: &Inbound,
        out: &mut Out<RamEffect>,
    ) -> Result<(), RamError> {
        if m.from >= self.cores || m.from == self.me {
            return Err(RamError::UnknownCore);
        }
        let msg = RamMsg::decode(&m.msg)?;
        self.on_msg(now, m.from, msg, out)
    }

    fn deadline(&self) -> Option<u64> {
        self.asking.values().map(|a| a.deadline).min()
    }

    fn on_deadline(&mut self, now: u64, out: &mut Out<RamEffect>) {
        let late: Vec<u64> = self
            .asking
            .iter()
            .filter(|(_, a)| a.deadline <= now)
            .map(|(r, _)| *r)
            .collect();
        for req in late {
            if let Some(a) = self.asking.remove(&req) {
                self.passed.insert((req, a.peer), ());
                self.ask_next(now, req, a.size, a.next, out);
            }
        }
    }
}
