//! The owner's side: the records of the trees a core owns (which cores
//! hold copies of each object), the operations it runs on them, one at a
//! time per tree, and the requests that wait for their tree.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use super::holder::MarkKey;
use super::{Bug, Caps, CapsEffect, CapsError, CapsMsg, CoreSet, Obj, Outcome, Request, Variant};
use crate::Out;

/// One object of an owned tree.
#[derive(Clone, Debug, Default)]
pub(super) struct Node {
    pub(super) parent: Option<Obj>,
    pub(super) children: Vec<Obj>,
    /// Cores that hold copies (this core included when it does).
    pub(super) holders: CoreSet,
    /// The number of the last copy sent to each other core: a core stays a
    /// holder until it drops having seen that copy.
    pub(super) sent: BTreeMap<u32, u64>,
}

/// What an operation is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// A revoke's marks (the only phase, targeted; the first, broadcast).
    Marking,
    /// A broadcast revoke's sweep.
    Sweeping,
    /// A broadcast retype's question.
    Asking {
        /// The child.
        child: Obj,
    },
    /// A broadcast delete's question before freeing `obj`.
    Freeing,
}

/// An operation the owner runs.
#[derive(Clone, Debug)]
pub(super) struct Running {
    /// The requester and its request (none for a delete's question).
    pub(super) from: Option<(u32, u64)>,
    pub(super) obj: Obj,
    pub(super) root: Obj,
    pub(super) phase: Phase,
    /// Cores sent to in this operation.
    pub(super) asked: CoreSet,
    /// Cores whose reply is due.
    pub(super) waiting: CoreSet,
    /// Whether a core said it holds something (broadcast questions).
    pub(super) found: bool,
    pub(super) deadline: u64,
}

/// A request waiting for its tree.
#[derive(Clone, Copy, Debug)]
pub(super) struct Waiting {
    pub(super) from: u32,
    pub(super) req: u64,
    pub(super) obj: Obj,
    pub(super) what: Option<Request>,
}

/// The trees a core owns and what runs on them.
#[derive(Debug, Default)]
pub(super) struct Owned {
    pub(super) nodes: BTreeMap<Obj, Node>,
    pub(super) running: BTreeMap<u64, Running>,
    /// Trees with an operation running, by root.
    pub(super) locked: BTreeMap<Obj, u64>,
    pub(super) queue: VecDeque<Waiting>,
    pub(super) next_op: u64,
    /// The number of the last copy sent to another core (of any object).
    pub(super) last_seq: u64,
    /// Broadcast: times the question before freeing an object went
    /// unanswered.
    pub(super) free_tries: BTreeMap<Obj, u32>,
}

/// Broadcast: the most doublings of the wait for the answers before
/// freeing.
pub(super) const MAX_BACKOFF: u32 = 16;

impl Owned {
    pub fn has(&self, obj: &Obj) -> bool {
        self.nodes.contains_key(obj)
    }

    pub fn create(&mut self, obj: Obj, me: u32) {
        let mut holders = CoreSet::new();
        holders.insert(me);
        self.nodes.insert(
            obj,
            Node {
                holders,
                ..Node::default()
            },
        );
    }

    pub fn holders_of(&self, obj: &Obj) -> Option<CoreSet> {
        self.nodes.get(obj).map(|n| n.holders)
    }

