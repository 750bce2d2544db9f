//! The owner's side, continued: operations whose bound passed, drops of
//! the last copy on a core, and freeing what nothing references.

use super::holder::MarkKey;
use super::owner::{MAX_BACKOFF, Phase, Waiting};
use super::{Caps, CapsEffect, CapsMsg, CoreSet, Obj, Outcome, Variant};
use crate::Out;
use alloc::vec::Vec;

impl Caps {
    /// Abandons every operation whose bound passed.
    pub(super) fn expire(&mut self, now: u64, out: &mut Out<CapsEffect>) {
        let late: Vec<u64> = self
            .owned
            .running
            .iter()
            .filter(|(_, r)| r.deadline <= now)
            .map(|(op, _)| *op)
            .collect();
        for op in late {
            let Some(mut r) = self.owned.running.remove(&op) else {
                continue;
            };
            if r.phase == Phase::Sweeping {
                // Some cores may have swept already: the revoke is past
                // the point of return and completes; a late core sweeps
                // when its sweep arrives.
                r.waiting = CoreSet::new();
                self.owned.running.insert(op, r);
                self.maybe_done(now, op, out);
                continue;
            }
            self.owned.locked.remove(&r.root);
            if r.phase == Phase::Freeing {
                // Ask again, waiting twice as long each time: the memory
                // comes back once every core answers (the broadcast
                // baseline needs every core).
                *self.owned.free_tries.entry(r.obj).or_insert(0) += 1;
                self.owned.queue.push_back(Waiting {
                    from: self.me,
                    req: 0,
                    obj: r.obj,
                    what: None,
                });
                continue;
            }
            let silent = r.waiting.iter().next().unwrap_or(self.me);
            if matches!(r.phase, Phase::Marking | Phase::Sweeping) {
                self.holder.restore(MarkKey { owner: self.me, op }, out);
                for c in r.asked.iter() {
                    self.send(out, c, CapsMsg::Restore { op });
                }
            }
            if let Some((from, req)) = r.from {
                self.answer(from, req, Outcome::Timeout { core: silent }, out);
            }
        }
        self.pump(now, out);
    }

    /// Core `from` holds no copy of `obj` any more, having received copy
    /// number `seen` last.
    pub(super) fn dropped(
        &mut self,
        now: u64,
        from: u32,
        obj: Obj,
        seen: u64,
        out: &mut Out<CapsEffect>,
    ) {
        let Some(n) = self.owned.nodes.get_mut(&obj) else {
            return;
        };
        if n.sent.get(&from).is_some_and(|&last| last > seen) {
            // A later copy is still on its way to `from`: it stays a holder.
            return;
        }
        n.sent.remove(&from);
        n.holders.remove(from);
        if !(n.holders.is_empty() && n.children.is_empty()) {
            return;
        }
        match self.variant {
            Variant::Targeted => self.free(obj, out),
            Variant::Broadcast => self.enqueue(
                now,
                Waiting {
                    from: self.me,
                    req: 0,
                    obj,
                    what: None,
                },
                out,
            ),
        }
    }

    /// Broadcast delete: asks every core before freeing `obj`.
    pub(super) fn free_question(&mut self, now: u64, obj: Obj, out: &mut Out<CapsEffect>) {
        let unreferenced = self
            .owned
            .nodes
            .get(&obj)
            .is_some_and(|n| n.holders.is_empty() && n.children.is_empty());
        if !unreferenced {
            return self.pump(now, out);
        }
        let all = self.others();
        let op = self.run(now, None, obj, Phase::Freeing, all);
        let tries = self.owned.free_tries.get(&obj).copied().unwrap_or(0);
        if let Some(r) = self.owned.running.get_mut(&op) {
            r.deadline = now.saturating_add(self.bound << tries.min(MAX_BACKOFF));
        }
        for c in all.iter() {
            self.send(
                out,
                c,
                CapsMsg::Query {
                    op,
                    obj,
                    within: obj,
                },
            );
        }
        self.maybe_done(now, op, out);
    }

    /// Forgets `obj` (and ancestors left without copies); a whole tree
    /// gone frees its memory.
    pub(super) fn free(&mut self, obj: Obj, out: &mut Out<CapsEffect>) {
        self.owned.free_tries.remove(&obj);
        if let Some(root) = self.owned.collect(obj) {
            out.effect(CapsEffect::Freed { obj: root });
        }
    }
}
