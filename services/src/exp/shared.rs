//! The arena as the experiments see it: atomic words at byte offsets, a
//! bump allocator for laying regions out, and the control block every
//! experiment starts with (barrier, abort flag, stop flag, sleep flags).
//!
//! Control block layout (each word in its own 128-byte block, so that
//! neither a line nor its adjacent-line prefetch partner is shared by two
//! words):
//!
//! | offset | word | written by |
//! |---|---|---|
//! | 0 | barrier arrivals in the current episode | every core (`fetch_add`), reset by the last arriver |
//! | 128 | barrier generation | the last arriver |
//! | 256 | abort: 0, or 1 + the id of the core that failed | a failing core |
//! | 384 | stop: the measured phase should end | the first core done |
//! | 512 + 128·c | core `c` is blocked or about to block in a wait | core `c` |

use core::sync::atomic::{AtomicU64, Ordering, fence};

use super::ExpError;
use crate::platform::Platform;
use crate::shm::Shared;

/// Bytes per block: a cache line and its adjacent-line prefetch partner.
pub(crate) const BLOCK: usize = 128;

const COUNT: usize = 0;
const GENERATION: usize = BLOCK;
const ABORT: usize = 2 * BLOCK;
const STOP: usize = 3 * BLOCK;
const SLEEP: usize = 4 * BLOCK;

/// Cycles a waiting core polls before it blocks.
pub(crate) const POLL_CYCLES: u64 = 100_000;

/// Bytes of the control block for `cores` cores.
pub(crate) const fn control_bytes(cores: u32) -> usize {
    SLEEP + cores as usize * BLOCK
}

/// Lays regions out one after another.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bump {
    next: usize,
}

impl Bump {
    /// Starts at `offset`.
    pub(crate) const fn at(offset: usize) -> Bump {
        Bump { next: offset }
    }

    /// Takes `bytes` bytes aligned to [`BLOCK`]; returns their offset.
    pub(crate) fn take(&mut self, bytes: usize) -> usize {
        let at = self.next.next_multiple_of(BLOCK);
        self.next = at + bytes;
        at
    }

    /// Bytes used so far.
    pub(crate) const fn end(&self) -> usize {
        self.next
    }
}

/// One core's handle on the control block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Control<'a> {
    mem: Shared<'a>,
    me: u32,
    cores: u32,
    /// Longest single block in [`Platform::wait`], in cycles.
    wait_cycles: u64,
    /// How long [`Control::start_barrier`] polls before it blocks.
    start_poll: u64,
}