    pub fn records(&self) -> impl Iterator<Item = (Obj, CoreSet)> + '_ {
        self.nodes.iter().map(|(o, n)| (*o, n.holders))
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_empty() && self.queue.is_empty()
    }

    pub fn deadline(&self) -> Option<u64> {
        self.running.values().map(|r| r.deadline).min()
    }

    /// Every operation numbered below this one is decided.
    pub(super) fn settled(&self) -> u64 {
        self.running.keys().next().copied().unwrap_or(self.next_op)
    }

    /// The root of the tree `obj` belongs to: by the records, or, for an
    /// object they no longer hold (cut by a revoke, say), the root whose
    /// region holds it, so that an answer about it also waits for the
    /// tree's operation.
    pub(super) fn root(&self, mut obj: Obj) -> Obj {
        if !self.nodes.contains_key(&obj) {
            return self
                .nodes
                .iter()
                .find(|(o, n)| n.parent.is_none() && o.holds_region(obj))
                .map_or(obj, |(o, _)| *o);
        }
        while let Some(p) = self.nodes.get(&obj).and_then(|n| n.parent) {
            obj = p;
        }
        obj
    }

    /// The cores that hold a copy of `obj` or of anything below it.
    fn holders_below(&self, obj: &Obj) -> CoreSet {
        let mut set = CoreSet::new();
        let mut todo = alloc::vec![*obj];
        while let Some(o) = todo.pop() {
            if let Some(n) = self.nodes.get(&o) {
                set.union(&n.holders);
                todo.extend(n.children.iter().copied());
            }
        }
        set
    }

    /// Removes everything below `obj` from the records.
    fn cut_below(&mut self, obj: &Obj) {
        let mut todo = self
            .nodes
            .get_mut(obj)
            .map(|n| core::mem::take(&mut n.children))
            .unwrap_or_default();
        while let Some(o) = todo.pop() {
            if let Some(n) = self.nodes.remove(&o) {
                todo.extend(n.children);
            }
        }
    }

    /// Whether `obj` and its ancestors, now unreferenced, are forgotten;
    /// returns the root when the whole tree went.
    pub(super) fn collect(&mut self, mut obj: Obj) -> Option<Obj> {
        loop {
            let n = self.nodes.get(&obj)?;
            if !(n.holders.is_empty() && n.children.is_empty()) {
                return None;
            }
            let parent = n.parent;
            self.nodes.remove(&obj);
            match parent {
                Some(p) => {
                    if let Some(pn) = self.nodes.get_mut(&p) {
                        pn.children.retain(|c| *c != obj);
                    }
                    obj = p;
                }
                None => return Some(obj),
            }
        }
    }
}

impl Caps {
    /// Runs, or queues behind its tree's operation, request `req` of core
    /// `from`.
    pub(super) fn start(
        &mut self,
        now: u64,
        from: u32,
        req: u64,
        obj: Obj,
        what: Request,
        out: &mut Out<CapsEffect>,
    ) {
        self.enqueue(
            now,
            Waiting {
                from,
                req,
                obj,
                what: Some(what),
            },
            out,
        );
    }

    pub(super) fn enqueue(&mut self, now: u64, w: Waiting, out: &mut Out<CapsEffect>) {
        self.owned.queue.push_back(w);
        self.pump(now, out);
    }

    /// Starts every waiting request whose tree is free, in order.
    pub(super) fn pump(&mut self, now: u64, out: &mut Out<CapsEffect>) {
        let mut i = 0;
        while i < self.owned.queue.len() {
            let w = self.owned.queue[i];
            let root = self.owned.root(w.obj);
            let blocked = self.owned.locked.contains_key(&root)
                || self
                    .owned
                    .queue
                    .iter()
                    .take(i)
                    .any(|e| self.owned.root(e.obj) == root);
            if blocked {
                i += 1;
                continue;
            }
            self.owned.queue.remove(i);
            self.begin(now, w, out);
        }
    }

    pub(super) fn answer(
        &mut self,
        from: u32,
        req: u64,
        outcome: Outcome,
        out: &mut Out<CapsEffect>,
    ) {
        self.answer_with(from, req, outcome, 0, u64::MAX, out);
    }

    /// Answers, with the number of the copy of a retype's child and the
    /// operation that ran the request (`u64::MAX` for none).
    pub(super) fn answer_with(
        &mut self,
        from: u32,
        req: u64,
        outcome: Outcome,
        seq: u64,
        op: u64,
        out: &mut Out<CapsEffect>,
    ) {
        if from == self.me {
            self.answered(req, outcome, seq, out);
        } else {
            let settled = self.owned.settled();
            self.send(
                out,
                from,
                CapsMsg::Answer {
                    req,
                    outcome,
                    settled,
                    seq,
                    op,
                },
            );
        }
    }

