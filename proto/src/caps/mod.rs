//! **Guarantee:** every operation on a capability is linearizable, ordered
//! at the owner of the capability's derivation tree: its effect on every
//! core appears to happen at one point between its request and its answer.
//! In particular, once a revoke is answered no core holds a usable copy or
//! descendant of the capability but the requester's one copy; of two
//! retypes whose children overlap, at most one succeeds; the memory of a
//! tree comes back to its owner ([`CapsEffect::Freed`]) exactly once, when
//! no copy of anything in it is left anywhere. An operation whose
//! participant does not answer within the bound ends with
//! [`Outcome::Timeout`] and changes nothing (a broadcast revoke that has
//! begun its sweep is past that point and completes). In the targeted
//! variant a revoke, retype or delete that completes costs at most
//! `2R + 2` messages, where `R` is the number of cores other than the
//! owner that hold a copy, a descendant or an ancestor of the capability,
//! whatever the number of cores; one abandoned also sends a restore to
//! each core it marked. Only the owner keeps time: a request to an owner
//! that stopped answering waits (the monitors' failure detection is not
//! part of this protocol).
//!
//! Capabilities replicated across cores, as a sans-IO protocol between
//! monitors. Each derivation tree (a region of RAM and everything retyped
//! from it) has one **owner**, the core whose memory it is, and the owner
//! never changes while copies exist elsewhere: it keeps, for every object
//! of the tree, the *set of cores* that hold copies ([`CoreSet`]), so it
//! always knows exactly which cores an operation concerns (SemperOS fixes
//! its owners for the same reason; Barrelfish moves ownership and keeps
//! three bits of "remote relations", so it must ask every core). Every
//! operation on a tree that involves another core runs at the owner:
//!
//! - **copy** to core `c`: the owner adds `c` and grants it the copy
//!   ([`CapsMsg::Grant`]);
//! - **retype**: the owner knows every descendant (each was made through
//!   it), so it decides alone: the requester's question and the answer,
//!   2 messages, 0 when the owner asks;
//! - **revoke**: the owner marks its own copies and descendants and sends
//!   one [`CapsMsg::Mark`] to each of the `R` other cores that hold a copy
//!   or descendant (the requester among them, which keeps one copy: what
//!   the owner sent it before may still be on its way, and the mark
//!   follows on the same channel); each marks and answers; then the owner
//!   removes the descendants from its records and answers. A marked copy
//!   behaves as deleted at once; its removal for good comes with the
//!   answer (the requester) or rides on the owner's next message to that
//!   core (`settled`), so it costs no message. While its revoke runs, the
//!   requester makes no new local copy ([`CapsError::Busy`]);
//! - **delete** of a core's last copy: one [`CapsMsg::Dropped`] to the
//!   owner, which frees the tree's memory when nothing is left.
//!
//! The **broadcast** variant ([`Variant::Broadcast`]) is Barrelfish's way,
//! kept as the measured baseline: a retype asks every core whether it
//! holds descendants (`2(N−1)`), a revoke marks on every core and then
//! sweeps every core (`4(N−1)`), and a delete of what the owner believes
//! is the last copy asks every core first (`2(N−1)`).
//!
//! A core that does not answer an operation's messages within the
//! machine's bound makes the owner abandon it: the cores that marked get
//! [`CapsMsg::Restore`], the requester gets [`Outcome::Timeout`], and
//! operations on trees that do not involve that core go on. Requests for
//! a tree with an operation running wait, in order, at the owner.
//!
//! Refused (a typed [`CapsError`], no change): a malformed message, a core
//! the machine lacks, a reply for an operation never run or from a core
//! not asked, an answer from a core that is not the owner asked.

mod ending;
mod holder;
pub mod model;
mod msg;
mod owner;
mod types;

#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;

use holder::{Holder, MarkKey};
pub use msg::{CapsMsg, tag};
use owner::Owned;
pub use types::{CoreSet, Obj, Outcome, Request};

use super::{Inbound, Out, Protocol, Refusal};
use crate::wire::registry::CAPS;
use crate::wire::{Malformed, TagRange};

/// How the owner finds the cores an operation concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "kebab-case")]
pub enum Variant {
    /// Only the cores that hold copies or descendants.
    Targeted,
    /// Every core, twice for a revoke (Barrelfish's mark and sweep).
    Broadcast,
}

