//! Cache-line message channels between cores (URPC).
//!
//! A channel is a unidirectional ring of 64-byte slots in a region that two
//! parties share; a duplex channel is two rings. The crate is `no_std`, never
//! allocates, makes no system calls and never allocates the shared region:
//! the caller hands it in (a frame mapped by two cores in the kernel, an
//! allocation on a hosted runtime, a typed value under a model checker).
//!
//! ```
//! use urpc::{region_size, AckLine, CacheLine, Receiver, Ring, Sender, Variant};
//!
//! #[derive(Clone, Copy, Debug, PartialEq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
//! #[repr(C)]
//! struct Ping { seq: u64 }
//! impl urpc::PodMessage for Ping { const TAG: u16 = 7; }
//!
//! let mut lines = vec![CacheLine::ZERO; region_size(60) / 64];
//! let ring = Ring::format(CacheLine::as_bytes_mut(&mut lines), 60, Variant::AckLine)?;
//! let mut tx: Sender<AckLine> = Sender::new(ring)?;
//! let mut rx: Receiver<AckLine> = Receiver::new(ring)?;
//! tx.try_send(&Ping { seq: 1 }).unwrap();
//! assert_eq!(rx.try_recv::<Ping>().unwrap(), Ping { seq: 1 });
//! assert_eq!(rx.try_recv::<Ping>(), Err(urpc::RecvError::Empty));
//! # Ok::<(), urpc::SetupError>(())
//! ```
//!
//! # Slot layout
//!
//! A [`Slot`] is one cache line, `#[repr(C, align(64))]`, its size checked
//! at compile time:
//!
//! ```text
//! byte  0                                                56        64
//!       +-------------------------------------------------+---------+
//!       | payload: 7 little-endian u64 words (56 bytes)   | header  |
//!       +-------------------------------------------------+---------+
//! header bits: 0..32 seq | 32..40 len | 40..56 tag | 56..63 reserved (0) | 63 full
//! ```
//!
//! `seq` is the low 32 bits of the message's sequence number (how many
//! messages were sent on the ring before it), `len` the number of payload
//! bytes that count (bytes past it are zero), `tag` the message type. The
//! sender writes the payload first and the header last, with Release; the
//! receiver polls only the header of its next slot, with Acquire. See
//! [`Header`].
//!
//! # Region layout
//!
//! One ring of `N` slots (`1 <= N <= 2^24`) takes [`region_size`]`(N) = 256 +
//! 64·N` bytes, 64-byte aligned, and is `#[repr(C)]` ([`RingMem`] is the
//! same thing as a Rust type):
//!
//! | offset | line | written by | contents (u64 words) |
//! |---|---|---|---|
//! | 0 | setup | [`Ring::format`], once | 0: magic `b"FLOTURPC"` (written last, Release), 1: layout version (1), 2: `N`, 3: variant (1 ack line, 2 used bit), 4..8: 0 |
//! | 64 | sender | the sender, only when it attaches and detaches | 0: claim (1 while a [`Sender`] exists), 1: saved position, 2..8: 0 |
//! | 128 | receiver | the receiver only | 0: **ack**, messages consumed (ack-line flow control), 1: claim, 2: saved position, 3..8: 0 |
//! | 192 | reserved | nobody | keeps the receiver's line alone in its 128-byte pair |
//! | 256 + 64·i | slot `i` | the sender (and, for the used bit, the receiver) | payload and header, as above |
//!
//! A duplex channel ([`Duplex`], [`DuplexMem`]) is two rings back to back:
//! A to B at offset 0, B to A at offset `region_size(N)`, in total
//! [`duplex_region_size`]`(N) = 2·(256 + 64·N)` bytes. A 4 KiB page holds
//! one ring of 60 slots.
//!
//! Formatting writes slot `i`'s header as `seq = i - N (mod 2^32)`, not
//! full: every slot looks like an already consumed message of lap -1.
//!
//! # Wrap-around
//!
//! Message `k` goes to slot `k mod N`, so the header the receiver finds at
//! its next slot when it expects message `k` is either message `k` (new) or
//! message `k - N` (old, the previous lap). The two differ in `seq` (`N <
//! 2^32`), so no epoch bit is needed, and anything else is impossible. The
//! receiver reports it as [`RecvError::Corrupt`], with a [`Corruption`]
//! saying what and where: a `seq` that is neither, a set reserved bit, a new
//! message without the full flag or with a length over 56, or (used bit) an
//! old message still marked full. The sender checks its side the same way
//! (see below). Endpoints stop at the first corruption and report it on
//! every later call: nothing past it is delivered, and nothing before it was
//! lost. The fast paths compare the masked header with one precomputed word
//! (and a second one for "empty"), so these checks cost one `and` and one
//! `cmp` per poll.
//!
//! # Flow control
//!
//! Two variants sit behind one API, chosen by a type parameter ([`AckLine`],
//! the default, or [`UsedBit`]) and recorded in the region so that both
//! ends agree.
//!
//! **Ack line** (Multikernel, 2009). The receiver never writes a slot. It
//! counts consumed messages and publishes the count in word 0 of its own
//! line (Release) every [`Receiver::set_ack_interval`] messages (a quarter
//! of the ring by default), whenever a receive finds the ring empty, at the
//! end of each batch receive, on [`Receiver::publish`] and on drop. The
//! sender keeps a cached limit `last ack + N` and reads the ack word
//! (Acquire) only when it has sent up to that limit, i.e. when it believes
//! the ring is full: right after the send that reaches the limit (so that
//! the read overlaps that message's flight instead of holding back the next
//! one), and again at a send that finds the limit still reached. So on the
//! fast path the sender touches only its own slot lines and the receiver
//! only reads them plus its own line; the ack line crosses between cores
//! about once per `N` messages.
//!
//! **Used bit** (later Barrelfish). The receiver clears the full flag of
//! each slot it consumed (a Release store of the header with bit 63 clear).
//! The sender loads (Acquire) the header of the slot it is about to write:
//! it must be the previous lap's message (`seq = k - N`) with the flag
//! clear; flag set means full; anything else (another sequence, reserved
//! bits) is corrupt. Each slot line therefore crosses between the cores
//! twice per message, and a sender that finds the ring full polls the very
//! line the receiver is about to read.
//!
//! # Why the orderings are sufficient
//!
//! *No torn or stale message.* The sender's payload stores are sequenced
//! before its Release store of the header; the receiver's payload loads are
//! sequenced after its Acquire load that reads that header. So the sender's
//! payload stores happen-before the receiver's loads, and by coherence the
//! receiver reads them (or later stores, which cannot exist: see next
//! point). Only the header needs to be atomic with ordering; a header that
//! is not the expected one is never followed by payload reads.
//!
//! *The sender never overwrites an unread slot.* It writes message `k + N`
//! into the slot of message `k` only after learning that `k` was consumed.
//! Ack line: the receiver's payload loads of `k` are sequenced before its
//! Release store of a count `> k`, and the sender's stores of `k + N` after
//! its Acquire load of that count; used bit: the same with the receiver's
//! Release store of the cleared header and the sender's Acquire load of it.
//! Either way the receiver's reads of `k` happen-before the sender's writes
//! of `k + N`, so they cannot observe them. The count the sender reads must
//! lie between the last count it read and the number of messages it has
//! sent; anything else is reported as [`CorruptionKind::AckOutOfRange`].
//!
//! *Nothing is lost or duplicated.* Each side owns one counter (the sender
//! `tail`, the receiver `head`) and advances it only on success; the receiver
//! accepts only `seq == head`, so it cannot skip or repeat a message.
//!
//! *Liveness.* The ack-line receiver publishes whenever it finds the ring
//! empty, so a sender can only see a stale "full" while the receiver is
//! busy (not polling), for at most `ack_interval - 1` messages' worth of
//! slots.
//!
//! Every word of the region is accessed atomically (payload words with
//! `Relaxed`, which compiles to plain moves on x86-64). A peer that breaks
//! the protocol, or memory that is not a ring at all, can therefore only
//! produce typed errors or wrong payload bytes, never undefined behaviour
//! here.
//!
//! These arguments are checked by the `loom` model tests of both variants
//! (`tests/loom.rs`), in which payloads are model-checker cells that fail on
//! any access not ordered by happens-before.
//!
//! # Messages
//!
//! [`Message`] is a tag plus an encoding into at most 56 bytes;
//! [`PodMessage`] derives it for plain-old-data types via `bytemuck`.
//! Messages longer than 56 bytes are refused ([`SendError::TooLong`]; a
//! `PodMessage` over 56 bytes does not compile), never fragmented: larger
//! data moves through frames whose capabilities are passed in messages.
//!
//! # Other backends
//!
//! The ring types take a [`Backend`] parameter (default [`Native`]) that
//! names the atomic word and payload types; the `loom` tests substitute
//! model-checker types through it. See [`backend`].
//!
//! # Measurement
//!
//! [`bench`](mod@bench) holds the measurement loops (raw cache-line ping-pong, round
//! trip, pipelined throughput), `rdtsc` helpers and statistics, all `no_std`,
//! so the same code runs hosted and on bare metal.
#![no_std]

