//! The invariants of the database, a full check of them, and the fuzz-mode
//! hook that runs the check every N operations.

use crate::cspace::Slot;
use crate::mdb::{Mdb, Record};
use crate::rights::Rights;
use crate::types::{Cap, CapType, Tree};
use crate::vnode::{ENTRIES, KERNEL_HALF_FIRST, Level};

/// A broken invariant, naming where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvariantViolation {
    /// A record is stored under a key that does not follow from its
    /// capability, so the order is not the one the lookups assume.
    KeyMismatch(Slot),
    /// A capability breaks its type's shape rules.
    BadShape(Slot),
    /// A record and its slot do not point at each other.
    SlotMismatch(Slot),
    /// Two memory objects overlap without one containing the other.
    Overlap(Slot, Slot),
    /// An object lies inside one that cannot have it as a descendant (only
    /// RAM contains memory objects; a Dispatcher contains its Endpoints).
    BadContainer(Slot),
    /// An Endpoint whose dispatcher is gone.
    OrphanEndpoint(Slot),
    /// Copies of one object disagree on owner or remote relations.
    CopiesDisagree(Slot),
    /// A CNode or VNode capability without the object's state, or state
    /// no capability names.
    DanglingObject(u64),
    /// A mapping that its VNode does not record, or the reverse, or one
    /// that breaks the mapping rules.
    BadMapping(u64),
}

/// Counts operations and runs [`Mdb::check_invariants`] every `every` of
/// them, keeping the first violation found.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FuzzHook {
    every: u32,
    count: u32,
    violation: Option<InvariantViolation>,
}

impl Mdb {
    /// Fuzz mode: check every invariant after every `every` operations
    /// that may change the database, refused ones included (0 turns it
    /// off). The first violation found is kept for [`Mdb::take_violation`];
    /// the kernel decides what to do with it (stop, in a fuzzing run).
    pub fn set_fuzz_mode(&mut self, every: u32) {
        self.fuzz.every = every;
        self.fuzz.count = 0;
    }

    /// The first violation fuzz mode found since the last call, if any.
    pub fn take_violation(&mut self) -> Option<InvariantViolation> {
        self.fuzz.violation.take()
    }

    /// Breaks the database on purpose, for the kernel's deliberate
    /// `test=fuzz-corrupt` scenario (which proves that a fuzzing run finds
    /// a broken database): the slot of one Frame record (of any record but
    /// a root CNode's own, when there is no Frame) forgets its record, so
    /// that record and slot no longer point at each other. Returns the slot
    /// it emptied. No other code calls this.
    pub fn corrupt_for_test(&mut self) -> Option<Slot> {
        let slot = self
            .records
            .values()
            .find(|r| r.cap.ty == CapType::Frame)
            .or_else(|| self.records.values().find(|r| r.slot.index != 0))
            .map(|r| r.slot)?;
        let cell = self
            .cnodes
            .get_mut(&slot.cnode)?
            .slots
            .get_mut(slot.index as usize)?;
        *cell = None;
        Some(slot)
    }

    pub(crate) fn tick(&mut self) {
        if self.fuzz.every == 0 {
            return;
        }
        self.fuzz.count += 1;
        if self.fuzz.count >= self.fuzz.every {
            self.fuzz.count = 0;
            if let Err(v) = self.check_invariants() {
                self.fuzz.violation.get_or_insert(v);
            }
        }
    }

