//! The hosted runtime: the experiments of [`crate::exp`] on Linux threads
//! pinned to host cores, with no QEMU in between.
//!
//! One thread per logical core runs [`exp::run`] through a
//! [`HostedPlatform`]: the shared pool is one zeroed, page-aligned
//! allocation ([`Pool`]) that every thread maps, notifications are a flag
//! and a condition variable per core, the clock is `rdtsc`, the TSC rate is
//! measured once against the monotonic clock, and printed lines get the
//! kernel's `[core N] ` prefix. So the output of a hosted run reads exactly
//! like a ring-3 run's serial log.
//!
//! Before the threads start, the runtime prints one record of its own,
//! attributed to core 0:
//!
//! | kind | fields |
//! |---|---|
//! | `hosted` | `cores` (logical), `host_cpus`, `pin` (`none`, `round-robin`, `list`), `pinned` (threads pinned), `oversubscribed` (1 when several logical cores share a host core), `tsc_hz` |
//!
//! With more logical cores than host cores, [`PinPolicy::RoundRobin`] puts
//! logical core `i` on host core `i mod H`, and the record says that the
//! run is oversubscribed: spinning threads then share a host core, and
//! figures measure the host's scheduler as much as the memory system.

mod clock;
mod platform;
mod pool;

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

pub use clock::{rdtsc, tsc_hz};
pub use platform::{HostedPlatform, Sink, World};
pub use pool::Pool;

use crate::exp::{self, ExpError, Request};
use crate::platform::Platform;
use crate::pool::Arena;

/// Where the threads run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PinPolicy {
    /// Wherever the host's scheduler puts them.
    None,
    /// Logical core `i` on host core `i mod H` (`H` host cores).
    #[default]
    RoundRobin,
    /// Logical core `i` on host core `list[i mod list.len()]`.
    List(Vec<usize>),
}

impl PinPolicy {
    fn name(&self) -> &'static str {
        match self {
            PinPolicy::None => "none",
            PinPolicy::RoundRobin => "round-robin",
            PinPolicy::List(_) => "list",
        }
    }
}

/// A finished hosted run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostedRun {
    /// Every printed line, `[core N] ...`, in order.
    pub lines: Vec<String>,
    /// The host core each logical core was pinned to (`None`: not pinned).
    pub pinned: Vec<Option<usize>>,
    /// Host cores available.
    pub host_cpus: usize,
    /// Whether some host core ran several logical cores.
    pub oversubscribed: bool,
    /// The measured TSC rate.
    pub tsc_hz: u64,
}

/// Why a hosted run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostedError {
    /// Zero cores were asked for.
    NoCores,
    /// The pool could not be allocated.
    NoMemory {
        /// Frames asked for.
        frames: u64,
    },
    /// The experiment failed on a core.
    Failed {
        /// The core that failed first.
        core: u32,
        /// Why.
        error: ExpError,
        /// The lines printed up to then.
        lines: Vec<String>,
    },
    /// A core's thread panicked.
    Panicked {
        /// The core.
        core: u32,
        /// The panic message.
        message: String,
        /// The lines printed up to then.
        lines: Vec<String>,
    },
}

impl fmt::Display for HostedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostedError::NoCores => f.write_str("a hosted run needs at least one core"),
            HostedError::NoMemory { frames } => {
                write!(f, "cannot allocate a shared pool of {frames} frames")
            }
            HostedError::Failed { core, error, .. } => {
                write!(f, "the experiment failed on core {core}: {error}")
            }
            HostedError::Panicked { core, message, .. } => {
                write!(f, "core {core} panicked: {message}")
            }
        }
    }
}

impl std::error::Error for HostedError {}

/// The host cores to pin `cores` logical cores to, by `pin`.
pub fn placement(pin: &PinPolicy, cores: u32, host: &[usize]) -> Vec<Option<usize>> {
    let list: &[usize] = match pin {
        PinPolicy::None => &[],
        PinPolicy::RoundRobin => host,
        PinPolicy::List(list) => list,
    };
    (0..cores as usize)
        .map(|i| (!list.is_empty()).then(|| list[i % list.len()]))
        .collect()
}

/// Runs `req` on `cores` threads placed by `pin`; returns every printed
/// line.
pub fn run_experiment(req: &Request, cores: u32, pin: PinPolicy) -> Result<HostedRun, HostedError> {
    run_experiment_with(req, cores, pin, None)
}

