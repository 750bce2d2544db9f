//! The mapping database: one ordered record per capability copy.
//!
//! Records are kept in a `BTreeMap` under a composite key, (tree, base
//! ascending, size descending, type rank, copy id). In this order an
//! ancestor sorts before its descendants and the copies of one object sit
//! next to each other, so "the copies of X" is one key range and "does X
//! have descendants" is a look at the first record after that range.
//!
//! Ancestry is not stored: as in Barrelfish it follows from the order and
//! from address containment, because retype never creates two objects that
//! overlap without one containing the other (the records form a laminar
//! family, checked by [`Mdb::check_invariants`]).

use crate::cspace::{CNodeStore, Slot};
use crate::invariants::FuzzHook;
use crate::rights::Rights;
use crate::types::{Cap, CapType, Tree};
use crate::vnode::{Mapping, VNodeStore};
use abi::CapError;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cmp::Reverse;

bitflags::bitflags! {
    /// Relations of a capability with copies on other cores, kept in sync
    /// over all local copies of the object.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
    pub struct RemoteRelations: u8 {
        /// Another core holds a copy: deleting the last local copy does not
        /// destroy the object (and a program's delete of it, retype or
        /// revoke is `RetryThroughMonitor`).
        const COPIES = 1 << 0;
        /// Another core holds an ancestor: a program's retype or revoke is
        /// `RetryThroughMonitor`.
        const ANCESTORS = 1 << 1;
        /// Another core holds a descendant: the object may not be retyped
        /// (a program's retype or revoke is `RetryThroughMonitor`).
        const DESCENDANTS = 1 << 2;
    }
}

/// The ordering key of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MdbKey {
    tree: Tree,
    base: u64,
    size: Reverse<u64>,
    rank: u8,
    id: u64,
}

impl MdbKey {
    fn of(cap: &Cap, id: u64) -> MdbKey {
        MdbKey {
            tree: cap.ty.tree(),
            base: cap.base,
            size: Reverse(cap.size),
            rank: cap.ty.rank(),
            id,
        }
    }

    /// The lowest and highest keys any copy of this object can have.
    fn object_bounds(&self) -> (MdbKey, MdbKey) {
        (
            MdbKey { id: 0, ..*self },
            MdbKey {
                id: u64::MAX,
                ..*self
            },
        )
    }

    /// Whether `cap` could be stored under this key.
    pub(crate) fn matches(&self, cap: &Cap) -> bool {
        MdbKey::of(cap, self.id) == *self
    }
}

/// One capability copy: what [`Mdb::slots`] reports of it.
pub(crate) type Record = SlotView;

/// What a slot holds, as reported by [`Mdb::slots`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotView {
    /// The slot.
    pub slot: Slot,
    /// The capability.
    pub cap: Cap,
    /// The core that owns the object.
    pub owner: u32,
    /// Relations with other cores.
    pub remote: RemoteRelations,
    /// Whether the copy is locked.
    pub locked: bool,
    /// Whether the copy is marked by an agreed revoke or delete (it
    /// behaves as deleted until swept or unmarked).
    pub marked: bool,
    /// Where the copy is mapped, if it is.
    pub mapping: Option<Mapping>,
}

impl SlotView {
    /// A new copy: not locked, marked or mapped.
    pub fn fresh(cap: Cap, slot: Slot, owner: u32, remote: RemoteRelations) -> SlotView {
        SlotView {
            slot,
            cap,
            owner,
            remote,
            locked: false,
            marked: false,
            mapping: None,
        }
    }
}

/// The capability database of one core: every capability copy, the slots of
/// every CNode and the entries of every VNode. Each CPU driver owns one.
#[derive(Clone, Debug)]
pub struct Mdb {
    pub(crate) core: u32,
    pub(crate) records: BTreeMap<MdbKey, Record>,
    pub(crate) cnodes: BTreeMap<u64, CNodeStore>,
    pub(crate) vnodes: BTreeMap<u64, VNodeStore>,
    next_id: u64,
    next_generation: u64,
    pub(crate) fuzz: FuzzHook,
    #[cfg(test)]
    pub(crate) bug: Option<crate::tests::Bug>,
}

impl Mdb {
    /// An empty database for core `core`.
    pub fn new(core: u32) -> Mdb {
        Mdb {
            core,
            records: BTreeMap::new(),
            cnodes: BTreeMap::new(),
            vnodes: BTreeMap::new(),
            next_id: 1,
            next_generation: 1,
            fuzz: FuzzHook::default(),
            #[cfg(test)]
            bug: None,
        }
    }

    /// The core this database belongs to.
    pub fn core(&self) -> u32 {
        self.core
    }

