//! Message codecs and the one tag registry.
//!
//! Every protocol message is a plain-old-data struct that implements
//! `urpc::PodMessage`: its bytes are its payload, its tag comes from the
//! protocol's range in [`registry`], and a type larger than the 56-byte
//! payload does not compile. Decoding checks the length and every field
//! with an invalid bit pattern (`bool`s, fieldless enums) and turns what
//! `urpc` reports into a [`Malformed`] that names the tag; a protocol then
//! checks what the bytes mean (a core that exists, a message in order).

pub mod registry;

use core::fmt;

use urpc::{DecodeError, PodMessage, RawMessage};

pub use registry::{JOB, MESH, Owner, REGISTRY, TagRange, UPDATE, URPC_BENCH, owner, range_of};

/// Why a received message does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// No message of the protocol has this tag.
    UnknownTag(u16),
    /// The payload length does not match the tag.
    BadLength {
        /// The tag.
        tag: u16,
        /// The length received.
        len: usize,
    },
    /// A field holds an impossible value.
    BadValue {
        /// The tag.
        tag: u16,
    },
}

impl Malformed {
    /// A short reason for records (`dropped ... reason=`).
    pub fn reason(&self) -> &'static str {
        match self {
            Malformed::UnknownTag(_) => "unknown-tag",
            Malformed::BadLength { .. } => "bad-length",
            Malformed::BadValue { .. } => "bad-value",
        }
    }

    /// The tag of the message.
    pub fn tag(&self) -> u16 {
        match *self {
            Malformed::UnknownTag(tag)
            | Malformed::BadLength { tag, .. }
            | Malformed::BadValue { tag } => tag,
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Malformed::UnknownTag(tag) => write!(f, "unknown message tag {tag:#x}"),
            Malformed::BadLength { tag, len } => {
                write!(f, "message {tag:#x} has the wrong length ({len} bytes)")
            }
            Malformed::BadValue { tag } => write!(f, "message {tag:#x} holds an impossible value"),
        }
    }
}

/// Gives each listed plain-old-data type its tag: `pod_messages! { Ping =>
/// tag::PING, Pong => tag::PONG }` implements `urpc::PodMessage` for both.
#[macro_export]
macro_rules! pod_messages {
    ($($ty:ty => $tag:expr),+ $(,)?) => {
        $(impl urpc::PodMessage for $ty {
            const TAG: u16 = $tag;
        })+
    };
}

/// One wire type per tag, each a newtype of one plain-old-data form
/// (`tagged_wire! { Body: Ask => tag::ASK, Give => tag::GIVE }`), so a
/// protocol whose messages share a form still gives each tag its own type.
#[macro_export]
macro_rules! tagged_wire {
    ($body:ty: $($name:ident => $tag:expr),+ $(,)?) => {
        $(#[derive(Clone, Copy, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
        #[repr(C)]
        struct $name($body);)+
        $crate::pod_messages! { $($name => $tag),+ }
    };
}

