//! Page-table objects: the four x86-64 levels, their entries and the rules
//! for what may be mapped where.

use crate::mdb::MdbKey;
use crate::rights::Rights;
use crate::types::CapType;
use alloc::collections::BTreeMap;

/// Entries in every VNode.
pub const ENTRIES: u32 = 512;
/// The first PML4 entry of the kernel half; entries from here on are refused.
pub const KERNEL_HALF_FIRST: u32 = 256;

/// An x86-64 page-table level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Level 4, the root.
    Pml4,
    /// Level 3.
    Pdpt,
    /// Level 2.
    Pd,
    /// Level 1.
    Pt,
}

impl Level {
    /// The level of a VNode type.
    pub fn of(ty: CapType) -> Option<Level> {
        match ty {
            CapType::Pml4 => Some(Level::Pml4),
            CapType::Pdpt => Some(Level::Pdpt),
            CapType::Pd => Some(Level::Pd),
            CapType::Pt => Some(Level::Pt),
            _ => None,
        }
    }

    /// The VNode type whose tables an entry of this level points to.
    pub fn child_table(self) -> Option<CapType> {
        match self {
            Level::Pml4 => Some(CapType::Pdpt),
            Level::Pdpt => Some(CapType::Pd),
            Level::Pd => Some(CapType::Pt),
            Level::Pt => None,
        }
    }

    /// Bytes a frame entry of this level maps, if frames may be mapped here
    /// (1 GiB, 2 MiB and 4 KiB pages; none in a PML4).
    pub fn page_size(self) -> Option<u64> {
        match self {
            Level::Pml4 => None,
            Level::Pdpt => Some(1 << 30),
            Level::Pd => Some(1 << 21),
            Level::Pt => Some(1 << 12),
        }
    }
}

/// Where a capability copy is mapped: a run of entries of one VNode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mapping {
    /// Base of the VNode.
    pub vnode: u64,
    /// First entry.
    pub index: u16,
    /// Number of entries.
    pub count: u16,
    /// Rights of the entries.
    pub rights: Rights,
}

/// The entries of one VNode object, as runs keyed by first entry.
#[derive(Clone, Debug)]
pub(crate) struct VNodeStore {
    /// The level of the table.
    pub(crate) level: Level,
    /// First entry of each run -> (entries, the record mapped there).
    pub(crate) runs: BTreeMap<u16, (u16, MdbKey)>,
}

impl VNodeStore {
    /// Whether any entry in `index .. index + count` is in use.
    pub(crate) fn overlaps(&self, index: u16, count: u16) -> bool {
        let Some(last) = count.checked_sub(1).and_then(|c| index.checked_add(c)) else {
            return false;
        };
        self.runs
            .range(..=last)
            .next_back()
            .is_some_and(|(start, (n, _))| u32::from(*start) + u32::from(*n) > u32::from(index))
    }
}