/// A deliberately broken owner, for the checks that must catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// A revoke leaves the highest-numbered holder out of its marks.
    RevokeSkipsOne,
}

/// What the machine asks its monitor to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapsEffect {
    /// A copy of `obj` arrived, or a retype made it here: install it.
    Install {
        /// The object.
        obj: Obj,
        /// The owner of its tree.
        owner: u32,
    },
    /// `copies` copies of `obj` are marked: refuse them from now.
    Mark {
        /// The object.
        obj: Obj,
        /// How many copies.
        copies: u32,
    },
    /// The marks were undone: the copies are usable again.
    Unmark {
        /// The object.
        obj: Obj,
        /// How many copies.
        copies: u32,
    },
    /// The marked copies are gone for good: delete them.
    Remove {
        /// The object.
        obj: Obj,
        /// How many copies.
        copies: u32,
    },
    /// At the owner: a revoke of `obj` took effect here (its linearization
    /// point). Every other copy and every descendant anywhere is marked or
    /// gone; the monitor removes the mappings of what was revoked.
    Revoked {
        /// The object revoked.
        obj: Obj,
        /// The core whose one copy stays.
        keep: u32,
    },
    /// At the owner: nothing of the tree rooted at `obj` is left; its
    /// memory is free again.
    Freed {
        /// The root.
        obj: Obj,
    },
    /// Request `req` of this core ended.
    Answered {
        /// The request.
        req: u64,
        /// How it ended.
        outcome: Outcome,
    },
}

/// Why a message or a call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum CapsError {
    /// The message does not decode.
    Malformed(Malformed),
    /// From or for a core the machine lacks.
    UnknownCore,
    /// An answer for an operation or request that is not running.
    UnknownOp,
    /// A message only an object's owner may send, from another core.
    NotFromOwner,
    /// The caller holds no usable copy.
    NotHeld,
    /// A root that already exists.
    Duplicate,
    /// An object whose region is empty or wraps.
    BadObject,
    /// The object is being revoked by this core's own request.
    Busy,
}

impl Refusal for CapsError {
    fn reason(&self) -> &'static str {
        match self {
            CapsError::Malformed(m) => m.reason(),
            CapsError::UnknownCore => "unknown-core",
            CapsError::UnknownOp => "out-of-order",
            CapsError::NotFromOwner => "wrong-channel",
            CapsError::NotHeld | CapsError::BadObject => "bad-value",
            CapsError::Duplicate => "duplicate",
            CapsError::Busy => "busy",
        }
    }
}

impl From<Malformed> for CapsError {
    fn from(m: Malformed) -> CapsError {
        CapsError::Malformed(m)
    }
}

/// One core's capability machine: its copies, and the trees it owns.
#[derive(Debug)]
pub struct Caps {
    me: u32,
    cores: u32,
    variant: Variant,
    bound: u64,
    bug: Option<Bug>,
    holder: Holder,
    owned: Owned,
    /// This core's requests in flight: the object, what was asked and
    /// the owner asked.
    asked: BTreeMap<u64, (Obj, Request, u32)>,
    next_req: u64,
    sent: u64,
}

impl Caps {
    /// Core `me` of `cores` (at most [`CoreSet::MAX`], the most the
    /// machine boots: more are taken as that many); an operation whose
    /// participants do not all answer within `bound` cycles is abandoned.
    pub fn new(me: u32, cores: u32, variant: Variant, bound: u64) -> Caps {
        Caps {
            me,
            cores: cores.min(CoreSet::MAX),
            variant,
            bound,
            bug: None,
            holder: Holder::default(),
            owned: Owned::default(),
            asked: BTreeMap::new(),
            next_req: 0,
            sent: 0,
        }
    }

    /// The same machine with `bug`.
    pub fn broken(me: u32, cores: u32, variant: Variant, bound: u64, bug: Bug) -> Caps {
        Caps {
            bug: Some(bug),
            ..Caps::new(me, cores, variant, bound)
        }
    }

    /// This core.
    pub fn me(&self) -> u32 {
        self.me
    }

