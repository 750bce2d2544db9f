//! Two-level cspaces: capability addresses and their resolution.
//!
//! A cspace is named by its root CNode. A root slot may hold a CNode
//! capability to a level-2 CNode. A [`CapAddr`] of depth two packs the root
//! index above [`L2_BITS`] bits of level-2 index, a wide one above
//! [`WIDE_L2_BITS`] (every slot of the largest CNode); an address of depth
//! one names a root slot itself. So a cspace has at most
//! `2^MAX_CNODE_BITS` root slots and as many behind each: 2^24 slots.

use crate::mdb::{Mdb, MdbKey};
use crate::rights::Rights;
use crate::types::{Cap, CapType, MAX_CNODE_BITS};
use abi::CapError;
use alloc::vec::Vec;

/// Bits of level-2 index in a depth-two address.
pub const L2_BITS: u32 = abi::cap::L2_BITS;

/// Bits of level-2 index in a wide depth-two address: as many as the
/// largest CNode has slot bits.
pub const WIDE_L2_BITS: u32 = MAX_CNODE_BITS;

/// How many levels an address walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Depth {
    /// The address is a root index.
    One,
    /// The address is a root index and a level-2 index of [`L2_BITS`].
    Two,
    /// The address is a root index and a level-2 index of
    /// [`WIDE_L2_BITS`].
    TwoWide,
}

impl Depth {
    /// Bits of level-2 index an address of this depth carries (0 for a
    /// root slot).
    pub fn l2_bits(self) -> u32 {
        match self {
            Depth::One => 0,
            Depth::Two => L2_BITS,
            Depth::TwoWide => WIDE_L2_BITS,
        }
    }
}

/// A capability address inside a cspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CapAddr {
    /// The index bits.
    pub bits: u32,
    /// How many levels they walk.
    pub depth: Depth,
}

impl CapAddr {
    /// The root slot `l1`.
    pub fn l1(l1: u32) -> CapAddr {
        CapAddr {
            bits: l1,
            depth: Depth::One,
        }
    }

    /// Slot `l2` of the CNode in root slot `l1`; `None` when `l1` does not
    /// fit in the address.
    pub fn l2(l1: u32, l2: u8) -> Option<CapAddr> {
        if l1 >= 1 << (32 - L2_BITS) {
            return None;
        }
        Some(CapAddr {
            bits: (l1 << L2_BITS) | u32::from(l2),
            depth: Depth::Two,
        })
    }

    /// Slot `l2` (below `2^WIDE_L2_BITS`) of the CNode in root slot `l1`,
    /// as a wide address; `None` when either does not fit.
    pub fn l2_wide(l1: u32, l2: u32) -> Option<CapAddr> {
        if l1 >= 1 << (32 - WIDE_L2_BITS) || l2 >= 1 << WIDE_L2_BITS {
            return None;
        }
        Some(CapAddr {
            bits: (l1 << WIDE_L2_BITS) | l2,
            depth: Depth::TwoWide,
        })
    }

    /// The root index and level-2 index of a depth-two address (`None` at
    /// depth one).
    pub fn split(self) -> Option<(u32, u32)> {
        let b = self.depth.l2_bits();
        (b != 0).then(|| (self.bits >> b, self.bits & ((1 << b) - 1)))
    }

    /// Decodes an address from an invocation's registers: `depth` is 1, 2
    /// or [`abi::cap::DEPTH_TWO_WIDE`].
    pub fn decode(bits: u64, depth: u64) -> Result<CapAddr, CapError> {
        let bits = u32::try_from(bits).map_err(|_| CapError::NoSuchSlot)?;
        let depth = match depth {
            1 => Depth::One,
            2 => Depth::Two,
            d if d == u64::from(abi::cap::DEPTH_TWO_WIDE) => Depth::TwoWide,
            _ => return Err(CapError::BadArgument),
        };
        Ok(CapAddr { bits, depth })
    }
}

/// A handle on a cspace: its root CNode, checked on every use so that a
/// handle outliving its root resolves nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CSpace {
    pub(crate) root: u64,
    pub(crate) generation: u64,
}

impl CSpace {
    /// Base address of the root CNode.
    pub fn root(&self) -> u64 {
        self.root
    }
}