impl<'a> Control<'a> {
    /// Core `me`'s handle, for `cores` cores, with blocks of at most
    /// `wait_cycles` cycles and start barriers that poll for
    /// `start_poll` cycles.
    pub(crate) fn new(
        mem: Shared<'a>,
        me: u32,
        cores: u32,
        wait_cycles: u64,
        start_poll: u64,
    ) -> Control<'a> {
        assert!(control_bytes(cores) <= mem.len());
        Control {
            mem,
            me,
            cores,
            wait_cycles: wait_cycles.max(1),
            start_poll: start_poll.max(POLL_CYCLES),
        }
    }

    /// The core id.
    pub(crate) fn me(&self) -> u32 {
        self.me
    }

    /// Number of cores.
    pub(crate) fn cores(&self) -> u32 {
        self.cores
    }

    /// The core that aborted the run, if one did.
    pub(crate) fn aborted(&self) -> Option<u32> {
        match self.mem.word(ABORT).load(Ordering::Acquire) {
            0 => None,
            by => Some((by - 1) as u32),
        }
    }

    /// `Err(Aborted)` if a core aborted the run.
    pub(crate) fn check(&self) -> Result<(), ExpError> {
        match self.aborted() {
            None => Ok(()),
            Some(by) => Err(ExpError::Aborted { by }),
        }
    }

    /// Marks the run as failed by this core (the first failure wins) and
    /// wakes every other core, whose waits then return `Aborted`.
    pub(crate) fn abort<P: Platform>(&self, p: &mut P) {
        let _ = self.mem.word(ABORT).compare_exchange(
            0,
            u64::from(self.me) + 1,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        for c in (0..self.cores).filter(|&c| c != self.me) {
            let _ = p.notify(c);
        }
    }

    /// The stop flag of measured phases.
    pub(crate) fn stop(&self) -> &'a AtomicU64 {
        self.mem.word(STOP)
    }

    fn sleep_flag(&self, core: u32) -> &'a AtomicU64 {
        self.mem.word(SLEEP + core as usize * BLOCK)
    }

    /// Waits until `done()` holds: polls for `poll` cycles, then blocks
    /// in [`Platform::wait`] (at most `wait_cycles` at a time) with this
    /// core's sleep flag set, so that [`Control::wake_sleepers`] notifies
    /// it. Returns `Aborted` if the run is aborted first.
    pub(crate) fn poll_then_block<P: Platform>(
        &self,
        p: &mut P,
        poll: u64,
        done: impl Fn() -> bool,
    ) -> Result<(), ExpError> {
        let start = p.now();
        while p.now().wrapping_sub(start) < poll {
            if done() {
                return Ok(());
            }
            self.check()?;
            core::hint::spin_loop();
        }
        let flag = self.sleep_flag(self.me);
        let result = loop {
            flag.store(1, Ordering::SeqCst);
            // Pairs with the fence in `wake_sleepers`: either the waker
            // sees the flag, or this core sees the condition.
            fence(Ordering::SeqCst);
            if done() {
                break Ok(());
            }
            if let Err(e) = self.check() {
                break Err(e);
            }
            if let Some(by) = p.aborted_by() {
                break Err(ExpError::Aborted { by });
            }
            p.wait(self.wait_cycles);
        };
        flag.store(0, Ordering::Relaxed);
        result
    }

    /// Notifies every other core whose sleep flag is set. Call after
    /// making a condition true that such a core may wait for.
    pub(crate) fn wake_sleepers<P: Platform>(&self, p: &mut P) {
        fence(Ordering::SeqCst);
        for c in (0..self.cores).filter(|&c| c != self.me) {
            if self.sleep_flag(c).load(Ordering::Relaxed) != 0 {
                let _ = p.notify(c);
            }
        }
    }

    /// Notifies core `core` if its sleep flag is set: [`Control::wake_sleepers`]
    /// for one core.
    pub(crate) fn wake<P: Platform>(&self, p: &mut P, core: u32) {
        fence(Ordering::SeqCst);
        if core != self.me && self.sleep_flag(core).load(Ordering::Relaxed) != 0 {
            let _ = p.notify(core);
        }
    }

    /// A barrier of all cores (central counter and generation number).
    ///
    /// A core reads the generation, then arrives (`fetch_add`); the
    /// generation cannot move before it arrives, so the value read is its
    /// episode's. The last arriver resets the counter and then publishes
    /// the next generation (Release), so a core that sees the new
    /// generation also sees the reset counter before it can arrive at the
    /// next barrier. The others wait, poll then block, for the generation
    /// to change.
    pub(crate) fn barrier<P: Platform>(&self, p: &mut P) -> Result<(), ExpError> {
        self.barrier_polling(p, POLL_CYCLES)
    }

    /// A barrier right before a measured phase that all cores run at once:
    /// call it just after a [`Control::barrier`] (which wakes every core);
    /// it polls long enough (`start_poll`, about 2 ms) that the cores are
    /// still polling when the last one arrives, so they all leave within
    /// a cache-line transfer of each other instead of a wake-up latency.
    pub(crate) fn start_barrier<P: Platform>(&self, p: &mut P) -> Result<(), ExpError> {
        self.barrier_polling(p, self.start_poll)
    }

    fn barrier_polling<P: Platform>(&self, p: &mut P, poll: u64) -> Result<(), ExpError> {
        self.check()?;
        let count = self.mem.word(COUNT);
        let generation = self.mem.word(GENERATION);
        let episode = generation.load(Ordering::Acquire);
        let arrived = count.fetch_add(1, Ordering::AcqRel) + 1;
        if arrived == u64::from(self.cores) {
            count.store(0, Ordering::Relaxed);
            generation.store(episode.wrapping_add(1), Ordering::Release);
            self.wake_sleepers(p);
            return Ok(());
        }
        self.poll_then_block(p, poll, || generation.load(Ordering::Acquire) != episode)
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use std::fmt;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::platform::PlatformError;
    use crate::platforms::hosted::{HostedPlatform, Pool, World};
    use crate::shm::Arena;

    /// A hosted platform that counts waits that ended by timeout.
    struct Counting {
        inner: HostedPlatform,
        timeouts: u32,
    }

    impl Platform for Counting {
        fn core(&self) -> u32 {
            self.inner.core()
        }
        fn cores(&self) -> u32 {
            self.inner.cores()
        }
        fn tsc_hz(&self) -> u64 {
            self.inner.tsc_hz()
        }
        fn now(&self) -> u64 {
            self.inner.now()
        }
        fn pool_frames(&self) -> u64 {
            self.inner.pool_frames()
        }
        fn map_pool(&mut self, first: u64, count: u64) -> Result<Arena, PlatformError> {
            self.inner.map_pool(first, count)
        }
        fn notify(&mut self, core: u32) -> Result<(), PlatformError> {
            self.inner.notify(core)
        }
        fn wait(&mut self, timeout: u64) -> bool {
            let woken = self.inner.wait(timeout);
            self.timeouts += u32::from(!woken);
            woken
        }
        fn aborted_by(&self) -> Option<u32> {
            self.inner.aborted_by()
        }
        fn print(&mut self, line: fmt::Arguments<'_>) {
            self.inner.print(line)
        }
    }

    /// Runs `body` on `cores` threads over one arena of 4 frames; returns
    /// each thread's count of timed-out waits.
    fn on_threads(
        cores: u32,
        wait: u64,
        body: impl Fn(&mut Counting, Control<'_>, Shared<'_>) + Sync,
    ) -> Vec<u32> {
        let world = World::new(cores, Pool::new(4).unwrap(), None);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..cores)
                .map(|core| {
                    let (world, body) = (Arc::clone(&world), &body);
                    s.spawn(move || {
                        let mut p = Counting {
                            inner: world.platform(core),
                            timeouts: 0,
                        };
                        let arena = p.map_pool(0, 4).unwrap();
                        let mem = arena.shared();
                        let ctl = Control::new(mem, core, cores, wait, 0);
                        body(&mut p, ctl, mem);
                        p.timeouts
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    #[test]
    fn no_core_leaves_a_barrier_before_every_core_arrived() {
        let cores = 3;
        let slot = |c: u32| control_bytes(cores) + c as usize * BLOCK;
        on_threads(cores, 10_000_000, |p, ctl, mem| {
            for round in 1..=300u64 {
                mem.word(slot(ctl.me())).store(round, Ordering::Relaxed);
                ctl.barrier(p).unwrap();
                for c in 0..cores {
                    let seen = mem.word(slot(c)).load(Ordering::Relaxed);
                    assert!(
                        seen == round || seen == round + 1,
                        "round {round}: core {c} at {seen}"
                    );
                }
                ctl.barrier(p).unwrap();
            }
        });
    }

    #[test]
    fn a_blocked_waiter_is_notified_not_timed_out() {
        let flag = control_bytes(2);
        // Waits of five seconds: a lost notification shows as a timeout.
        let five_seconds = crate::platforms::hosted::tsc_hz() * 5;
        let timeouts = on_threads(2, five_seconds, |p, ctl, mem| {
            let go = mem.word(flag);
            if ctl.me() == 0 {
                ctl.poll_then_block(p, POLL_CYCLES, || go.load(Ordering::Acquire) == 1)
                    .unwrap();
            } else {
                // Core 0 is blocked (its sleep flag is up) before the
                // condition becomes true.
                while ctl.sleep_flag(0).load(Ordering::SeqCst) == 0 {
                    core::hint::spin_loop();
                }
                go.store(1, Ordering::Release);
                ctl.wake_sleepers(p);
            }
        });
        assert_eq!(timeouts, [0, 0]);
    }

    #[test]
    fn an_abort_ends_every_wait() {
        on_threads(3, 10_000_000, |p, ctl, _| {
            if ctl.me() == 1 {
                ctl.abort(p);
                assert_eq!(ctl.aborted(), Some(1));
            } else {
                assert_eq!(ctl.barrier(p), Err(ExpError::Aborted { by: 1 }));
            }
        });
    }
}
