//! The stable, `#[repr(C)]` layout of a ring region and of a slot header.
//!
//! See the [crate documentation](crate#region-layout) for the picture. The
//! constants here are the byte offsets of that picture; tests check that the
//! Rust types place every field exactly there.

use core::mem::{align_of, size_of};

use crate::backend::{AtomicWord, Backend, Native, PayloadCell};

/// Bytes in one slot and in one control line: one x86-64 cache line.
pub const SLOT_BYTES: usize = 64;
/// Payload bytes carried by one slot.
pub const PAYLOAD_BYTES: usize = 56;
/// Payload size in 64-bit words.
pub const PAYLOAD_WORDS: usize = PAYLOAD_BYTES / 8;
/// Byte offset of the 8-byte header inside a slot (the header is the last
/// word of the line).
pub const SLOT_HEADER_OFFSET: usize = PAYLOAD_BYTES;
/// Required alignment of a region, in bytes.
pub const REGION_ALIGN: usize = 64;
/// Byte offset of the setup line (written once by formatting).
pub const SETUP_LINE_OFFSET: usize = 0;
/// Byte offset of the sender's line (written by the sender, only when it
/// attaches and detaches).
pub const SENDER_LINE_OFFSET: usize = 64;
/// Byte offset of the receiver's line (written only by the receiver). Its
/// first word is the consumption count the ack-line variant publishes.
pub const RECEIVER_LINE_OFFSET: usize = 128;
/// Byte offset of the ack word: the number of messages the receiver has
/// consumed, published for the sender (ack-line variant).
pub const ACK_WORD_OFFSET: usize = RECEIVER_LINE_OFFSET;
/// Bytes of the control block that precedes the slots.
pub const CONTROL_BYTES: usize = 256;
/// Byte offset of slot 0.
pub const SLOTS_OFFSET: usize = CONTROL_BYTES;
/// Largest number of slots a ring may have.
pub const MAX_SLOTS: usize = 1 << 24;
/// The value of the first word of a formatted region: `b"FLOTURPC"` read as a
/// little-endian `u64`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"FLOTURPC");
/// The layout version this crate writes and accepts.
pub const LAYOUT_VERSION: u64 = 1;

/// Bytes needed for one ring of `slots` slots: `256 + 64 * slots`.
pub const fn region_size(slots: usize) -> usize {
    CONTROL_BYTES + SLOT_BYTES * slots
}

/// Bytes needed for a duplex channel (two rings of `slots` slots each, the
/// A-to-B ring first): `2 * (256 + 64 * slots)`.
pub const fn duplex_region_size(slots: usize) -> usize {
    2 * region_size(slots)
}

// Word indices inside the control lines.
pub(crate) const SETUP_MAGIC: usize = 0;
pub(crate) const SETUP_VERSION: usize = 1;
pub(crate) const SETUP_SLOTS: usize = 2;
pub(crate) const SETUP_VARIANT: usize = 3;
pub(crate) const SENDER_CLAIM: usize = 0;
pub(crate) const SENDER_SAVED: usize = 1;
pub(crate) const RECEIVER_ACK: usize = 0;
pub(crate) const RECEIVER_CLAIM: usize = 1;
pub(crate) const RECEIVER_SAVED: usize = 2;

/// Header bit 63: set by the sender on every message it publishes. In the
/// used-bit variant the receiver clears it when it has consumed the slot.
pub const HEADER_FULL: u64 = 1 << 63;
const SEQ_MASK: u64 = 0xFFFF_FFFF;
const LEN_SHIFT: u32 = 32;
const TAG_SHIFT: u32 = 40;
/// Header bits 56..=62, which must be zero.
pub const HEADER_RESERVED: u64 = 0x7F << 56;

/// The decoded 8-byte slot header.
///
/// | bits   | field | meaning |
/// |--------|-------|---------|
/// | 0..32  | `seq` | low 32 bits of the message's sequence number (messages sent before it on this ring) |
/// | 32..40 | `len` | payload bytes used, `0..=56` |
/// | 40..56 | `tag` | message type, chosen by the application |
/// | 56..63 | reserved | zero |
/// | 63     | `full` | set by the sender; cleared by the receiver in the used-bit variant |
///
/// Formatting writes slot `i` as `seq = i - N` (mod 2^32), `full = false`: as
/// if it held an already consumed message of lap -1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Low 32 bits of the sequence number.
    pub seq: u32,
    /// Payload length in bytes, at most [`PAYLOAD_BYTES`].
    pub len: u8,
    /// Message type.
    pub tag: u16,
    /// The full / used flag.
    pub full: bool,
}

/// Why a header word is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderError {
    /// A reserved bit is set.
    ReservedBits,
    /// The length field exceeds [`PAYLOAD_BYTES`].
    Length,
}

impl Header {
    /// Packs the header into its 64-bit wire form.
    pub const fn to_word(self) -> u64 {
        (self.seq as u64)
            | ((self.len as u64) << LEN_SHIFT)
            | ((self.tag as u64) << TAG_SHIFT)
            | if self.full { HEADER_FULL } else { 0 }
    }