    /// Numbers a copy sent to core `to` of `obj`'s node.
    fn number_copy(&mut self, obj: &Obj, to: u32) -> u64 {
        self.owned.last_seq += 1;
        let seq = self.owned.last_seq;
        if let Some(n) = self.owned.nodes.get_mut(obj) {
            n.sent.insert(to, seq);
        }
        seq
    }

    /// Checks and runs one request on a free tree.
    fn begin(&mut self, now: u64, w: Waiting, out: &mut Out<CapsEffect>) {
        let Waiting {
            from,
            req,
            obj,
            what,
        } = w;
        let Some(what) = what else {
            return self.free_question(now, obj, out);
        };
        let Some((holds, children)) = self
            .owned
            .nodes
            .get(&obj)
            .map(|n| (n.holders.contains(from), n.children.clone()))
        else {
            let outcome = if self.holder.get(&obj).is_some_and(|h| h.owner != self.me) {
                Outcome::NotOwner
            } else {
                Outcome::Unknown
            };
            return self.answer(from, req, outcome, out);
        };
        if !holds {
            return self.answer(from, req, Outcome::NotHolder, out);
        }
        match what {
            Request::Copy { to } => {
                if to >= self.cores {
                    return self.answer(from, req, Outcome::BadCore, out);
                }
                if let Some(n) = self.owned.nodes.get_mut(&obj) {
                    n.holders.insert(to);
                }
                if to == self.me {
                    self.holder.add(obj, self.me, 1);
                    out.effect(CapsEffect::Install {
                        obj,
                        owner: self.me,
                    });
                } else {
                    let settled = self.owned.settled();
                    let seq = self.number_copy(&obj, to);
                    self.send(out, to, CapsMsg::Grant { obj, settled, seq });
                }
                self.answer(from, req, Outcome::Done, out);
            }
            Request::Retype { child } => {
                if child.depth != obj.depth.wrapping_add(1) || !obj.holds_region(child) {
                    return self.answer(from, req, Outcome::OutOfRange, out);
                }
                if children.iter().any(|c| c.overlaps(child)) {
                    return self.answer(from, req, Outcome::Overlaps, out);
                }
                match self.variant {
                    Variant::Targeted => self.retype(from, req, obj, child, out),
                    Variant::Broadcast => {
                        let all = self.others();
                        let op =
                            self.run(now, Some((from, req)), obj, Phase::Asking { child }, all);
                        for c in all.iter() {
                            self.send(
                                out,
                                c,
                                CapsMsg::Query {
                                    op,
                                    obj,
                                    within: child,
                                },
                            );
                        }
                        self.maybe_done(now, op, out);
                    }
                }
            }
            Request::Revoke => self.revoke(now, from, req, obj, out),
        }
    }

    /// Every core but this one.
    pub(super) fn others(&self) -> CoreSet {
        let mut all = CoreSet::below(self.cores);
        all.remove(self.me);
        all
    }

    /// Records a new operation on `obj`'s tree and returns its number.
    pub(super) fn run(
        &mut self,
        now: u64,
        from: Option<(u32, u64)>,
        obj: Obj,
        phase: Phase,
        asked: CoreSet,
    ) -> u64 {
        let op = self.owned.next_op;
        self.owned.next_op += 1;
        let root = self.owned.root(obj);
        self.owned.locked.insert(root, op);
        self.owned.running.insert(
            op,
            Running {
                from,
                obj,
                root,
                phase,
                asked,
                waiting: asked,
                found: false,
                deadline: now.saturating_add(self.bound),
            },
        );
        op
    }

    fn retype(&mut self, from: u32, req: u64, obj: Obj, child: Obj, out: &mut Out<CapsEffect>) {
        let mut holders = CoreSet::new();
        holders.insert(from);
        self.owned.nodes.insert(
            child,
            Node {
                parent: Some(obj),
                children: Vec::new(),
                holders,
                sent: BTreeMap::new(),
            },
        );
        if let Some(n) = self.owned.nodes.get_mut(&obj) {
            n.children.push(child);
        }
        let seq = if from == self.me {
            0
        } else {
            self.number_copy(&child, from)
        };
        self.answer_with(from, req, Outcome::Done, seq, u64::MAX, out);
    }

