//! Typed errors of capability invocations.
//!
//! Every refused capability operation returns one of these and changes
//! nothing. The numeric codes are stable: they travel in `rax` like
//! [`crate::SysError`] codes, and ring-3 code decodes them with
//! [`CapError::from_code`].
//!
//! It also holds what ring 3 needs to name and read capabilities: the
//! capability address of a register ([`CPtr`]), the type and right codes,
//! what identify reports ([`CapIdentity`]) and the slots of the first
//! cspace a core hands out ([`slot`]).

/// Length of a capability's encoding for another core
/// ([`crate::Syscall::CapExport`], [`crate::Syscall::CapImport`]).
pub const WIRE_LEN: usize = 32;

/// Bits of level-2 index in a depth-two address (as the kernel's cspaces
/// resolve them).
pub const L2_BITS: u32 = 8;

/// Bits of level-2 index in a wide depth-two address: every slot of the
/// largest CNode (4096 slots), so that a cspace whose root holds `n` CNodes
/// of 4096 slots has `n * 4096` usable slots at depth two.
pub const WIDE_L2_BITS: u32 = 12;

/// The depth byte of a wide depth-two address ([`CPtr::l2_wide`]): two
/// levels (low nibble) whose index splits at [`WIDE_L2_BITS`] (high
/// nibble).
pub const DEPTH_TWO_WIDE: u8 = 2 | (WIDE_L2_BITS as u8) << 4;

/// A capability address in one register: the index bits in bits 0..32 and
/// the depth byte in bits 32..40. Higher bits are zero. The depth byte is
/// 1 (a slot of the root CNode), 2 (slot `bits & 0xff` of the CNode in
/// root slot `bits >> 8`) or [`DEPTH_TWO_WIDE`] (slot `bits & 0xfff` of the
/// CNode in root slot `bits >> 12`).
///
/// So a cspace has at most 4096 root slots (the largest CNode) and, at
/// depth two, 4096 slots behind each of them: 2^24 in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CPtr {
    /// The index bits.
    pub bits: u32,
    /// 1, 2 or [`DEPTH_TWO_WIDE`].
    pub depth: u8,
}

impl CPtr {
    /// Root slot `slot`.
    pub const fn l1(slot: u32) -> CPtr {
        CPtr {
            bits: slot,
            depth: 1,
        }
    }

    /// Slot `l2` of the CNode in root slot `l1`; `None` when `l1` does not
    /// fit in the address.
    pub const fn l2(l1: u32, l2: u8) -> Option<CPtr> {
        if l1 >= 1 << (32 - L2_BITS) {
            return None;
        }
        Some(CPtr {
            bits: (l1 << L2_BITS) | l2 as u32,
            depth: 2,
        })
    }

    /// Slot `l2` (below 4096) of the CNode in root slot `l1`, as a wide
    /// depth-two address; `None` when either does not fit.
    pub const fn l2_wide(l1: u32, l2: u32) -> Option<CPtr> {
        if l1 >= 1 << (32 - WIDE_L2_BITS) || l2 >= 1 << WIDE_L2_BITS {
            return None;
        }
        Some(CPtr {
            bits: (l1 << WIDE_L2_BITS) | l2,
            depth: DEPTH_TWO_WIDE,
        })
    }

    /// The register value.
    pub const fn raw(self) -> u64 {
        self.bits as u64 | ((self.depth as u64) << 32)
    }

    /// Decodes a register: a depth byte other than 1, 2 or
    /// [`DEPTH_TWO_WIDE`], or any bit above it, is `BadArgument`.
    pub fn decode(raw: u64) -> Result<CPtr, CapError> {
        let depth = raw >> 32;
        if depth != 1 && depth != 2 && depth != u64::from(DEPTH_TWO_WIDE) {
            return Err(CapError::BadArgument);
        }
        Ok(CPtr {
            bits: raw as u32,
            depth: depth as u8,
        })
    }
}

