//! Typed errors of capability invocations.
//!
//! Every refused capability operation returns one of these and changes
//! nothing. The numeric codes are stable: they travel in `rax` like
//! [`crate::SysError`] codes, and ring-3 code decodes them with
//! [`CapError::from_code`].

/// Why a capability operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
}

impl CapError {
    /// Every error.
    pub const ALL: [CapError; 17] = [
        CapError::NoSuchSlot,
        CapError::EmptySlot,
        CapError::WrongType,
        CapError::MissingRight,
        CapError::SlotOccupied,
        CapError::WouldOverlap,
        CapError::HasDescendants,
        CapError::Misaligned,
        CapError::OutOfRange,
        CapError::KernelHalf,
        CapError::Malformed,
        CapError::NotPermitted,
        CapError::NoKernelCap,
        CapError::BadArgument,
        CapError::AlreadyMapped,
        CapError::NotMapped,
        CapError::Locked,
    ];

    /// Decodes a code; `None` for a code that names no capability error.
    pub fn from_code(code: u64) -> Option<CapError> {
        CapError::ALL.into_iter().find(|e| *e as u64 == code)
    }

    /// The stable numeric code.
    pub fn code(self) -> u64 {
        self as u64
    }

    /// A short name, for records.
    pub fn name(self) -> &'static str {
        match self {
            CapError::NoSuchSlot => "no-such-slot",
            CapError::EmptySlot => "empty-slot",
            CapError::WrongType => "wrong-type",
            CapError::MissingRight => "missing-right",
            CapError::SlotOccupied => "slot-occupied",
            CapError::WouldOverlap => "would-overlap",
            CapError::HasDescendants => "has-descendants",
            CapError::Misaligned => "misaligned",
            CapError::OutOfRange => "out-of-range",
            CapError::KernelHalf => "kernel-half",
            CapError::Malformed => "malformed",
            CapError::NotPermitted => "not-permitted",
            CapError::NoKernelCap => "no-kernel-cap",
            CapError::BadArgument => "bad-argument",
            CapError::AlreadyMapped => "already-mapped",
            CapError::NotMapped => "not-mapped",
            CapError::Locked => "locked",
        }
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

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for e in CapError::ALL {
            assert_eq!(CapError::from_code(e.code()), Some(e));
        }
        for (i, a) in CapError::ALL.iter().enumerate() {
            for b in &CapError::ALL[i + 1..] {
                assert_ne!(a.code(), b.code());
                assert_ne!(a.name(), b.name());
            }
        }
        assert_eq!(CapError::from_code(0), None);
        assert_eq!(CapError::from_code(0x1ff), None);
    }

    #[test]
    fn codes_do_not_collide_with_syscall_errors() {
        for e in CapError::ALL {
            assert_eq!(crate::SysError::from_code(e.code()), None);
        }
    }
}