    fn revoke(&mut self, now: u64, from: u32, req: u64, obj: Obj, out: &mut Out<CapsEffect>) {
        // Targeted: the cores that hold a copy or descendant but the owner,
        // which marks its own; the requester too, as a copy or descendant
        // the owner sent it before this revoke may still be on its way
        // (the mark follows it on the same channel). Broadcast: every core.
        let mut cores = match self.variant {
            Variant::Targeted => self.owned.holders_below(&obj),
            Variant::Broadcast => CoreSet::below(self.cores),
        };
        cores.remove(self.me);
        if self.bug == Some(Bug::RevokeSkipsOne)
            && let Some(last) = cores.iter().last()
        {
            cores.remove(last);
        }
        let op = self.run(now, Some((from, req)), obj, Phase::Marking, cores);
        // The owner's own copies and descendants (one copy stays if the
        // owner asked): what it made since the request is marked too.
        let key = MarkKey { owner: self.me, op };
        self.holder.mark(key, self.me, obj, from == self.me, out);
        let settled = self.owned.settled();
        for c in cores.iter() {
            self.send(
                out,
                c,
                CapsMsg::Mark {
                    op,
                    obj,
                    keep: from,
                    settled,
                },
            );
        }
        self.maybe_done(now, op, out);
    }

    /// A participant's reply to operation `op`.
    pub(super) fn on_reply(
        &mut self,
        now: u64,
        from: u32,
        op: u64,
        holds: bool,
        out: &mut Out<CapsEffect>,
    ) -> Result<(), CapsError> {
        if op >= self.owned.next_op {
            return Err(CapsError::UnknownOp);
        }
        // A late reply to an operation already abandoned changes nothing.
        let Some(r) = self.owned.running.get_mut(&op) else {
            return Ok(());
        };
        if !r.waiting.contains(from) {
            return Err(CapsError::UnknownOp);
        }
        r.waiting.remove(from);
        r.found |= holds;
        self.maybe_done(now, op, out);
        Ok(())
    }

    /// Moves operation `op` on once every reply is in.
    pub(super) fn maybe_done(&mut self, now: u64, op: u64, out: &mut Out<CapsEffect>) {
        let Some(r) = self.owned.running.get(&op) else {
            return;
        };
        if !r.waiting.is_empty() {
            return;
        }
        let r = r.clone();
        if r.phase == Phase::Marking && self.variant == Variant::Broadcast {
            let run = self.owned.running.get_mut(&op).expect("running");
            run.phase = Phase::Sweeping;
            run.waiting = r.asked;
            run.deadline = now.saturating_add(self.bound);
            for c in r.asked.iter() {
                self.send(out, c, CapsMsg::Sweep { op });
            }
            return self.maybe_done(now, op, out);
        }
        self.owned.running.remove(&op);
        self.owned.locked.remove(&r.root);
        match r.phase {
            Phase::Marking | Phase::Sweeping => {
                self.owned.cut_below(&r.obj);
                let (from, req) = r.from.expect("a revoke has a requester");
                // The requester's copy stays, unless it dropped it while
                // the revoke ran; then nothing of the object is left.
                let mut kept = false;
                if let Some(n) = self.owned.nodes.get_mut(&r.obj) {
                    kept = n.holders.contains(from);
                    n.holders = CoreSet::new();
                    if kept {
                        n.holders.insert(from);
                    }
                    n.sent.retain(|c, _| kept && *c == from);
                }
                self.holder.finish(MarkKey { owner: self.me, op }, out);
                if !kept {
                    self.free(r.obj, out);
                }
                out.effect(CapsEffect::Revoked {
                    obj: r.obj,
                    keep: from,
                });
                self.answer_with(from, req, Outcome::Done, 0, op, out);
            }
            Phase::Asking { child } => {
                let (from, req) = r.from.expect("a retype has a requester");
                if r.found {
                    self.answer(from, req, Outcome::Overlaps, out);
                } else {
                    self.retype(from, req, r.obj, child, out);
                }
            }
            Phase::Freeing => {
                if !r.found {
                    self.free(r.obj, out);
                }
            }
        }
        self.pump(now, out);
    }
}