    /// Messages this machine has sent to other cores.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// At the owner: the cores its records say hold copies of `obj`.
    pub fn record(&self, obj: &Obj) -> Option<CoreSet> {
        self.owned.holders_of(obj)
    }

    /// At the owner: every object of the trees it owns, with the cores its
    /// records say hold copies.
    pub fn records(&self) -> impl Iterator<Item = (Obj, CoreSet)> + '_ {
        self.owned.records()
    }

    /// Live copies of `obj` here.
    pub fn copies(&self, obj: &Obj) -> u32 {
        self.holder.get(obj).map_or(0, |h| h.copies)
    }

    /// Every object with live copies here, with its owner and copies.
    pub fn held(&self) -> impl Iterator<Item = (Obj, u32, u32)> + '_ {
        self.holder.objects().map(|(o, h)| (*o, h.owner, h.copies))
    }

    /// Whether the machine is at rest: no request, operation or
    /// undecided mark of its own.
    pub fn quiescent(&self) -> bool {
        self.asked.is_empty() && self.owned.is_idle()
    }

    /// A new tree rooted at `obj`, owned and held (one copy) here: memory
    /// this core's monitor owns.
    pub fn create(&mut self, obj: Obj) -> Result<(), CapsError> {
        if !obj.is_valid() || obj.depth != 0 {
            return Err(CapsError::BadObject);
        }
        if self.owned.has(&obj) || self.holder.get(&obj).is_some() {
            return Err(CapsError::Duplicate);
        }
        self.owned.create(obj, self.me);
        self.holder.add(obj, self.me, 1);
        Ok(())
    }

    /// Makes one more local copy of a held `obj` (no agreement needed),
    /// unless this core's own revoke of it, or of an ancestor, is running.
    pub fn copy_here(&mut self, obj: Obj) -> Result<(), CapsError> {
        let h = self.holder.get(&obj).ok_or(CapsError::NotHeld)?;
        let revoking = self
            .asked
            .values()
            .any(|(o, what, _)| *what == Request::Revoke && o.covers(obj));
        if revoking {
            return Err(CapsError::Busy);
        }
        self.holder.add(obj, h.owner, 1);
        Ok(())
    }

    /// Asks the owner of `obj` (perhaps this core) to run `what`; returns
    /// the request's number. Its end comes as [`CapsEffect::Answered`].
    pub fn request(
        &mut self,
        now: u64,
        obj: Obj,
        what: Request,
        out: &mut Out<CapsEffect>,
    ) -> Result<u64, CapsError> {
        let held = self.holder.get(&obj).ok_or(CapsError::NotHeld)?;
        let req = self.next_req;
        self.next_req += 1;
        self.asked.insert(req, (obj, what, held.owner));
        if held.owner == self.me {
            self.start(now, self.me, req, obj, what, out);
            self.flush_drops(now, out);
        } else {
            self.send(out, held.owner, CapsMsg::Ask { req, obj, what });
        }
        Ok(req)
    }

    /// Deletes one local copy of `obj`. The last copy here tells the owner
    /// (one message; none if this core owns the tree).
    pub fn delete(
        &mut self,
        now: u64,
        obj: Obj,
        out: &mut Out<CapsEffect>,
    ) -> Result<(), CapsError> {
        let held = self.holder.get(&obj).ok_or(CapsError::NotHeld)?;
        if self.holder.remove_one(&obj) == Some(true) {
            if self.holder.has_marks_of(&obj) {
                // Marked copies may come back: tell the owner once they
                // are decided.
                self.holder.defer_drop(obj, held.owner);
            } else {
                self.drop_to(now, obj, held.owner, out);
            }
        }
        Ok(())
    }

    /// Tells `owner` that this core holds no copy of `obj` any more.
    fn drop_to(&mut self, now: u64, obj: Obj, owner: u32, out: &mut Out<CapsEffect>) {
        let seen = self.holder.take_seen(&obj);
        if owner == self.me {
            self.dropped(now, self.me, obj, seen, out);
        } else {
            self.send(out, owner, CapsMsg::Dropped { obj, seen });
        }
    }

    /// Sends the drops that deciding marks made due.
    fn flush_drops(&mut self, now: u64, out: &mut Out<CapsEffect>) {
        for (obj, owner) in self.holder.take_due() {
            // A copy that arrived since is held again: nothing to tell.
            if self.holder.get(&obj).is_none() && !self.holder.has_marks_of(&obj) {
                self.drop_to(now, obj, owner, out);
            }
        }
    }

    fn send(&mut self, out: &mut Out<CapsEffect>, to: u32, msg: CapsMsg) {
        if to != self.me {
            self.sent += 1;
        }
        out.send_raw(to, msg.encode());
    }

    /// The owner answered request `req` (a retype's child is copy `seq`).
    fn answered(&mut self, req: u64, outcome: Outcome, seq: u64, out: &mut Out<CapsEffect>) {
        let Some((_, what, owner)) = self.asked.remove(&req) else {
            return;
        };
        if let (Request::Retype { child }, Outcome::Done) = (what, outcome) {
            self.holder.add_sent(child, owner, seq);
            out.effect(CapsEffect::Install { obj: child, owner });
        }
        out.effect(CapsEffect::Answered { req, outcome });
    }

    fn on_msg(
        &mut self,
        now: u64,
        from: u32,
        msg: CapsMsg,
        out: &mut Out<CapsEffect>,
    ) -> Result<(), CapsError> {
        match msg {
            CapsMsg::Ask { req, obj, what } => self.start(now, from, req, obj, what, out),
            CapsMsg::Answer {
                req,
                outcome,
                settled,
                seq,
                op,
            } => {
                let obj = match self.asked.get(&req) {
                    Some((obj, _, owner)) if *owner == from => *obj,
                    Some(_) => return Err(CapsError::NotFromOwner),
                    None => return Err(CapsError::UnknownOp),
                };
                self.holder.settle(from, settled, out);
                if outcome == Outcome::Done {
                    // The revoke that ran this request is decided: its
                    // marks here go for good now.
                    self.holder.finish(MarkKey { owner: from, op }, out);
                }
                self.holder.settle_near(from, obj, out);
                self.answered(req, outcome, seq, out);
            }
            CapsMsg::Grant { obj, settled, seq } => {
                if self.holder.get(&obj).is_some_and(|h| h.owner != from) {
                    return Err(CapsError::NotFromOwner);
                }
                self.holder.settle(from, settled, out);
                self.holder.settle_near(from, obj, out);
                self.holder.add_sent(obj, from, seq);
                out.effect(CapsEffect::Install { obj, owner: from });
            }
            CapsMsg::Mark {
                op,
                obj,
                keep,
                settled,
            } => {
                self.holder.settle(from, settled, out);
                let key = MarkKey { owner: from, op };
                self.holder.mark(key, from, obj, keep == self.me, out);
                self.send(out, from, CapsMsg::Marked { op });
            }
            CapsMsg::Restore { op } => {
                self.holder.restore(MarkKey { owner: from, op }, out);
            }
            CapsMsg::Sweep { op } => {
                self.holder.finish(MarkKey { owner: from, op }, out);
                self.send(out, from, CapsMsg::Marked { op });
            }
            CapsMsg::Query { op, obj, within } => {
                let holds = self.holder.holds_below(from, obj, within);
                self.send(out, from, CapsMsg::Holds { op, holds });
            }
            CapsMsg::Marked { op } => return self.on_reply(now, from, op, false, out),
            CapsMsg::Holds { op, holds } => return self.on_reply(now, from, op, holds, out),
            CapsMsg::Dropped { obj, seen } => self.dropped(now, from, obj, seen, out),
        }
        Ok(())
    }
}

impl Protocol for Caps {
    type Effect = CapsEffect;
    type Error = CapsError;
    const TAGS: TagRange = CAPS;

    fn on_message(
        &mut self,
        now: u64,
        m: &Inbound,
        out: &mut Out<CapsEffect>,
    ) -> Result<(), CapsError> {
        if m.from >= self.cores {
            return Err(CapsError::UnknownCore);
        }
        let msg = CapsMsg::decode(&m.msg)?;
        self.on_msg(now, m.from, msg, out)?;
        self.flush_drops(now, out);
        Ok(())
    }

    fn deadline(&self) -> Option<u64> {
        self.owned.deadline()
    }

    fn on_deadline(&mut self, now: u64, out: &mut Out<CapsEffect>) {
        self.expire(now, out);
        self.flush_drops(now, out);
    }
}
