//! One core's copies: how many live copies of each object it holds, and
//! the copies it has marked for operations not yet decided.
//!
//! A marked copy behaves as deleted from the moment it is marked (the
//! [`CapsEffect::Mark`] tells the kernel to refuse it). It comes back with
//! [`CapsEffect::Unmark`] if its operation is abandoned, and is removed
//! for good ([`CapsEffect::Remove`]) once its operation is decided: the
//! owner says so in the `settled` bound of its next message to this core,
//! so deciding costs no message of its own.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::{CapsEffect, Obj};
use crate::Out;

/// Live copies of one object on this core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Held {
    /// The core that owns the object's tree.
    pub owner: u32,
    /// Live copies (at least 1 while the entry exists).
    pub copies: u32,
}

/// Whose marks: operation `op` of owner `owner`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct MarkKey {
    /// The owner.
    pub owner: u32,
    /// Its operation.
    pub op: u64,
}

/// One marked object: its owner and how many copies.
type Marked = (Obj, u32, u32);

/// The copies of one core.
#[derive(Debug, Default)]
pub(super) struct Holder {
    held: BTreeMap<Obj, Held>,
    marks: BTreeMap<MarkKey, Vec<Marked>>,
    /// The number of the last copy of each object the owner sent here
    /// (grants, retypes): a drop says it, and the owner keeps this core in
    /// its records while a later copy is still on its way, so a drop that
    /// crosses a copy does not lose it.
    seen: BTreeMap<Obj, u64>,
    /// Objects whose last live copy was deleted while other copies were
    /// marked and undecided: the owner is told once those are decided and
    /// none comes back.
    deferred: BTreeMap<Obj, u32>,
    /// Deferred drops now due: object and owner.
    due: Vec<(Obj, u32)>,
}

impl Holder {
    /// The live copies of `obj`.
    pub fn get(&self, obj: &Obj) -> Option<Held> {
        self.held.get(obj).copied()
    }

    /// Every object with live copies here.
    pub fn objects(&self) -> impl Iterator<Item = (&Obj, &Held)> {
        self.held.iter()
    }

    /// Adds `n` live copies of `obj`, owned by `owner`.
    pub fn add(&mut self, obj: Obj, owner: u32, n: u32) {
        self.held
            .entry(obj)
            .or_insert(Held { owner, copies: 0 })
            .copies += n;
    }

    /// Adds copy number `seq` the owner sent.
    pub fn add_sent(&mut self, obj: Obj, owner: u32, seq: u64) {
        self.add(obj, owner, 1);
        let s = self.seen.entry(obj).or_insert(0);
        *s = (*s).max(seq);
    }

    /// The number of the last copy of `obj` received, which a drop says.
    pub fn take_seen(&mut self, obj: &Obj) -> u64 {
        self.seen.remove(obj).unwrap_or(0)
    }

    /// Whether copies of `obj` are marked and undecided.
    pub fn has_marks_of(&self, obj: &Obj) -> bool {
        self.marks.values().flatten().any(|(o, ..)| o == obj)
    }

    /// The owner is told of the drop of `obj` once its marks are decided.
    pub fn defer_drop(&mut self, obj: Obj, owner: u32) {
        self.deferred.insert(obj, owner);
    }

    /// Drops that became due: object and owner.
    pub fn take_due(&mut self) -> Vec<(Obj, u32)> {
        core::mem::take(&mut self.due)
    }

    /// After marks of `obj` were decided: a deferred drop is due when no
    /// copy is left, live or marked; a copy that came back cancels it.
    fn decided(&mut self, obj: Obj) {
        if self.held.contains_key(&obj) {
            self.deferred.remove(&obj);
        } else if !self.has_marks_of(&obj)
            && let Some(owner) = self.deferred.remove(&obj)
        {
            self.due.push((obj, owner));
        }
    }

