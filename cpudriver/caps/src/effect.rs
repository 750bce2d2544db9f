//! What the kernel must do after an operation succeeds.

use crate::rights::Rights;
use crate::types::CapType;
use crate::vnode::Level;

/// One change to real hardware state or memory that an operation implies.
/// The library only records; the kernel applies every effect in order
/// before it returns to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    /// A new object exists: zero its memory (and, for a VNode, start with
    /// every entry not present).
    Created {
        /// Its type.
        ty: CapType,
        /// Its base address.
        base: u64,
        /// Its size.
        size: u64,
    },
    /// The last copy of an object is gone: its memory is free again inside
    /// its parent (a Dispatcher stops being scheduled).
    Destroyed {
        /// Its type.
        ty: CapType,
        /// Its base address.
        base: u64,
        /// Its size.
        size: u64,
    },
    /// Write `count` entries of the table at `table`, from `index`, to map
    /// `target` onward in steps of `page` bytes with `rights`.
    Map {
        /// Physical base of the VNode written.
        table: u64,
        /// Its level.
        level: Level,
        /// First entry.
        index: u16,
        /// Number of entries.
        count: u16,
        /// Physical address the first entry maps.
        target: u64,
        /// Bytes each entry maps (4 KiB, 2 MiB, 1 GiB; 4 KiB for a table).
        page: u64,
        /// Rights of the entries.
        rights: Rights,
    },
    /// Clear `count` entries from `index` and invalidate the TLB for them.
    Unmap {
        /// Physical base of the VNode.
        table: u64,
        /// Its level.
        level: Level,
        /// First entry.
        index: u16,
        /// Number of entries.
        count: u16,
    },
    /// Lower the rights of `count` entries from `index` and invalidate the
    /// TLB for them.
    Protect {
        /// Physical base of the VNode.
        table: u64,
        /// Its level.
        level: Level,
        /// First entry.
        index: u16,
        /// Number of entries.
        count: u16,
        /// The new rights.
        rights: Rights,
    },
}
