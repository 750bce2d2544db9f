//! Polling many receivers fairly.

use crate::backend::Backend;
use crate::channel::{FlowControl, Receiver};
use crate::error::RecvError;
use crate::message::RawMessage;

/// Why [`RoundRobin::poll`] returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollError {
    /// Every receiver was empty.
    Empty,
    /// A receiver failed (it is corrupt); the others have not been polled
    /// after it in this call. The next call starts after it, so one broken
    /// channel cannot starve the rest, but it keeps reporting the error until
    /// the caller removes it.
    Failed {
        /// Index of the receiver in the slice.
        index: usize,
        /// Its error.
        error: RecvError,
    },
}

/// A round-robin poller over a slice of receivers.
///
/// Each call to [`RoundRobin::poll`] looks at every receiver at most once,
/// starting after the one that last produced a message, and takes the first
/// message found. A receiver that always has traffic therefore cannot starve
/// the others: between two of its messages every other receiver is polled.
/// Polling an empty receiver costs one load of a header that stays in the
/// local cache until its sender writes it.
#[derive(Debug, Clone, Default)]
pub struct RoundRobin {
    next: usize,
}

impl RoundRobin {
    /// A poller starting at receiver 0.
    pub const fn new() -> Self {
        RoundRobin { next: 0 }
    }

    /// Takes one message from the first non-empty receiver in round-robin
    /// order and returns it with the receiver's index.
    pub fn poll<F: FlowControl, B: Backend>(
        &mut self,
        receivers: &mut [Receiver<'_, F, B>],
    ) -> Result<(usize, RawMessage), PollError> {
        let n = receivers.len();
        if n == 0 {
            return Err(PollError::Empty);
        }
        let start = if self.next < n { self.next } else { 0 };
        for k in 0..n {
            let i = if start + k >= n {
                start + k - n
            } else {
                start + k
            };
            match receivers[i].try_recv_raw() {
                Ok(m) => {
                    self.next = i + 1;
                    return Ok((i, m));
                }
                Err(RecvError::Empty) => {}
                Err(error) => {
                    self.next = i + 1;
                    return Err(PollError::Failed { index: i, error });
                }
            }
        }
        Err(PollError::Empty)
    }
}