pub mod backend;
#[cfg(target_arch = "x86_64")]
pub mod bench;
mod channel;
mod error;
mod layout;
mod message;
mod poll;
mod ring;

pub use backend::{AtomicWord, Backend, Native, NativePayload, PayloadCell};
pub use bytemuck;
pub use channel::{AckLine, FlowControl, Receiver, Sender, UsedBit};
pub use error::{Corruption, CorruptionKind, DecodeError, RecvError, Role, SendError, SetupError};
pub use layout::{
    ACK_WORD_OFFSET, CONTROL_BYTES, CacheLine, Control, DuplexMem, HEADER_FULL, HEADER_RESERVED,
    Header, HeaderError, LAYOUT_VERSION, Line, MAGIC, MAX_SLOTS, PAYLOAD_BYTES, PAYLOAD_WORDS,
    RECEIVER_LINE_OFFSET, REGION_ALIGN, RingMem, SENDER_LINE_OFFSET, SETUP_LINE_OFFSET, SLOT_BYTES,
    SLOT_HEADER_OFFSET, SLOTS_OFFSET, Slot, duplex_region_size, region_size,
};
pub use message::{Message, PodMessage, RawMessage};
pub use poll::{PollError, RoundRobin};
pub use ring::{Duplex, Endpoint, Ring, Side, Variant};
