//! Typed errors. Nothing in this crate panics on bad input: a malformed
//! region, a corrupt slot or a payload that does not decode is reported here.

use core::fmt;

use crate::Variant;
use crate::message::RawMessage;

/// Which end of a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that writes slots.
    Sender,
    /// The end that reads slots.
    Receiver,
}

/// Setting up or attaching to a region failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetupError {
    /// The region does not start on a [`REGION_ALIGN`](crate::REGION_ALIGN)
    /// boundary.
    Misaligned {
        /// Address of the first byte.
        addr: usize,
    },
    /// The region is shorter than the layout needs.
    TooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        actual: usize,
    },
    /// The slot count is zero or above [`MAX_SLOTS`](crate::MAX_SLOTS).
    BadSlotCount {
        /// The slot count asked for or found in the region.
        slots: u64,
    },
    /// The region has not been formatted (its magic word is wrong); a peer
    /// may simply not have formatted it yet.
    NotFormatted {
        /// The word found where the magic belongs.
        found: u64,
    },
    /// The region was formatted with another layout version.
    UnsupportedVersion {
        /// The version found.
        found: u64,
    },
    /// The region records a flow-control variant this crate does not know.
    UnknownVariant {
        /// The variant word found.
        found: u64,
    },
    /// The region uses the other flow-control variant than the endpoint type.
    WrongVariant {
        /// The variant the endpoint uses.
        expected: Variant,
        /// The variant the region was formatted with.
        found: Variant,
    },
    /// That end of the ring is already attached.
    AlreadyAttached {
        /// The end.
        role: Role,
    },
}

/// The slot, flow-control word or header that broke the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Corruption {
    /// Slot index (for [`CorruptionKind::AckOutOfRange`], the slot the sender
    /// was about to write).
    pub slot: usize,
    /// The offending word as read (a header, or the ack word).
    pub word: u64,
    /// Low 32 bits of the sequence number the reader expected at that slot.
    pub expected_seq: u32,
    /// What is wrong with it.
    pub kind: CorruptionKind,
}

/// What is wrong with a corrupt word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorruptionKind {
    /// A reserved header bit is set.
    ReservedBits,
    /// The header's length field exceeds 56.
    Length,
    /// The header's sequence number is neither the expected one nor the one
    /// from the previous lap, or its full flag contradicts it.
    Sequence,
    /// The published consumption count went backwards or beyond what was
    /// sent (ack-line variant).
    AckOutOfRange,
}

/// [`Sender::try_send`](crate::Sender::try_send) and friends failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendError {
    /// No free slot (as far as the sender can tell); nothing was written.
    Full,
    /// The payload is longer than 56 bytes. Larger data travels in frames
    /// whose capabilities are sent in messages; it is never fragmented here.
    TooLong {
        /// The length given.
        len: usize,
    },
    /// The receiver broke the protocol. The sender stops: every later call
    /// returns the same error.
    Corrupt(Corruption),
}

/// [`Receiver::try_recv`](crate::Receiver::try_recv) and friends failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// No new message.
    Empty,
    /// The next slot holds something the protocol cannot produce. The
    /// receiver stops: every later call returns the same error.
    Corrupt(Corruption),
    /// A message arrived but did not decode as the requested type. It has been
    /// consumed; here it is, unchanged.
    Decode {
        /// Why it did not decode.
        error: DecodeError,
        /// The message.
        message: RawMessage,
    },
}

/// A payload does not decode as the requested message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeError {
    /// The header's tag is not the type's tag.
    WrongTag {
        /// The type's tag.
        expected: u16,
        /// The message's tag.
        found: u16,
    },
    /// The payload length does not match the type.
    WrongLength {
        /// The type's length.
        expected: usize,
        /// The message's length.
        found: usize,
    },
    /// The bytes are not a valid value of the type.
    InvalidValue,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Sender => "sender",
            Role::Receiver => "receiver",
        })
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SetupError::Misaligned { addr } => {
                write!(f, "region at {addr:#x} is not 64-byte aligned")
            }
            SetupError::TooSmall { needed, actual } => {
                write!(f, "region has {actual} bytes, needs {needed}")
            }
            SetupError::BadSlotCount { slots } => write!(f, "bad slot count {slots}"),
            SetupError::NotFormatted { found } => {
                write!(f, "region not formatted (magic word {found:#x})")
            }
            SetupError::UnsupportedVersion { found } => {
                write!(f, "unsupported layout version {found}")
            }
            SetupError::UnknownVariant { found } => {
                write!(f, "unknown flow-control variant {found}")
            }
            SetupError::WrongVariant { expected, found } => {
                write!(
                    f,
                    "region uses {found:?} flow control, endpoint uses {expected:?}"
                )
            }
            SetupError::AlreadyAttached { role } => write!(f, "{role} already attached"),
        }
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            CorruptionKind::ReservedBits => "reserved header bits set",
            CorruptionKind::Length => "header length over 56",
            CorruptionKind::Sequence => "impossible sequence number",
            CorruptionKind::AckOutOfRange => "ack word out of range",
        };
        write!(
            f,
            "{what} at slot {} (word {:#018x}, expected sequence {})",
            self.slot, self.word, self.expected_seq
        )
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Full => f.write_str("ring full"),
            SendError::TooLong { len } => write!(f, "payload of {len} bytes exceeds 56"),
            SendError::Corrupt(c) => write!(f, "corrupt ring: {c}"),
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Empty => f.write_str("ring empty"),
            RecvError::Corrupt(c) => write!(f, "corrupt ring: {c}"),
            RecvError::Decode { error, message } => {
                write!(
                    f,
                    "message with tag {} did not decode: {error}",
                    message.tag()
                )
            }
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::WrongTag { expected, found } => {
                write!(f, "tag {found}, expected {expected}")
            }
            DecodeError::WrongLength { expected, found } => {
                write!(f, "length {found}, expected {expected}")
            }
            DecodeError::InvalidValue => f.write_str("invalid bit pattern"),
        }
    }
}

impl core::error::Error for SetupError {}
impl core::error::Error for SendError {}
impl core::error::Error for RecvError {}
impl core::error::Error for DecodeError {}
