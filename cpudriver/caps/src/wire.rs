//! A stable byte encoding of one capability, for sending it to another core.
//!
//! Layout (little endian), [`WIRE_LEN`] bytes:
//!
//! | bytes | field |
//! |---|---|
//! | 0 | format version, [`WIRE_VERSION`] |
//! | 1 | type code ([`CapType`] as `u8`) |
//! | 2 | rights bits |
//! | 3..8 | reserved, zero |
//! | 8..16 | base |
//! | 16..24 | size |
//! | 24..32 | badge |
//!
//! The owner core and remote relations travel beside the bytes: they are
//! facts about the copy in the receiver's database, not about the object.

use crate::rights::Rights;
use crate::types::{Cap, CapType};
use abi::CapError;

/// Length of an encoded capability.
pub const WIRE_LEN: usize = abi::cap::WIRE_LEN;
/// The format version this library writes and reads.
pub const WIRE_VERSION: u8 = 1;

/// Why bytes do not decode to a capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Fewer or more than [`WIRE_LEN`] bytes.
    Length,
    /// An unknown format version.
    Version,
    /// An unknown type code.
    Type,
    /// Rights bits outside the defined ones.
    Rights,
    /// A reserved byte is not zero.
    Reserved,
    /// The fields break the type's shape rules (alignment, size, badge).
    Shape,
}

impl From<WireError> for CapError {
    fn from(_: WireError) -> CapError {
        CapError::Malformed
    }
}

/// Encodes a capability.
pub fn to_bytes(cap: &Cap) -> [u8; WIRE_LEN] {
    let mut b = [0u8; WIRE_LEN];
    b[0] = WIRE_VERSION;
    b[1] = cap.ty as u8;
    b[2] = cap.rights.bits();
    b[8..16].copy_from_slice(&cap.base.to_le_bytes());
    b[16..24].copy_from_slice(&cap.size.to_le_bytes());
    b[24..32].copy_from_slice(&cap.badge.to_le_bytes());
    b
}

fn word(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(src) = bytes.get(at..at + 8) {
        w.copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

/// Decodes a capability, checking every field.
pub fn from_bytes(bytes: &[u8]) -> Result<Cap, WireError> {
    if bytes.len() != WIRE_LEN {
        return Err(WireError::Length);
    }
    if bytes[0] != WIRE_VERSION {
        return Err(WireError::Version);
    }
    let ty = CapType::from_code(bytes[1]).ok_or(WireError::Type)?;
    let rights = Rights::from_bits(bytes[2]).ok_or(WireError::Rights)?;
    if bytes[3..8].iter().any(|b| *b != 0) {
        return Err(WireError::Reserved);
    }
    let cap = Cap {
        ty,
        base: word(bytes, 8),
        size: word(bytes, 16),
        rights,
        badge: word(bytes, 24),
    };
    cap.check_shape().map_err(|_| WireError::Shape)?;
    Ok(cap)
}
