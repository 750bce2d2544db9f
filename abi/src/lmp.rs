//! Local message passing: the flags an [`Syscall::LmpRecv`] returns in
//! `rdi`, the buffer size and the received message.

#[cfg(doc)]
use crate::Syscall;

/// A capability came with the message and is in the slot given.
pub const CAP: u64 = 1;
/// A capability came with the message, but no slot was given (or the
/// slot was not usable): it was deleted.
pub const CAP_DROPPED: u64 = 2;

/// Messages one dispatcher's LMP buffer holds.
pub const LMP_BUFFER: usize = 4;

/// A message received with [`Syscall::LmpRecv`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LmpMessage {
    /// The badge of the endpoint it came through (0: none).
    pub badge: u64,
    /// The flags: [`CAP`], [`CAP_DROPPED`].
    pub flags: u64,
    /// The words.
    pub words: [u64; 4],
}