    /// Number of capability copies.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no capabilities at all.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Every occupied slot, in database order.
    pub fn slots(&self) -> impl Iterator<Item = SlotView> + '_ {
        self.records.values().copied()
    }

    pub(crate) fn record(&self, key: &MdbKey) -> Result<&Record, CapError> {
        // A key from a slot always has a record (checked by the invariants);
        // report a miss as an empty slot rather than panic.
        self.records.get(key).ok_or(CapError::EmptySlot)
    }

    pub(crate) fn fresh_generation(&mut self) -> u64 {
        let g = self.next_generation;
        self.next_generation += 1;
        g
    }

    /// Keys of every local copy of the object `key` names, itself included.
    pub(crate) fn copies(&self, key: &MdbKey) -> impl Iterator<Item = MdbKey> + '_ {
        let (lo, hi) = key.object_bounds();
        self.records.range(lo..=hi).map(|(k, _)| *k)
    }

    /// Keys of every local descendant of `key`, in order: the records after
    /// the object's copies that start inside it.
    pub(crate) fn descendants(&self, key: &MdbKey) -> Vec<MdbKey> {
        let Ok(rec) = self.record(key) else {
            return Vec::new();
        };
        let end = rec.cap.end().unwrap_or(u64::MAX);
        let (_, hi) = key.object_bounds();
        self.records
            .range((core::ops::Bound::Excluded(hi), core::ops::Bound::Unbounded))
            .take_while(|(k, _)| k.tree == key.tree && k.base < end)
            .map(|(k, _)| *k)
            .collect()
    }

    /// Whether `key` has a local descendant: one look past its copies.
    pub(crate) fn has_descendants(&self, key: &MdbKey) -> bool {
        let Ok(rec) = self.record(key) else {
            return false;
        };
        let end = rec.cap.end().unwrap_or(u64::MAX);
        let (_, hi) = key.object_bounds();
        self.records
            .range((core::ops::Bound::Excluded(hi), core::ops::Bound::Unbounded))
            .next()
            .is_some_and(|(k, _)| k.tree == key.tree && k.base < end)
    }

    /// Records a new copy in an empty, existing slot.
    pub(crate) fn insert(
        &mut self,
        cap: Cap,
        slot: Slot,
        owner: u32,
        remote: RemoteRelations,
    ) -> MdbKey {
        let key = MdbKey::of(&cap, self.next_id);
        self.next_id += 1;
        self.records
            .insert(key, SlotView::fresh(cap, slot, owner, remote));
        if let Some(s) = self
            .cnodes
            .get_mut(&slot.cnode)
            .and_then(|c| c.slots.get_mut(slot.index as usize))
        {
            *s = Some(key);
        }
        key
    }

    /// Whether a memory capability that was not derived here would fit the
    /// local tree: for every local memory record it overlaps, one of the two
    /// contains the other, and the container (the one first in the order)
    /// is RAM, the only type whose descendants may be memory objects. O(n):
    /// only the monitor's creation of received capabilities needs it.
    pub(crate) fn fits_tree(&self, cap: &Cap) -> bool {
        if cap.ty.tree() != Tree::Memory {
            return true;
        }
        let (b, e) = (cap.base, cap.end().unwrap_or(u64::MAX));
        let new_key = MdbKey::of(cap, 0);
        self.records.iter().all(|(k, r)| {
            if r.cap.ty.tree() != Tree::Memory || r.cap.same_object(cap) {
                return true;
            }
            let (rb, re) = (r.cap.base, r.cap.end().unwrap_or(u64::MAX));
            if !(rb < e && b < re) {
                return true;
            }
            let nested = (rb <= b && e <= re) || (b <= rb && re <= e);
            let container = if new_key < *k { cap.ty } else { r.cap.ty };
            nested && container == CapType::Ram
        })
    }

    /// Whether any local memory record overlaps `cap` at all. O(n), boot
    /// only.
    pub(crate) fn overlaps_any(&self, cap: &Cap) -> bool {
        let (b, e) = (cap.base, cap.end().unwrap_or(u64::MAX));
        self.records.values().any(|r| {
            r.cap.ty.tree() == Tree::Memory && r.cap.base < e && b < r.cap.end().unwrap_or(u64::MAX)
        })
    }

    /// Sets the rights-independent relation bits of every local copy.
    pub(crate) fn set_remote_all(&mut self, key: &MdbKey, remote: RemoteRelations) {
        let keys: Vec<MdbKey> = self.copies(key).collect();
        for k in keys {
            if let Some(r) = self.records.get_mut(&k) {
                r.remote = remote;
            }
        }
    }

    /// Whether a right is present, as a typed refusal.
    pub(crate) fn need(rights: Rights, right: Rights) -> Result<(), CapError> {
        if rights.contains(right) {
            Ok(())
        } else {
            Err(CapError::MissingRight)
        }
    }

    /// Runs the fuzz-mode hook after an operation and passes its result on.
    pub(crate) fn finish<T>(&mut self, result: T) -> T {
        self.tick();
        result
    }

    /// A new CNode store.
    pub(crate) fn new_cnode(&mut self, base: u64, slots: u32) {
        let generation = self.fresh_generation();
        self.cnodes.insert(
            base,
            CNodeStore {
                generation,
                slots: alloc::vec![None; slots as usize],
            },
        );
    }

    /// The store of an object that has one (CNodes, VNodes), created when
    /// its first capability is.
    pub(crate) fn create_object(&mut self, cap: &Cap) {
        if cap.ty == CapType::CNode {
            self.new_cnode(cap.base, cap.slots());
        } else if let Some(level) = crate::vnode::Level::of(cap.ty) {
            self.vnodes.insert(
                cap.base,
                VNodeStore {
                    level,
                    runs: alloc::collections::BTreeMap::new(),
                },
            );
        }
    }
}