    /// Checks every invariant, in O(n log n):
    ///
    /// * each record's key follows from its capability (so the map's order
    ///   is the database order) and the capability obeys its shape rules;
    /// * records and slots point at each other;
    /// * memory objects form a laminar family (no partial overlap, so no
    ///   two siblings overlap), every object lies inside its parent, and the
    ///   parent is RAM (or, for an Endpoint, its Dispatcher);
    /// * copies agree on owner and remote relations;
    /// * every CNode and VNode object has state and a capability naming it;
    /// * every mapping is recorded by both its VNode and its capability, at
    ///   the right level, in the user half, with rights the capability has,
    ///   and without overlap.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_records()?;
        self.check_tree()?;
        self.check_objects()?;
        self.check_mappings()
    }

    fn check_records(&self) -> Result<(), InvariantViolation> {
        for (key, r) in &self.records {
            if !key.matches(&r.cap) {
                return Err(InvariantViolation::KeyMismatch(r.slot));
            }
            if r.cap.check_shape().is_err() || r.cap.ty == CapType::Null {
                return Err(InvariantViolation::BadShape(r.slot));
            }
            if self.slot_key(r.slot) != Some(*key) {
                return Err(InvariantViolation::SlotMismatch(r.slot));
            }
        }
        for (base, store) in &self.cnodes {
            for (index, k) in store.slots.iter().enumerate() {
                let slot = Slot {
                    cnode: *base,
                    index: index as u32,
                };
                if let Some(k) = k
                    && self.records.get(k).map(|r| r.slot) != Some(slot)
                {
                    return Err(InvariantViolation::SlotMismatch(slot));
                }
            }
        }
        Ok(())
    }

    fn check_tree(&self) -> Result<(), InvariantViolation> {
        let mut open: alloc::vec::Vec<&Record> = alloc::vec::Vec::new();
        let mut prev: Option<&Record> = None;
        for r in self.records.values() {
            if let Some(p) = prev.filter(|p| p.cap.same_object(&r.cap)) {
                if p.owner != r.owner || p.remote != r.remote {
                    return Err(InvariantViolation::CopiesDisagree(r.slot));
                }
                continue;
            }
            prev = Some(r);
            if r.cap.ty.tree() != Tree::Memory {
                continue;
            }
            let end = r.cap.end().unwrap_or(u64::MAX);
            while open
                .last()
                .is_some_and(|t| t.cap.end().unwrap_or(u64::MAX) <= r.cap.base)
            {
                open.pop();
            }
            match open.last() {
                Some(t) if t.cap.end().unwrap_or(u64::MAX) < end => {
                    return Err(InvariantViolation::Overlap(t.slot, r.slot));
                }
                Some(t) => {
                    let ok = if r.cap.ty == CapType::Endpoint {
                        is_dispatcher_of(&t.cap, &r.cap)
                    } else {
                        t.cap.ty == CapType::Ram
                    };
                    if !ok {
                        return Err(if r.cap.ty == CapType::Endpoint {
                            InvariantViolation::OrphanEndpoint(r.slot)
                        } else {
                            InvariantViolation::BadContainer(r.slot)
                        });
                    }
                }
                None if r.cap.ty == CapType::Endpoint => {
                    return Err(InvariantViolation::OrphanEndpoint(r.slot));
                }
                None => {}
            }
            open.push(r);
        }
        Ok(())
    }

    fn check_objects(&self) -> Result<(), InvariantViolation> {
        for r in self.records.values() {
            let ok = match r.cap.ty {
                CapType::CNode => self
                    .cnodes
                    .get(&r.cap.base)
                    .is_some_and(|s| s.slots.len() == r.cap.slots() as usize),
                t if t.is_vnode() => self
                    .vnodes
                    .get(&r.cap.base)
                    .is_some_and(|s| Some(s.level) == Level::of(t)),
                _ => true,
            };
            if !ok {
                return Err(InvariantViolation::DanglingObject(r.cap.base));
            }
        }
        let mut cnodes = alloc::collections::BTreeSet::new();
        let mut vnodes = alloc::collections::BTreeSet::new();
        for r in self.records.values() {
            if r.cap.ty == CapType::CNode {
                cnodes.insert(r.cap.base);
            } else if r.cap.ty.is_vnode() {
                vnodes.insert(r.cap.base);
            }
        }
        if let Some(base) = self.cnodes.keys().find(|b| !cnodes.contains(*b)) {
            return Err(InvariantViolation::DanglingObject(*base));
        }
        if let Some(base) = self.vnodes.keys().find(|b| !vnodes.contains(*b)) {
            return Err(InvariantViolation::DanglingObject(*base));
        }
        Ok(())
    }

    fn check_mappings(&self) -> Result<(), InvariantViolation> {
        for (key, r) in &self.records {
            let Some(m) = r.mapping else { continue };
            let bad = InvariantViolation::BadMapping(m.vnode);
            let store = self.vnodes.get(&m.vnode).ok_or(bad)?;
            if store.runs.get(&m.index) != Some(&(m.count, *key)) {
                return Err(bad);
            }
            let end = u32::from(m.index) + u32::from(m.count);
            let level_ok = match r.cap.ty {
                CapType::Frame => store.level.page_size().is_some(),
                t => store.level.child_table() == Some(t) && m.count == 1,
            };
            let half_ok = store.level != Level::Pml4 || end <= KERNEL_HALF_FIRST;
            let rights_ok = m.rights.contains(Rights::READ) && r.cap.rights.contains(m.rights);
            if m.count == 0 || end > ENTRIES || !level_ok || !half_ok || !rights_ok {
                return Err(bad);
            }
        }
        for (base, store) in &self.vnodes {
            let bad = InvariantViolation::BadMapping(*base);
            let mut next_free = 0u32;
            for (index, (count, key)) in &store.runs {
                if u32::from(*index) < next_free {
                    return Err(bad);
                }
                next_free = u32::from(*index) + u32::from(*count);
                let back = self.records.get(key).and_then(|r| r.mapping);
                if back.map(|m| (m.vnode, m.index, m.count)) != Some((*base, *index, *count)) {
                    return Err(bad);
                }
            }
        }
        Ok(())
    }
}

fn is_dispatcher_of(d: &Cap, ep: &Cap) -> bool {
    d.ty == CapType::Dispatcher && d.base == ep.base && d.size == ep.size
}