/// As [`run_experiment`], also passing each line to `sink` as it is
/// printed.
pub fn run_experiment_with(
    req: &Request,
    cores: u32,
    pin: PinPolicy,
    sink: Option<Sink>,
) -> Result<HostedRun, HostedError> {
    if cores == 0 {
        return Err(HostedError::NoCores);
    }
    let frames = exp::arena_frames(req, cores);
    let pool = Pool::new(frames).ok_or(HostedError::NoMemory { frames })?;
    let world = World::new(cores, pool, sink);
    let host: Vec<usize> = core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let host_cpus = host.len().max(1);
    let wanted = placement(&pin, cores, &host);
    let mut distinct: Vec<usize> = wanted.iter().flatten().copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let placed = wanted.iter().flatten().count();
    let oversubscribed = cores as usize > host_cpus || distinct.len() < placed;
    world.print(
        0,
        &format!(
            "@flotilla/1 hosted cores={cores} host_cpus={host_cpus} pin={} pinned={placed} oversubscribed={} tsc_hz={}",
            pin.name(),
            u8::from(oversubscribed),
            world.tsc_hz()
        ),
    );
    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|core| {
                let world = Arc::clone(&world);
                let target = wanted[core as usize];
                s.spawn(move || core_thread(&world, core, frames, target, req))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("core threads catch their panics"))
            .collect()
    });
    let lines = world.lines();
    let pinned = outcomes.iter().map(|(_, _, pin)| *pin).collect();
    for (core, (result, panic, _)) in outcomes.iter().enumerate() {
        if let Some(message) = panic {
            return Err(HostedError::Panicked {
                core: core as u32,
                message: message.clone(),
                lines,
            });
        }
        if let Err(e) = result
            && !matches!(e, ExpError::Aborted { .. })
        {
            return Err(HostedError::Failed {
                core: core as u32,
                error: *e,
                lines,
            });
        }
    }
    if let Some((core, (Err(e), _, _))) = outcomes.iter().enumerate().find(|(_, o)| o.0.is_err()) {
        return Err(HostedError::Failed {
            core: core as u32,
            error: *e,
            lines,
        });
    }
    Ok(HostedRun {
        lines,
        pinned,
        host_cpus,
        oversubscribed,
        tsc_hz: world.tsc_hz(),
    })
}

/// How one core's thread ended: the experiment's result, a panic message,
/// the host core it was pinned to.
type Outcome = (Result<(), ExpError>, Option<String>, Option<usize>);

/// One logical core: pins itself, maps the arena, runs the experiment and
/// turns a panic into a message (after aborting the run, so that the other
/// cores stop waiting).
fn core_thread(
    world: &Arc<World>,
    core: u32,
    frames: u64,
    target: Option<usize>,
    req: &Request,
) -> Outcome {
    let pinned = target.filter(|&id| core_affinity::set_for_current(core_affinity::CoreId { id }));
    let mut p = world.platform(core);
    let base = match p.map_pool(0, frames) {
        Ok(base) => base,
        Err(e) => return (Err(ExpError::Platform(e)), None, pinned),
    };
    // SAFETY: `map_pool` mapped `frames` frames of the run's page-aligned
    // pool at `base`; the pool outlives every thread of the run, and the
    // experiments access it only atomically.
    let arena = unsafe { Arena::new(0, frames, base) };
    match catch_unwind(AssertUnwindSafe(|| exp::run(&mut p, arena, req))) {
        Ok(result) => (result, None, pinned),
        Err(payload) => {
            exp::abort(&mut p, arena);
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            (Err(ExpError::Aborted { by: core }), Some(message), pinned)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_wraps_around_the_host_cores() {
        let host = [0, 1];
        assert_eq!(
            placement(&PinPolicy::RoundRobin, 3, &host),
            [Some(0), Some(1), Some(0)]
        );
        assert_eq!(placement(&PinPolicy::None, 2, &host), [None, None]);
        assert_eq!(
            placement(&PinPolicy::List(vec![5]), 2, &host),
            [Some(5), Some(5)]
        );
        assert_eq!(placement(&PinPolicy::RoundRobin, 1, &[]), [None]);
    }
}