/// A slot: a CNode (by base) and an index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    /// Base of the CNode.
    pub cnode: u64,
    /// Index in it.
    pub index: u32,
}

/// The slots of one CNode object.
#[derive(Clone, Debug)]
pub(crate) struct CNodeStore {
    pub(crate) generation: u64,
    pub(crate) slots: Vec<Option<MdbKey>>,
}

impl Mdb {
    /// Finds the slot an address names (occupied or not).
    pub(crate) fn resolve_slot(&self, cs: CSpace, addr: CapAddr) -> Result<Slot, CapError> {
        let root = self
            .cnodes
            .get(&cs.root)
            .filter(|s| s.generation == cs.generation)
            .ok_or(CapError::NoSuchSlot)?;
        match addr.split() {
            None => {
                if (addr.bits as usize) < root.slots.len() {
                    Ok(Slot {
                        cnode: cs.root,
                        index: addr.bits,
                    })
                } else {
                    Err(CapError::NoSuchSlot)
                }
            }
            Some((l1, l2)) => {
                let key = root
                    .slots
                    .get(l1 as usize)
                    .ok_or(CapError::NoSuchSlot)?
                    .ok_or(CapError::EmptySlot)?;
                let rec = self.record(&key)?;
                if rec.cap.ty != CapType::CNode {
                    return Err(CapError::WrongType);
                }
                if l2 >= rec.cap.slots() {
                    return Err(CapError::NoSuchSlot);
                }
                Ok(Slot {
                    cnode: rec.cap.base,
                    index: l2,
                })
            }
        }
    }

    /// The record in a slot, if any.
    pub(crate) fn slot_key(&self, slot: Slot) -> Option<MdbKey> {
        self.cnodes
            .get(&slot.cnode)?
            .slots
            .get(slot.index as usize)
            .copied()
            .flatten()
    }

    /// Resolves an address to the capability in it, ignoring locks (for the
    /// monitor's operations).
    pub(crate) fn resolve_any(&self, cs: CSpace, addr: CapAddr) -> Result<MdbKey, CapError> {
        let slot = self.resolve_slot(cs, addr)?;
        self.slot_key(slot).ok_or(CapError::EmptySlot)
    }

    /// Resolves an address to the capability in it; a marked capability,
    /// or one reached through a marked CNode, is refused (`Marked`), and so
    /// is a locked one (`Locked`).
    pub(crate) fn resolve(&self, cs: CSpace, addr: CapAddr) -> Result<MdbKey, CapError> {
        let key = self.resolve_any(cs, addr)?;
        let through = addr.split().and_then(|(l1, _)| {
            self.slot_key(Slot {
                cnode: cs.root,
                index: l1,
            })
        });
        let rec = self.record(&key)?;
        if rec.marked || through.is_some_and(|k| self.records.get(&k).is_some_and(|r| r.marked)) {
            return Err(CapError::Marked);
        }
        if rec.locked {
            return Err(CapError::Locked);
        }
        Ok(key)
    }

    /// Resolves `count` empty destination slots from `first` in the CNode
    /// named by `cnode`, which needs WRITE.
    pub(crate) fn resolve_dest(
        &self,
        cs: CSpace,
        cnode: CapAddr,
        first: u32,
        count: u32,
    ) -> Result<Vec<Slot>, CapError> {
        let key = self.resolve(cs, cnode)?;
        let cap = self.record(&key)?.cap;
        if cap.ty != CapType::CNode {
            return Err(CapError::WrongType);
        }
        if !cap.rights.contains(Rights::WRITE) {
            return Err(CapError::MissingRight);
        }
        let end = first.checked_add(count).ok_or(CapError::NoSuchSlot)?;
        if end > cap.slots() {
            return Err(CapError::NoSuchSlot);
        }
        let slots: Vec<Slot> = (first..end)
            .map(|index| Slot {
                cnode: cap.base,
                index,
            })
            .collect();
        if slots.iter().any(|s| self.slot_key(*s).is_some()) {
            return Err(CapError::SlotOccupied);
        }
        Ok(slots)
    }

    /// Resolves an address to the capability it holds (a copy of it).
    pub(crate) fn cap_at(&self, cs: CSpace, addr: CapAddr) -> Result<(MdbKey, Cap), CapError> {
        let key = self.resolve(cs, addr)?;
        Ok((key, self.record(&key)?.cap))
    }
}