/// The slots of the root CNode that each CPU driver gives its monitor at
/// boot. Every other slot is empty.
pub mod slot {
    /// The root CNode's own capability (to name it as a destination).
    pub const ROOT_CNODE: u32 = 0;
    /// The Kernel capability.
    pub const KERNEL: u32 = 1;
    /// RAM: the part of the core's partition handed out (empty when the
    /// partition has none to spare).
    pub const RAM: u32 = 2;
    /// The shared channel pool: a CNode whose slot `1 + r` holds a Frame
    /// (READ and WRITE, no GRANT) of the pool's `r`-th 2 MiB. Core 0 owns
    /// the frames; the other cores hold copies. A monitor maps its channels
    /// and arenas through them; a program it spawns gets none.
    pub const POOL: u32 = 3;
    /// A read-only Frame of the boot-module archive (the initrd), from
    /// which a monitor loads the programs it spawns; the archive starts
    /// `ProgramInfo::initrd_offset` bytes into it. It carries READ and
    /// GRANT (copies map it in several places).
    pub const INITRD: u32 = 4;
    /// A CNode whose slot `c` holds the Notify capability of core `c`
    /// (READ and WRITE, no GRANT), for every core of the machine: the
    /// right to send that core a notification.
    pub const NOTIFY: u32 = 5;
    /// The Shutdown capability (WRITE, no GRANT): the right to end the
    /// run. Only the programs the CPU driver starts at boot hold it.
    pub const SHUTDOWN: u32 = 6;
    /// The first slot the program may fill.
    pub const FIRST_FREE: u32 = 7;
    /// The root CNode has `1 << ROOT_BITS` slots.
    pub const ROOT_BITS: u32 = 8;
}

/// The slots of a domain's root CNode that the monitor's loader fills
/// when it spawns the domain (`services::platforms::ring3::domain_loader`); the
/// domain's runtime pages its heap from them. Slot 0 holds the root CNode
/// itself; the slots below [`domain::HEAP_RAM`] are the parent's to give.
pub mod domain {
    /// RAM for the heap, which the runtime retypes into frames.
    pub const HEAP_RAM: u32 = 250;
    /// The page table of the heap's first 2 MiB, already in the domain's
    /// address space at `HEAP_BASE`.
    pub const HEAP_PT: u32 = 251;
    /// An empty CNode of 256 slots for the heap's frames.
    pub const HEAP_FRAMES: u32 = 252;
}

/// Type codes, as identify reports them and retype takes them.
pub mod ty {
    /// No capability.
    pub const NULL: u8 = 0;
    /// Untyped memory.
    pub const RAM: u8 = 1;
    /// Mappable memory.
    pub const FRAME: u8 = 2;
    /// A table of capability slots.
    pub const CNODE: u8 = 3;
    /// A page-map level-4 table.
    pub const PML4: u8 = 4;
    /// A page-directory-pointer table.
    pub const PDPT: u8 = 5;
    /// A page directory.
    pub const PD: u8 = 6;
    /// A page table.
    pub const PT: u8 = 7;
    /// A dispatcher control block.
    pub const DISPATCHER: u8 = 8;
    /// An LMP endpoint.
    pub const ENDPOINT: u8 = 9;
    /// The right to notify one core.
    pub const NOTIFY: u8 = 10;
    /// The monitor's privileged capability.
    pub const KERNEL: u8 = 11;
    /// The right to end the run.
    pub const SHUTDOWN: u8 = 12;

    /// The type codes as an enum, named in records by their kebab-case
    /// names ([`name`]).
    #[derive(
        Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::FromRepr, strum::EnumIter,
    )]
    #[strum(serialize_all = "kebab-case")]
    #[repr(u8)]
    pub enum Type {
        /// [`NULL`].
        Null = NULL,
        /// [`RAM`].
        Ram = RAM,
        /// [`FRAME`].
        Frame = FRAME,
        /// [`CNODE`].
        Cnode = CNODE,
        /// [`PML4`].
        Pml4 = PML4,
        /// [`PDPT`].
        Pdpt = PDPT,
        /// [`PD`].
        Pd = PD,
        /// [`PT`].
        Pt = PT,
        /// [`DISPATCHER`].
        Dispatcher = DISPATCHER,
        /// [`ENDPOINT`].
        Endpoint = ENDPOINT,
        /// [`NOTIFY`].
        Notify = NOTIFY,
        /// [`KERNEL`].
        Kernel = KERNEL,
        /// [`SHUTDOWN`].
        Shutdown = SHUTDOWN,
    }

    /// A short name, for records; `unknown` for a code that names no type.
    pub fn name(code: u8) -> &'static str {
        Type::from_repr(code).map_or("unknown", Into::into)
    }
}

