//! Capability types, their sizes and the shape rules every capability obeys.

use crate::rights::Rights;
use abi::CapError;

/// Size of a page, and the granule of RAM and Frame capabilities.
pub const PAGE: u64 = 4096;
/// Bytes one CNode slot occupies in the CNode's memory.
pub const SLOT_SIZE: u64 = 64;
/// Fewest slot bits of a CNode (2 slots).
pub const MIN_CNODE_BITS: u32 = 1;
/// Most slot bits of a CNode (4096 slots).
pub const MAX_CNODE_BITS: u32 = 12;
/// Size (and alignment) of a VNode of any level.
pub const VNODE_SIZE: u64 = 4096;
/// Size (and alignment) of a dispatcher control block.
pub const DISPATCHER_SIZE: u64 = 1024;
/// One past the highest physical address a capability may name.
pub const PHYS_LIMIT: u64 = 1 << 52;

/// The type of a capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum CapType {
    /// No capability (an empty slot reads as this).
    Null = 0,
    /// Untyped memory, retyped into every other memory object.
    Ram = 1,
    /// Memory that may be mapped.
    Frame = 2,
    /// A table of 2^k capability slots.
    CNode = 3,
    /// A page-map level-4 table (the root of an address space).
    Pml4 = 4,
    /// A page-directory-pointer table.
    Pdpt = 5,
    /// A page directory.
    Pd = 6,
    /// A page table.
    Pt = 7,
    /// A dispatcher control block.
    Dispatcher = 8,
    /// An LMP endpoint: names a dispatcher on this core, carries a badge.
    Endpoint = 9,
    /// The right to notify one core (its base is the core id).
    Notify = 10,
    /// The monitor's privileged capability.
    Kernel = 11,
    /// The right to end the run (only the programs started at boot hold
    /// it).
    Shutdown = 12,
}

/// Which ordering tree of the mapping database a type lives in. Memory
/// objects share one tree (ancestry is address containment); Notify,
/// Kernel and Shutdown capabilities name no memory and only have copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tree {
    /// RAM and everything retyped from it.
    Memory = 0,
    /// Notify capabilities, ordered by core.
    Notify = 1,
    /// The Kernel and Shutdown capabilities.
    Kernel = 2,
}

impl CapType {
    /// Every type, Null included.
    pub const ALL: [CapType; 13] = [
        CapType::Null,
        CapType::Ram,
        CapType::Frame,
        CapType::CNode,
        CapType::Pml4,
        CapType::Pdpt,
        CapType::Pd,
        CapType::Pt,
        CapType::Dispatcher,
        CapType::Endpoint,
        CapType::Notify,
        CapType::Kernel,
        CapType::Shutdown,
    ];

    /// Decodes a type code.
    pub fn from_code(code: u8) -> Option<CapType> {
        CapType::ALL.into_iter().find(|t| *t as u8 == code)
    }

    /// The ordering tree of the type.
    pub fn tree(self) -> Tree {
        match self {
            CapType::Notify => Tree::Notify,
            CapType::Kernel | CapType::Shutdown | CapType::Null => Tree::Kernel,
            _ => Tree::Memory,
        }
    }

    /// The type's rank in the mapping-database order. A type that can be
    /// retyped into another ranks below it, so that of two capabilities with
    /// the same base and size the ancestor sorts first.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// Whether the type is one of the four VNode levels.
    pub fn is_vnode(self) -> bool {
        matches!(
            self,
            CapType::Pml4 | CapType::Pdpt | CapType::Pd | CapType::Pt
        )
    }

    /// Whether capabilities of the type may exist on several cores (and so
    /// be sent, received and have remote relations). The others have state
    /// that lives on the core that made them.
    pub fn transferable(self) -> bool {
        matches!(self, CapType::Ram | CapType::Frame | CapType::Notify)
    }

    /// Whether a capability of type `self` may be retyped into `to`.
    pub fn can_retype_into(self, to: CapType) -> bool {
        match self {
            CapType::Ram => matches!(
                to,
                CapType::Ram
                    | CapType::Frame
                    | CapType::CNode
                    | CapType::Pml4
                    | CapType::Pdpt
                    | CapType::Pd
                    | CapType::Pt
                    | CapType::Dispatcher
            ),
            CapType::Dispatcher => to == CapType::Endpoint,
            _ => false,
        }
    }
}