    /// Unpacks a wire header, rejecting set reserved bits and lengths over
    /// [`PAYLOAD_BYTES`].
    pub const fn from_word(word: u64) -> Result<Header, HeaderError> {
        if word & HEADER_RESERVED != 0 {
            return Err(HeaderError::ReservedBits);
        }
        let len = (word >> LEN_SHIFT) as u8;
        if len as usize > PAYLOAD_BYTES {
            return Err(HeaderError::Length);
        }
        Ok(Header {
            seq: (word & SEQ_MASK) as u32,
            len,
            tag: (word >> TAG_SHIFT) as u16,
            full: word & HEADER_FULL != 0,
        })
    }
}

/// The header word a freshly formatted slot holds: sequence `index - slots`
/// (a consumed message of lap -1), not full.
pub(crate) const fn initial_header(index: usize, slots: usize) -> u64 {
    Header {
        seq: (index as u32).wrapping_sub(slots as u32),
        len: 0,
        tag: 0,
        full: false,
    }
    .to_word()
}

/// One slot: a 56-byte payload followed by the 8-byte header, one cache line.
#[repr(C, align(64))]
pub struct Slot<B: Backend = Native> {
    pub(crate) payload: B::Payload,
    pub(crate) header: B::Word,
}

impl<B: Backend> Slot<B> {
    /// A zeroed slot (not yet formatted).
    pub fn new() -> Self {
        Slot {
            payload: B::Payload::new(),
            header: B::Word::new(0),
        }
    }
}

impl<B: Backend> Default for Slot<B> {
    fn default() -> Self {
        Self::new()
    }
}

/// One control line: eight words.
#[repr(C, align(64))]
pub struct Line<B: Backend = Native> {
    pub(crate) words: [B::Word; 8],
}

impl<B: Backend> Line<B> {
    /// A zeroed line.
    pub fn new() -> Self {
        Line {
            words: core::array::from_fn(|_| B::Word::new(0)),
        }
    }
}

impl<B: Backend> Default for Line<B> {
    fn default() -> Self {
        Self::new()
    }
}

/// The 256-byte control block at the start of a region.
#[repr(C)]
pub struct Control<B: Backend = Native> {
    pub(crate) setup: Line<B>,
    pub(crate) sender: Line<B>,
    pub(crate) receiver: Line<B>,
    pub(crate) reserved: Line<B>,
}

impl<B: Backend> Control<B> {
    /// A zeroed (unformatted) control block.
    pub fn new() -> Self {
        Control {
            setup: Line::new(),
            sender: Line::new(),
            receiver: Line::new(),
            reserved: Line::new(),
        }
    }
}

impl<B: Backend> Default for Control<B> {
    fn default() -> Self {
        Self::new()
    }
}

/// A complete, typed ring region of `N` slots: the control block followed by
/// the slots, exactly the documented byte layout when `B` is [`Native`].
///
/// This is the way to hold a ring as a Rust value (for example inside an
/// `Arc` on a hosted runtime or under a model checker). Memory handed over
/// as bytes (a frame, a mapping) goes through
/// [`Ring::format`](crate::Ring::format) instead.
#[repr(C)]
pub struct RingMem<const N: usize, B: Backend = Native> {
    pub(crate) control: Control<B>,
    pub(crate) slots: [Slot<B>; N],
}

/// A typed duplex region: two rings, A to B first.
#[repr(C)]
pub struct DuplexMem<const N: usize, B: Backend = Native> {
    /// The ring that side A sends on.
    pub a_to_b: RingMem<N, B>,
    /// The ring that side B sends on.
    pub b_to_a: RingMem<N, B>,
}

/// A 64-byte, 64-byte-aligned block of bytes, for callers that allocate a
/// region as bytes (`vec![CacheLine::ZERO; region_size(n) / 64]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C, align(64))]
pub struct CacheLine(pub [u8; 64]);

impl CacheLine {
    /// A zeroed line.
    pub const ZERO: CacheLine = CacheLine([0; 64]);

    /// Views a slice of lines as bytes (64-byte aligned).
    pub fn as_bytes_mut(lines: &mut [CacheLine]) -> &mut [u8] {
        bytemuck::cast_slice_mut(lines)
    }
}

// The layout the documentation promises, checked at compile time.
const _: () = {
    assert!(size_of::<Slot<Native>>() == SLOT_BYTES);
    assert!(align_of::<Slot<Native>>() == SLOT_BYTES);
    assert!(size_of::<Line<Native>>() == SLOT_BYTES);
    assert!(size_of::<Control<Native>>() == CONTROL_BYTES);
    assert!(align_of::<Control<Native>>() == REGION_ALIGN);
    assert!(size_of::<RingMem<3, Native>>() == region_size(3));
    assert!(size_of::<DuplexMem<3, Native>>() == duplex_region_size(3));
    assert!(core::mem::offset_of!(Slot<Native>, header) == SLOT_HEADER_OFFSET);
    assert!(core::mem::offset_of!(Control<Native>, sender) == SENDER_LINE_OFFSET);
    assert!(core::mem::offset_of!(Control<Native>, receiver) == RECEIVER_LINE_OFFSET);
    assert!(core::mem::offset_of!(RingMem<3, Native>, slots) == SLOTS_OFFSET);
    assert!(size_of::<<Native as Backend>::Word>() == 8);
    assert!(size_of::<<Native as Backend>::Payload>() == PAYLOAD_BYTES);
};