/// Right bits.
pub mod rights {
    /// Map readable.
    pub const READ: u8 = 1 << 0;
    /// Map writable, retype, modify.
    pub const WRITE: u8 = 1 << 1;
    /// Map executable.
    pub const EXECUTE: u8 = 1 << 2;
    /// Copy, mint, send.
    pub const GRANT: u8 = 1 << 3;
    /// Every right.
    pub const ALL: u8 = READ | WRITE | EXECUTE | GRANT;
}

/// What identify reports about a capability.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct CapIdentity {
    /// The type code ([`ty`]).
    pub ty: u8,
    /// The right bits ([`rights`]).
    pub rights: u8,
    /// Reserved, zero.
    pub _reserved: [u8; 6],
    /// Base address (the core id for Notify).
    pub base: u64,
    /// Size in bytes (0 where meaningless).
    pub size: u64,
    /// Badge (Endpoint only).
    pub badge: u64,
}

/// Why a capability operation was refused.
///
/// Its name in records ([`CapError::name`]) is the variant's in kebab case.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::FromRepr,
)]
#[strum(serialize_all = "kebab-case")]
#[repr(u64)]
pub enum CapError {
    /// A capability address names a slot that does not exist (an index past
    /// the end of its CNode, or a cspace whose root is gone).
    NoSuchSlot = 0x100,
    /// The slot named holds no capability.
    EmptySlot = 0x101,
    /// The capability named has the wrong type for the operation.
    WrongType = 0x102,
    /// The capability lacks a right the operation needs.
    MissingRight = 0x103,
    /// A destination slot already holds a capability.
    SlotOccupied = 0x104,
    /// The new object or mapping would overlap one that exists.
    WouldOverlap = 0x105,
    /// The capability has descendants (here or on another core).
    HasDescendants = 0x106,
    /// An address, offset or size is not aligned as the object needs.
    Misaligned = 0x107,
    /// An offset, size, count or index lies outside its object.
    OutOfRange = 0x108,
    /// The mapping would reach into the kernel half of the address space.
    KernelHalf = 0x109,
    /// Bytes do not encode a capability.
    Malformed = 0x10a,
    /// The operation is not permitted on this capability (it is owned by
    /// another core, already badged, or its state lives elsewhere).
    NotPermitted = 0x10b,
    /// The operation needs the Kernel capability and was not given one.
    NoKernelCap = 0x10c,
    /// An argument has a value the operation never accepts (a count of
    /// zero, a size of the wrong kind).
    BadArgument = 0x10d,
    /// The capability is already mapped (a copy maps at most once).
    AlreadyMapped = 0x10e,
    /// No mapping starts at the entry named.
    NotMapped = 0x10f,
    /// The capability is locked by an operation in progress across cores.
    Locked = 0x110,
    /// Bytes received from another core name memory that core does not
    /// hand out: not its RAM given to its monitor, nor (for core 0) the
    /// shared pool; a kernel's own frames, for instance.
    NotImportable = 0x111,
    /// The operation needs the agreement of the other cores that hold
    /// copies, ancestors or descendants of the object, or the object is
    /// owned by another core: nothing was done, and the caller's monitor
    /// carries it out after the cross-core protocol agrees.
    RetryThroughMonitor = 0x112,
    /// The capability is marked by an operation agreed across cores (a
    /// revoke or delete in progress): it behaves as deleted.
    Marked = 0x113,
}