/// A protocol's `tag` module: one constant per message, numbered in order
/// from the start of the protocol's range (`RANGE`, in scope where the macro
/// stands), each documented by the message it tags, and `ALL`, every tag:
/// `tag_module! { RANGE: Msg::Ask => ASK, Msg::Give => GIVE }`.
#[macro_export]
macro_rules! tag_module {
    ($(#[$doc:meta])* $range:ident: $($msg:ident::$variant:ident => $name:ident),+ $(,)?) => {
        $(#[$doc])*
        pub mod tag {
            use super::$range;

            /// The offsets in the range, in order.
            #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
            enum Offset {
                $($name),+
            }

            $(#[doc = concat!("[`super::", stringify!($msg), "::", stringify!($variant), "`].")]
            pub const $name: u16 = $range.tag(Offset::$name as u16);)+

            /// Every tag of the protocol.
            pub const ALL: [u16; [$(stringify!($name)),+].len()] = [$($name),+];
        }
    };
}

/// Plain-old-data wire types, each `#[repr(C)]` with the fields given in
/// order (padding fields included, so the layout is exact):
/// `wire_structs! { Ask { id: u64 } Give { id: u32, _pad: u32 } }`.
#[macro_export]
macro_rules! wire_structs {
    ($($name:ident { $($field:ident: $ty:ty),+ $(,)? })+) => {
        $(#[derive(Clone, Copy, Default, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
        #[repr(C)]
        struct $name {
            $($field: $ty),+
        })+
    };
}

/// The codec of a protocol's message enum `Msg` whose every variant `V`
/// travels as the wire type of the same name (declared by
/// [`wire_structs!`]) under tag `tag::TAG`: the variant's fields go into
/// the wire fields of the same names (through `From` where the types
/// differ), every other wire field is padding and zero.
/// `wire_codec! { Msg: Ask { id } => ASK, Give { id, len } => GIVE }`
/// gives each wire type its tag and `Msg` its `encode` and `decode`.
#[macro_export]
macro_rules! wire_codec {
    ($msg:ident: $($variant:ident { $($field:ident),+ } => $tag:ident),+ $(,)?) => {
        $crate::pod_messages! { $($variant => tag::$tag),+ }

        impl $msg {
            /// Encodes the message.
            #[allow(clippy::needless_update, clippy::useless_conversion)]
            pub fn encode(&self) -> urpc::RawMessage {
                match *self {
                    $($msg::$variant { $($field),+ } => $crate::wire::encode(&$variant {
                        $($field: $field.into(),)+
                        ..Default::default()
                    }),)+
                }
            }

            /// Decodes a message, checking its tag, length and fields.
            #[allow(clippy::useless_conversion)]
            pub fn decode(m: &urpc::RawMessage) -> Result<$msg, $crate::wire::Malformed> {
                Ok(match m.tag() {
                    $(tag::$tag => {
                        let w = $crate::wire::decode::<$variant>(m)?;
                        $msg::$variant { $($field: w.$field.into()),+ }
                    })+
                    other => return Err($crate::wire::Malformed::UnknownTag(other)),
                })
            }
        }
    };
}

/// Encodes a message.
#[inline]
pub fn encode<M: PodMessage>(msg: &M) -> RawMessage {
    const { assert!(size_of::<M>() <= urpc::PAYLOAD_BYTES) };
    match RawMessage::encode(msg) {
        Ok(raw) => raw,
        // A `PodMessage` is at most 56 bytes (checked above), the only
        // reason `encode` can fail.
        Err(_) => RawMessage::from_words(M::TAG, 0, &[0; urpc::PAYLOAD_WORDS]),
    }
}

/// Decodes `raw` as `M` (the caller matched the tag).
#[inline]
pub fn decode<M: PodMessage>(raw: &RawMessage) -> Result<M, Malformed> {
    raw.decode::<M>().map_err(|e| match e {
        DecodeError::WrongTag { found, .. } => Malformed::UnknownTag(found),
        DecodeError::WrongLength { found, .. } => Malformed::BadLength {
            tag: raw.tag(),
            len: found,
        },
        _ => Malformed::BadValue { tag: raw.tag() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::{CheckedBitPattern, NoUninit};

    #[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
    #[repr(C)]
    struct Probe {
        value: u32,
        flag: bool,
        _pad: [u8; 3],
    }

    impl PodMessage for Probe {
        const TAG: u16 = 0x7001;
    }

    #[test]
    fn pod_messages_round_trip_and_bad_ones_are_typed() {
        let m = Probe {
            value: 9,
            flag: true,
            _pad: [0; 3],
        };
        let raw = encode(&m);
        assert_eq!((raw.tag(), raw.len()), (0x7001, 8));
        assert_eq!(decode::<Probe>(&raw), Ok(m));
        let short = RawMessage::new(0x7001, &[1, 2]).unwrap();
        assert_eq!(
            decode::<Probe>(&short),
            Err(Malformed::BadLength {
                tag: 0x7001,
                len: 2
            })
        );
        let bad_bool = RawMessage::new(0x7001, &[9, 0, 0, 0, 7, 0, 0, 0]).unwrap();
        assert_eq!(
            decode::<Probe>(&bad_bool),
            Err(Malformed::BadValue { tag: 0x7001 })
        );
        let other = RawMessage::new(0x7002, &[0; 8]).unwrap();
        assert_eq!(decode::<Probe>(&other), Err(Malformed::UnknownTag(0x7002)));
        assert_eq!(Malformed::UnknownTag(1).reason(), "unknown-tag");
    }
}
