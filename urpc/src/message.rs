//! Messages: the raw 56-byte payload with its tag, and typed messages.
//!
//! A typed message implements [`Message`]: a tag (the header's message type)
//! and an encoding into at most 56 bytes. Plain-old-data types get it for free
//! by implementing [`PodMessage`] (`bytemuck`'s `NoUninit` and
//! `CheckedBitPattern`, so `bool`s and fieldless enums are allowed and
//! checked on receipt). A `PodMessage` larger than 56 bytes does not compile.
//!
//! Messages longer than 56 bytes are refused with [`SendError::TooLong`]
//! rather than fragmented: larger data moves through frames whose
//! capabilities are passed in messages.

use core::fmt;

use bytemuck::{CheckedBitPattern, NoUninit};

use crate::error::{DecodeError, SendError};
use crate::layout::{PAYLOAD_BYTES, PAYLOAD_WORDS};

/// A message as it travels: a tag, a length and up to 56 payload bytes.
///
/// Bytes past the length are zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, align(8))]
pub struct RawMessage {
    data: [u8; PAYLOAD_BYTES],
    tag: u16,
    len: u8,
}

impl RawMessage {
    /// A message of type `tag` carrying `bytes`, or [`SendError::TooLong`].
    pub fn new(tag: u16, bytes: &[u8]) -> Result<RawMessage, SendError> {
        if bytes.len() > PAYLOAD_BYTES {
            return Err(SendError::TooLong { len: bytes.len() });
        }
        let mut data = [0; PAYLOAD_BYTES];
        data[..bytes.len()].copy_from_slice(bytes);
        Ok(RawMessage {
            data,
            tag,
            len: bytes.len() as u8,
        })
    }

    /// Builds a message from payload words (little-endian). `len` is clamped
    /// to 56; bytes past it are cleared.
    pub fn from_words(tag: u16, len: usize, words: &[u64; PAYLOAD_WORDS]) -> RawMessage {
        let len = len.min(PAYLOAD_BYTES);
        let mut data = [0; PAYLOAD_BYTES];
        for (chunk, word) in data.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        data[len..].fill(0);
        RawMessage {
            data,
            tag,
            len: len as u8,
        }
    }

    /// The payload as little-endian words (the form it has in a slot).
    #[inline]
    pub fn to_words(&self) -> [u64; PAYLOAD_WORDS] {
        core::array::from_fn(|i| {
            let mut b = [0; 8];
            b.copy_from_slice(&self.data[8 * i..8 * i + 8]);
            u64::from_le_bytes(b)
        })
    }

    /// The message type.
    #[inline]
    pub fn tag(&self) -> u16 {
        self.tag
    }

    /// Payload length in bytes.
    #[inline]
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// The payload bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.data[..self.len as usize]
    }

    /// Decodes the message as `M`, checking tag and contents.
    pub fn decode<M: Message>(&self) -> Result<M, DecodeError> {
        if self.tag != M::TAG {
            return Err(DecodeError::WrongTag {
                expected: M::TAG,
                found: self.tag,
            });
        }
        M::decode(self.bytes())
    }

    /// Encodes a typed message. Fails with [`SendError::TooLong`] only if a
    /// hand-written [`Message::encode`] reports a length over 56.
    pub fn encode<M: Message>(msg: &M) -> Result<RawMessage, SendError> {
        let mut data = [0; PAYLOAD_BYTES];
        let len = msg.encode(&mut data);
        if len > PAYLOAD_BYTES {
            return Err(SendError::TooLong { len });
        }
        data[len..].fill(0);
        Ok(RawMessage {
            data,
            tag: M::TAG,
            len: len as u8,
        })
    }
}

impl fmt::Debug for RawMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawMessage")
            .field("tag", &self.tag)
            .field("bytes", &self.bytes())
            .finish()
    }
}

/// A typed message that fits one slot.
pub trait Message: Sized {
    /// The message type written into the header.
    const TAG: u16;
    /// Writes the payload into `buf` and returns its length (at most 56).
    fn encode(&self, buf: &mut [u8; PAYLOAD_BYTES]) -> usize;
    /// Reads a payload written by [`Message::encode`]. Must not panic on any
    /// input.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError>;
}

/// A plain-old-data message, encoded as its bytes.
///
/// ```
/// #[derive(Clone, Copy, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
/// #[repr(C)]
/// struct Ping { seq: u64, stamp: u64 }
/// impl urpc::PodMessage for Ping { const TAG: u16 = 1; }
/// ```
pub trait PodMessage: NoUninit + CheckedBitPattern {
    /// The message type written into the header.
    const TAG: u16;
}

impl<T: PodMessage> Message for T {
    const TAG: u16 = <T as PodMessage>::TAG;

    #[inline]
    fn encode(&self, buf: &mut [u8; PAYLOAD_BYTES]) -> usize {
        const {
            assert!(
                size_of::<T>() <= PAYLOAD_BYTES,
                "a PodMessage must fit the 56-byte payload"
            )
        };
        let bytes = bytemuck::bytes_of(self);
        buf[..bytes.len()].copy_from_slice(bytes);
        bytes.len()
    }

    #[inline]
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() != size_of::<T>() {
            return Err(DecodeError::WrongLength {
                expected: size_of::<T>(),
                found: bytes.len(),
            });
        }
        bytemuck::checked::try_pod_read_unaligned(bytes).map_err(|_| DecodeError::InvalidValue)
    }
}