impl CapError {
    /// Decodes a code; `None` for a code that names no capability error.
    pub fn from_code(code: u64) -> Option<CapError> {
        CapError::from_repr(code)
    }

    /// The stable numeric code.
    pub fn code(self) -> u64 {
        self as u64
    }

    /// A short name, for records.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

impl core::fmt::Display for CapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for e in CapError::iter() {
            assert_eq!(CapError::from_code(e.code()), Some(e));
        }
        for (i, a) in CapError::iter().enumerate() {
            for b in CapError::iter().skip(i + 1) {
                assert_ne!(a.code(), b.code());
                assert_ne!(a.name(), b.name());
            }
        }
        assert_eq!(CapError::from_code(0), None);
        assert_eq!(CapError::from_code(0x1ff), None);
    }

    #[test]
    fn cptrs_round_trip() {
        for c in [CPtr::l1(0), CPtr::l1(u32::MAX), CPtr::l2(3, 200).unwrap()] {
            assert_eq!(CPtr::decode(c.raw()), Ok(c));
        }
        assert_eq!(CPtr::l2(1 << 24, 0), None);
        assert_eq!(CPtr::l2(2, 5).unwrap().bits, 0x205);
        assert_eq!(CPtr::decode(5), Err(CapError::BadArgument));
        assert_eq!(CPtr::decode(3 << 32), Err(CapError::BadArgument));
        assert_eq!(CPtr::decode(1 << 33 | 1 << 40), Err(CapError::BadArgument));
        assert_eq!(core::mem::size_of::<CapIdentity>(), 32);
    }

    #[test]
    fn wide_cptrs_reach_every_slot_of_the_largest_cnode() {
        let last = CPtr::l2_wide(255, 4095).unwrap();
        assert_eq!(last.bits, 0xff_fff);
        assert_eq!(CPtr::decode(last.raw()), Ok(last));
        assert_eq!(CPtr::decode(last.raw()).map(|c| c.depth), Ok(0xc2));
        // One past the largest CNode, and a root index past 20 bits.
        assert_eq!(CPtr::l2_wide(0, 4096), None);
        assert_eq!(CPtr::l2_wide(1 << 20, 0), None);
        assert!(CPtr::l2_wide((1 << 20) - 1, 4095).is_some());
        // Other widths are not addresses.
        for depth in [0x82u64, 0x12, 0xd2, 0xc1, 0xc3] {
            assert_eq!(CPtr::decode(depth << 32), Err(CapError::BadArgument));
        }
    }

    #[test]
    fn every_error_is_listed_once_and_keeps_its_name() {
        assert!(CapError::iter().map(CapError::name).eq([
            "no-such-slot",
            "empty-slot",
            "wrong-type",
            "missing-right",
            "slot-occupied",
            "would-overlap",
            "has-descendants",
            "misaligned",
            "out-of-range",
            "kernel-half",
            "malformed",
            "not-permitted",
            "no-kernel-cap",
            "bad-argument",
            "already-mapped",
            "not-mapped",
            "locked",
            "not-importable",
            "retry-through-monitor",
            "marked",
        ]));
    }

    #[test]
    fn every_type_code_keeps_its_name() {
        let names = [
            "null",
            "ram",
            "frame",
            "cnode",
            "pml4",
            "pdpt",
            "pd",
            "pt",
            "dispatcher",
            "endpoint",
            "notify",
            "kernel",
            "shutdown",
        ];
        assert_eq!(ty::Type::iter().count(), names.len());
        for (code, name) in (0u8..).zip(names) {
            assert_eq!(ty::name(code), name);
            assert_eq!(ty::Type::from_repr(code).map(|t| t as u8), Some(code));
        }
        assert_eq!(ty::name(ty::SHUTDOWN + 1), "unknown");
        assert_eq!(ty::name(u8::MAX), "unknown");
    }

    #[test]
    fn codes_do_not_collide_with_syscall_errors() {
        for e in CapError::iter() {
            assert_eq!(crate::SysError::from_code(e.code()), None);
        }
    }
}
