//! The ticket lock with proportional backoff.

use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use crate::exp::sync::word::delay;
use crate::exp::sync::{MAX_CORES, Mem, ShmLock, Word, block, check_core};

/// Pauses a waiter backs off per holder ahead of it.
pub const TICKET_BACKOFF: u32 = 8;

/// The ticket lock with proportional backoff: a core takes the next ticket
/// (`fetch_add` on `next_ticket`) and waits until `now_serving` reaches
/// it; the holder releases by serving the next ticket. Between polls a
/// waiter `k` tickets from its turn waits `k ·` [`TICKET_BACKOFF`] pauses
/// (at most `(MAX_CORES − 1) · TICKET_BACKOFF`), as its turn is at least
/// `k` critical sections away. FIFO; one atomic operation per acquire, but
/// every waiter polls the same word.
///
/// Words: block 0 `next_ticket`, block 1 `now_serving` (written by
/// different cores). Tickets are 64-bit and never wrap in practice.
#[derive(Debug)]
pub struct Ticket {
    next: usize,
    serving: usize,
    /// The ticket this core holds or waits with.
    ticket: u64,
}

impl ShmLock for Ticket {
    const NAME: &'static str = "ticket";
    const BLOCKS: usize = 2;

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        Ticket {
            next: block(base, 0),
            serving: block(base, 1),
            ticket: 0,
        }
    }

    fn acquire<M: Mem>(&mut self, mem: &M) {
        // Relaxed: tickets are unique by atomicity alone; the holder's
        // writes are acquired through `now_serving`.
        let ticket = mem.word(self.next).fetch_add(1, Relaxed);
        self.ticket = ticket;
        let serving = mem.word(self.serving);
        loop {
            let now = serving.load(Acquire);
            if now == ticket {
                return;
            }
            let ahead = ticket.wrapping_sub(now).min(u64::from(MAX_CORES)) as u32;
            delay::<M::W>(ahead * TICKET_BACKOFF);
            // The wait is a spin-wait too: one pause at least per poll.
            M::W::pause();
        }
    }

    fn release<M: Mem>(&mut self, mem: &M) {
        // Only the holder writes `now_serving`, and it equals our ticket.
        mem.word(self.serving)
            .store(self.ticket.wrapping_add(1), Release);
    }
}