    /// Removes one live copy; returns whether it was the last here.
    pub fn remove_one(&mut self, obj: &Obj) -> Option<bool> {
        let h = self.held.get_mut(obj)?;
        h.copies -= 1;
        if h.copies == 0 {
            self.held.remove(obj);
            return Some(true);
        }
        Some(false)
    }

    /// Whether this core holds a live copy of something of `owner`'s tree
    /// inside `within` that descends from `obj` (or `obj` itself when
    /// `within == obj`). Marked copies are deleted as far as anyone may
    /// use them: they do not count.
    pub fn holds_below(&self, owner: u32, obj: Obj, within: Obj) -> bool {
        self.held.iter().any(|(o, h)| {
            h.owner == owner && (*o == within || (obj.is_ancestor_of(*o) && within.overlaps(*o)))
        })
    }

    /// Marks, under `key`, every live copy of `owner`'s objects that `obj`
    /// covers, but one copy of `obj` itself when `keep_one`.
    pub fn mark(
        &mut self,
        key: MarkKey,
        owner: u32,
        obj: Obj,
        keep_one: bool,
        out: &mut Out<CapsEffect>,
    ) {
        let hit: Vec<Obj> = self
            .held
            .iter()
            .filter(|(o, h)| h.owner == owner && obj.covers(**o))
            .map(|(o, _)| *o)
            .collect();
        let mut marked = Vec::new();
        for o in hit {
            let h = self.held[&o];
            let n = if o == obj && keep_one {
                h.copies - 1
            } else {
                h.copies
            };
            if n == 0 {
                continue;
            }
            if n == h.copies {
                self.held.remove(&o);
            } else if let Some(h) = self.held.get_mut(&o) {
                h.copies -= n;
            }
            out.effect(CapsEffect::Mark { obj: o, copies: n });
            marked.push((o, owner, n));
        }
        if !marked.is_empty() {
            self.marks.entry(key).or_default().extend(marked);
        }
    }

    /// Undoes the marks of `key`.
    pub fn restore(&mut self, key: MarkKey, out: &mut Out<CapsEffect>) {
        for (obj, owner, n) in self.marks.remove(&key).unwrap_or_default() {
            self.add(obj, owner, n);
            out.effect(CapsEffect::Unmark { obj, copies: n });
            self.decided(obj);
        }
    }

    /// Removes for good what `key` marked. The number of the last copy
    /// seen stays until this core drops the object: copies are numbered
    /// once per owner, so an old number is never mistaken for a new one.
    pub fn finish(&mut self, key: MarkKey, out: &mut Out<CapsEffect>) {
        for (obj, _, n) in self.marks.remove(&key).unwrap_or_default() {
            out.effect(CapsEffect::Remove { obj, copies: n });
            self.decided(obj);
        }
    }

    /// Removes for good the marks of `owner`'s operations on the tree of
    /// `obj`: the owner sends a copy of, or an answer about, `obj` only
    /// while no operation runs on its tree, so every one before is decided
    /// (restored ones were undone before, on the same channel).
    pub fn settle_near(&mut self, owner: u32, obj: Obj, out: &mut Out<CapsEffect>) {
        let near = |list: &Vec<Marked>| {
            list.iter()
                .any(|(o, own, _)| *own == owner && o.overlaps(obj))
        };
        let done: Vec<MarkKey> = self
            .marks
            .iter()
            .filter(|(k, list)| k.owner == owner && near(list))
            .map(|(k, _)| *k)
            .collect();
        for key in done {
            self.finish(key, out);
        }
    }

    /// Removes for good the marks of every operation of `owner` numbered
    /// below `settled`.
    pub fn settle(&mut self, owner: u32, settled: u64, out: &mut Out<CapsEffect>) {
        let done: Vec<MarkKey> = self
            .marks
            .keys()
            .filter(|k| k.owner == owner && k.op < settled)
            .copied()
            .collect();
        for key in done {
            self.finish(key, out);
        }
    }
}
