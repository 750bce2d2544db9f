//! The memory the protocol runs on: a small atomics abstraction.
//!
//! Every word of a shared region (slot headers, slot payloads, flow-control
//! and setup lines) is accessed through the two traits of this module. On
//! hardware ([`Native`]) they are `core::sync::atomic::AtomicU64`: a peer in
//! another address space, correct or not, can then only ever produce values
//! the protocol checks, never undefined behaviour in this one.
//!
//! The same ring code is also instantiated with model-checker types (the
//! crate's `loom` tests implement [`Backend`] with `loom`'s atomics and a
//! `loom` `UnsafeCell` for the payload, so that every payload access is
//! checked for a missing happens-before edge). That is why the ring types
//! take a `B: Backend` parameter, which defaults to [`Native`] everywhere.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::PAYLOAD_WORDS;

/// A 64-bit word that two parties access concurrently.
///
/// The method contracts are those of `core::sync::atomic::AtomicU64`.
pub trait AtomicWord: Send + Sync {
    /// Creates a word holding `value`.
    fn new(value: u64) -> Self;
    /// Atomically loads the word.
    fn load(&self, order: Ordering) -> u64;
    /// Atomically stores `value`.
    fn store(&self, value: u64, order: Ordering);
    /// Atomically replaces `old` with `new`, returning the previous value
    /// (`Ok` if it was `old`); `ok` and `err` order the access that
    /// succeeds and the load that fails.
    fn compare_exchange(&self, old: u64, new: u64, ok: Ordering, err: Ordering)
    -> Result<u64, u64>;
}

/// The 56-byte payload of one slot, as seven 64-bit words.
///
/// The ring protocol only reads a payload after an Acquire load of the slot
/// header that the writer published with Release after writing the payload,
/// and only writes it after learning (again through Release/Acquire) that the
/// previous reader has finished. The accesses themselves may therefore be
/// plain or relaxed.
pub trait PayloadCell: Send + Sync {
    /// Creates a zeroed payload.
    fn new() -> Self;
    /// Reads the seven payload words.
    fn read(&self) -> [u64; PAYLOAD_WORDS];
    /// Writes the seven payload words.
    fn write(&self, words: &[u64; PAYLOAD_WORDS]);
}

/// A family of shared-memory types the ring is built from.
///
/// # Safety
///
/// Implementations must make every method of [`Backend::Word`] and
/// [`Backend::Payload`] free of undefined behaviour under arbitrary
/// concurrent use through shared references, as atomics are. A payload
/// implementation that is not atomic must instead detect (and panic on) any
/// pair of accesses that is not ordered by happens-before before it performs
/// them, as a model checker's cell does. The ring relies on this to stay
/// sound when the other party does not follow the protocol.
pub unsafe trait Backend: Sized + 'static {
    /// Header, flow-control and setup words.
    type Word: AtomicWord;
    /// Slot payloads.
    type Payload: PayloadCell;
}

/// The hardware backend: `AtomicU64` words, relaxed payload words.
///
/// With this backend a [`Slot`](crate::Slot) is exactly one 64-byte cache
/// line and the region layout is the documented byte layout.
#[derive(Debug, Clone, Copy)]
pub enum Native {}

// SAFETY: `AtomicU64` and `NativePayload` (seven `AtomicU64`) are atomics:
// any concurrent use through shared references is defined behaviour.
unsafe impl Backend for Native {
    type Word = AtomicU64;
    type Payload = NativePayload;
}

impl AtomicWord for AtomicU64 {
    #[inline(always)]
    fn new(value: u64) -> Self {
        AtomicU64::new(value)
    }
    #[inline(always)]
    fn load(&self, order: Ordering) -> u64 {
        AtomicU64::load(self, order)
    }
    #[inline(always)]
    fn store(&self, value: u64, order: Ordering) {
        AtomicU64::store(self, value, order)
    }
    #[inline(always)]
    fn compare_exchange(
        &self,
        old: u64,
        new: u64,
        ok: Ordering,
        err: Ordering,
    ) -> Result<u64, u64> {
        AtomicU64::compare_exchange(self, old, new, ok, err)
    }
}

/// The hardware payload: seven `AtomicU64` accessed with `Relaxed` ordering.
///
/// On x86-64 a relaxed atomic load or store is an ordinary `mov`, so this
/// costs nothing over a plain copy, and it keeps a misbehaving peer from
/// causing a data race in the Rust sense.
#[derive(Debug)]
#[repr(C)]
pub struct NativePayload([AtomicU64; PAYLOAD_WORDS]);

impl PayloadCell for NativePayload {
    #[inline(always)]
    fn new() -> Self {
        NativePayload([const { AtomicU64::new(0) }; PAYLOAD_WORDS])
    }
    #[inline(always)]
    fn read(&self) -> [u64; PAYLOAD_WORDS] {
        let w = &self.0;
        [
            w[0].load(Ordering::Relaxed),
            w[1].load(Ordering::Relaxed),
            w[2].load(Ordering::Relaxed),
            w[3].load(Ordering::Relaxed),
            w[4].load(Ordering::Relaxed),
            w[5].load(Ordering::Relaxed),
            w[6].load(Ordering::Relaxed),
        ]
    }
    #[inline(always)]
    fn write(&self, words: &[u64; PAYLOAD_WORDS]) {
        for (cell, &word) in self.0.iter().zip(words) {
            cell.store(word, Ordering::Relaxed);
        }
    }
}