/// A capability: what a slot holds, and what `identify` reports.
///
/// `base` and `size` name the object's memory (for Notify, `base` is the
/// core notified and `size` is 0; for Kernel both are 0). An Endpoint
/// carries the base and size of the dispatcher it names. `badge` is
/// non-zero only on a minted Endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cap {
    /// The type.
    pub ty: CapType,
    /// Base address (or core id for Notify).
    pub base: u64,
    /// Size in bytes, 0 where meaningless.
    pub size: u64,
    /// Rights of this copy.
    pub rights: Rights,
    /// Badge of this copy (Endpoint only; 0 means none).
    pub badge: u64,
}

impl Cap {
    /// The empty capability.
    pub const NULL: Cap = Cap {
        ty: CapType::Null,
        base: 0,
        size: 0,
        rights: Rights::empty(),
        badge: 0,
    };

    /// A new capability with every right and no badge.
    pub fn new(ty: CapType, base: u64, size: u64) -> Cap {
        Cap {
            ty,
            base,
            size,
            rights: Rights::ALL,
            badge: 0,
        }
    }

    /// The stable byte encoding (see [`crate::wire`]).
    pub fn to_bytes(&self) -> [u8; crate::wire::WIRE_LEN] {
        crate::wire::to_bytes(self)
    }

    /// Decodes the stable byte encoding, checking every field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Cap, crate::wire::WireError> {
        crate::wire::from_bytes(bytes)
    }

    /// One past the last byte (`base + size`), if it does not overflow.
    pub fn end(&self) -> Option<u64> {
        self.base.checked_add(self.size)
    }

    /// Number of slots of a CNode capability (0 for other types).
    pub fn slots(&self) -> u32 {
        if self.ty == CapType::CNode {
            u32::try_from(self.size / SLOT_SIZE).unwrap_or(0)
        } else {
            0
        }
    }

    /// Whether `other` names the same object (a copy: same type, base and
    /// size; rights and badge may differ).
    pub fn same_object(&self, other: &Cap) -> bool {
        self.ty == other.ty && self.base == other.base && self.size == other.size
    }

    /// Checks the shape rules of the type: alignment, fixed sizes, ranges,
    /// badge only on endpoints. Every capability the library holds passes.
    pub fn check_shape(&self) -> Result<(), CapError> {
        if self.badge != 0 && self.ty != CapType::Endpoint {
            return Err(CapError::Malformed);
        }
        let end = self.end().ok_or(CapError::OutOfRange)?;
        match self.ty {
            CapType::Null => {
                if self.base != 0 || self.size != 0 || !self.rights.is_empty() {
                    return Err(CapError::Malformed);
                }
            }
            CapType::Kernel | CapType::Shutdown => {
                if self.base != 0 || self.size != 0 {
                    return Err(CapError::Malformed);
                }
            }
            CapType::Notify => {
                if self.size != 0 || self.base > u64::from(u32::MAX) {
                    return Err(CapError::Malformed);
                }
            }
            CapType::Ram | CapType::Frame => {
                if self.size == 0 {
                    return Err(CapError::Malformed);
                }
                if !self.base.is_multiple_of(PAGE) || !self.size.is_multiple_of(PAGE) {
                    return Err(CapError::Misaligned);
                }
            }
            CapType::CNode => {
                let slots = self.size / SLOT_SIZE;
                let ok = self.size.is_multiple_of(SLOT_SIZE)
                    && slots.is_power_of_two()
                    && (MIN_CNODE_BITS..=MAX_CNODE_BITS).contains(&slots.trailing_zeros());
                if !ok {
                    return Err(CapError::Malformed);
                }
                if !self.base.is_multiple_of(self.size) {
                    return Err(CapError::Misaligned);
                }
            }
            CapType::Pml4 | CapType::Pdpt | CapType::Pd | CapType::Pt => {
                if self.size != VNODE_SIZE {
                    return Err(CapError::Malformed);
                }
                if !self.base.is_multiple_of(VNODE_SIZE) {
                    return Err(CapError::Misaligned);
                }
            }
            CapType::Dispatcher | CapType::Endpoint => {
                if self.size != DISPATCHER_SIZE {
                    return Err(CapError::Malformed);
                }
                if !self.base.is_multiple_of(DISPATCHER_SIZE) {
                    return Err(CapError::Misaligned);
                }
            }
        }
        if self.ty.tree() == Tree::Memory && end > PHYS_LIMIT {
            return Err(CapError::OutOfRange);
        }
        Ok(())
    }
}
