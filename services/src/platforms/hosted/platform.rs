//! The hosted [`Platform`]: one per thread, over state the threads share.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::clock;
use super::pool::Pool;
use crate::platform::{Platform, PlatformError};
use crate::shm::Arena;

/// Receives each printed line (with its `[core N] ` prefix) as it is
/// printed.
pub type Sink = Box<dyn Fn(&str) + Send + Sync>;

/// A core's doorbell: a pending-notification flag and a condition variable.
#[derive(Debug, Default)]
struct Bell {
    rung: Mutex<bool>,
    cv: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the threads of one hosted run share.
pub struct World {
    cores: u32,
    tsc_hz: u64,
    pool: Pool,
    bells: Vec<Bell>,
    lines: Mutex<Vec<String>>,
    sink: Option<Sink>,
    /// 0, or 1 + the core whose thread panicked.
    aborted: AtomicU64,
}

impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("World")
            .field("cores", &self.cores)
            .field("tsc_hz", &self.tsc_hz)
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl World {
    /// A world of `cores` cores over `pool`, printing to `sink` too.
    pub fn new(cores: u32, pool: Pool, sink: Option<Sink>) -> Arc<World> {
        Arc::new(World {
            cores,
            tsc_hz: clock::tsc_hz(),
            pool,
            bells: (0..cores).map(|_| Bell::default()).collect(),
            lines: Mutex::new(Vec::new()),
            sink,
            aborted: AtomicU64::new(0),
        })
    }

    /// Core `core`'s platform.
    pub fn platform(self: &Arc<World>, core: u32) -> HostedPlatform {
        assert!(core < self.cores, "core {core} of {}", self.cores);
        HostedPlatform {
            core,
            world: Arc::clone(self),
        }
    }

    /// Records a line as printed by `core`.
    pub fn print(&self, core: u32, text: &str) {
        let line = format!("[core {core}] {text}");
        if let Some(sink) = &self.sink {
            sink(&line);
        }
        lock(&self.lines).push(line);
    }

    /// Every line printed so far, in order.
    pub fn lines(&self) -> Vec<String> {
        lock(&self.lines).clone()
    }

    /// The measured TSC rate.
    pub fn tsc_hz(&self) -> u64 {
        self.tsc_hz
    }

    /// Marks the run as failed (a core's thread panicked) and wakes every
    /// core, so that their waits end and their monitors give up.
    pub fn abort(&self, core: u32) {
        let _ = self.aborted.compare_exchange(
            0,
            u64::from(core) + 1,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        for bell in &self.bells {
            *lock(&bell.rung) = true;
            bell.cv.notify_one();
        }
    }

    /// The core that aborted the run, if one did.
    pub fn aborted_by(&self) -> Option<u32> {
        match self.aborted.load(Ordering::SeqCst) {
            0 => None,
            by => Some((by - 1) as u32),
        }
    }
}

/// One thread's view of a hosted run.
#[derive(Debug, Clone)]
pub struct HostedPlatform {
    core: u32,
    world: Arc<World>,
}

impl Platform for HostedPlatform {
    fn core(&self) -> u32 {
        self.core
    }

    fn cores(&self) -> u32 {
        self.world.cores
    }

    fn tsc_hz(&self) -> u64 {
        self.world.tsc_hz
    }

    fn now(&self) -> u64 {
        clock::rdtsc()
    }

    fn pool_frames(&self) -> u64 {
        self.world.pool.frames()
    }

    fn map_pool(&mut self, first: u64, count: u64) -> Result<Arena, PlatformError> {
        self.world
            .pool
            .map(first, count)
            .ok_or(PlatformError::BadFrame)
    }

    fn notify(&mut self, core: u32) -> Result<(), PlatformError> {
        let bell = self
            .world
            .bells
            .get(core as usize)
            .ok_or(PlatformError::BadCore)?;
        *lock(&bell.rung) = true;
        bell.cv.notify_one();
        Ok(())
    }

    fn wait(&mut self, timeout: u64) -> bool {
        let bell = &self.world.bells[self.core as usize];
        let nanos = u128::from(timeout) * 1_000_000_000 / u128::from(self.world.tsc_hz.max(1));
        let limit = Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64);
        let rung = lock(&bell.rung);
        let (mut rung, _) = bell
            .cv
            .wait_timeout_while(rung, limit, |rung| !*rung)
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *rung)
    }

    fn aborted_by(&self) -> Option<u32> {
        self.world.aborted_by()
    }

    fn print(&mut self, line: fmt::Arguments<'_>) {
        self.world.print(self.core, &line.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(cores: u32) -> Arc<World> {
        World::new(cores, Pool::new(4).unwrap(), None)
    }

    #[test]
    fn a_notification_before_the_wait_ends_it_at_once() {
        let w = world(2);
        let (mut a, mut b) = (w.platform(0), w.platform(1));
        b.notify(0).unwrap();
        assert!(a.wait(u64::MAX / 2));
        // Consumed: the next wait times out.
        assert!(!a.wait(1000));
        assert_eq!(a.notify(2), Err(PlatformError::BadCore));
    }

    #[test]
    fn cores_map_the_same_frames() {
        let w = world(2);
        let (mut a, mut b) = (w.platform(0), w.platform(1));
        assert_eq!(
            a.map_pool(1, 2).unwrap().base(),
            b.map_pool(1, 2).unwrap().base()
        );
        assert_eq!(a.map_pool(3, 2).unwrap_err(), PlatformError::BadFrame);
        assert_eq!((a.pool_frames(), a.cores(), b.core()), (4, 2, 1));
    }

    #[test]
    fn lines_carry_the_kernel_prefix() {
        let w = world(2);
        w.platform(1).record("x", format_args!("a=1"));
        assert_eq!(w.lines(), ["[core 1] @flotilla/1 x a=1"]);
    }
}
