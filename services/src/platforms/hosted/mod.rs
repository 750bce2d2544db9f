//! The hosted runtime: whole monitors, and the experiments they run, on
//! Linux threads pinned to host cores, with no QEMU in between.
//!
//! [`run_monitors`] runs one [`Monitor`] per logical core, each on its own
//! thread, through a [`HostedPlatform`]: the shared pool is one zeroed,
//! page-aligned allocation ([`Pool`]) laid out as the boot core lays out
//! the real one, notifications are a flag and a condition variable per
//! core, the clock is `rdtsc`, the TSC rate is measured once against the
//! monotonic clock, and printed lines get the kernel's `[core N] ` prefix.
//! The monitors build the same mesh over the same router as in ring 3 and
//! then run the job. So the output of a hosted run reads like a ring-3
//! run's serial log, without the kernel's stamp that names the printing
//! program (`boot::stamp`): every line here is a monitor's. [`run_experiment`] is [`run_monitors`] with an
//! experiment as the job.
//!
//! A panic on one thread ends the run as a panic in ring 3 does: the
//! thread marks the world aborted and wakes every core, every other
//! monitor and experiment gives up, and the run returns
//! [`HostedError::Panicked`] naming the core.
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
use std::sync::{Arc, Mutex};

pub use clock::{rdtsc, tsc_hz};
pub use platform::{HostedPlatform, Sink, World};
pub use pool::Pool;

use crate::exp::{self, ExpError, ExpJob, Request};
use crate::monitor::{self, Job, Monitor, MonitorError, Stats};
use crate::shm::Layout;

/// Where the threads run; named in results by the variant in kebab case.
#[derive(Clone, Debug, Default, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
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
    /// The policy's name in results: `none`, `round-robin` or `list`.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// How [`run_monitors`] runs.
#[derive(Default)]
pub struct MonitorOptions {
    /// The monitors' own options.
    pub monitor: monitor::Options,
    /// Where the threads run.
    pub pin: PinPolicy,
    /// The experiment every monitor runs once the mesh is up, if any.
    pub job: Option<Request>,
    /// Receives each line as it is printed.
    pub sink: Option<Sink>,
    /// A deliberate failure: this core's thread panics once its monitor is
    /// set up (the hosted counterpart of a ring-3 panic, for tests).
    pub panic_on: Option<u32>,
}

/// A finished hosted run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostedRun {
    /// Every printed line, `[core N] ...`, in order.
    pub lines: Vec<String>,
    /// Each monitor's counters, by core.
    pub stats: Vec<Stats>,
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
    /// A monitor stopped.
    Monitor {
        /// The core.
        core: u32,
        /// Why.
        error: MonitorError,
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

impl HostedError {
    /// The lines printed before the failure (none for a run that did not
    /// start).
    pub fn lines(&self) -> &[String] {
        match self {
            HostedError::NoCores | HostedError::NoMemory { .. } => &[],
            HostedError::Failed { lines, .. }
            | HostedError::Monitor { lines, .. }
            | HostedError::Panicked { lines, .. } => lines,
        }
    }
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
            HostedError::Monitor { core, error, .. } => {
                write!(f, "monitor {core} stopped: {error}")
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

/// Runs `req` as the job of `cores` monitors on threads placed by `pin`;
/// returns every printed line.
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
    let options = MonitorOptions {
        pin,
        job: Some(*req),
        sink,
        ..MonitorOptions::default()
    };
    run_monitors(cores, options)
}

/// How one core's thread ended.
enum Ended {
    Ran(Result<Stats, MonitorError>),
    Panicked(String),
}

/// Runs one monitor per logical core on its own thread, placed by
/// `options.pin`, over one pool laid out for `cores` cores; each builds
/// the mesh and runs `options.job`. Returns every printed line and each
/// monitor's counters.
pub fn run_monitors(cores: u32, options: MonitorOptions) -> Result<HostedRun, HostedError> {
    if cores == 0 {
        return Err(HostedError::NoCores);
    }
    let job_frames = options.job.map_or(0, |r| exp::arena_frames(&r, cores));
    let frames = Layout::new(cores).frames_needed() + job_frames;
    let pool = Pool::new(frames).ok_or(HostedError::NoMemory { frames })?;
    let world = World::new(cores, pool, options.sink);
    let host: Vec<usize> = core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let host_cpus = host.len().max(1);
    let wanted = placement(&options.pin, cores, &host);
    let mut distinct: Vec<usize> = wanted.iter().flatten().copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let placed = wanted.iter().flatten().count();
    let oversubscribed = cores as usize > host_cpus || distinct.len() < placed;
    world.print(
        0,
        &format!(
            "@flotilla/1 hosted cores={cores} host_cpus={host_cpus} pin={} pinned={placed} oversubscribed={} tsc_hz={}",
            options.pin.name(),
            u8::from(oversubscribed),
            world.tsc_hz()
        ),
    );
    let error = Arc::new(Mutex::new(None));
    let monitor_options = options.monitor;
    let job = options.job;
    let panic_on = options.panic_on;
    let ended: Vec<(Ended, Option<usize>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|core| {
                let world = Arc::clone(&world);
                let target = wanted[core as usize];
                let error = Arc::clone(&error);
                s.spawn(move || {
                    let pinned = target
                        .filter(|&id| core_affinity::set_for_current(core_affinity::CoreId { id }));
                    let mut p = world.platform(core);
                    let body = AssertUnwindSafe(|| {
                        let monitor = Monitor::new(&mut p, monitor_options)?;
                        if panic_on == Some(core) {
                            panic!("deliberate panic on core {core}");
                        }
                        let mut exp_job = job.map(ExpJob::new);
                        let stats = monitor
                            .run(exp_job.as_mut().map(|j| j as &mut dyn Job<HostedPlatform>));
                        if let Some(e) = exp_job.and_then(|j| j.error)
                            && !matches!(e, ExpError::Aborted { .. })
                        {
                            let mut first = error.lock().unwrap_or_else(|p| p.into_inner());
                            first.get_or_insert((core, e));
                        }
                        stats
                    });
                    let end = match catch_unwind(body) {
                        Ok(result) => Ended::Ran(result),
                        Err(payload) => {
                            world.abort(core);
                            Ended::Panicked(panic_message(payload.as_ref()))
                        }
                    };
                    (end, pinned)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| (Ended::Panicked("lost thread".into()), None))
            })
            .collect()
    });
    let lines = world.lines();
    if let Some((core, (Ended::Panicked(message), _))) = ended
        .iter()
        .enumerate()
        .find(|(_, e)| matches!(e.0, Ended::Panicked(_)))
    {
        return Err(HostedError::Panicked {
            core: core as u32,
            message: message.clone(),
            lines,
        });
    }
    let first_error = *error.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((core, error)) = first_error {
        return Err(HostedError::Failed { core, error, lines });
    }
    let mut stats = Vec::with_capacity(ended.len());
    for (core, (end, _)) in ended.iter().enumerate() {
        match end {
            Ended::Ran(Ok(s)) => stats.push(*s),
            Ended::Ran(Err(error)) => {
                return Err(HostedError::Monitor {
                    core: core as u32,
                    error: *error,
                    lines,
                });
            }
            // Reported above.
            Ended::Panicked(_) => {}
        }
    }
    Ok(HostedRun {
        lines,
        stats,
        pinned: ended.iter().map(|(_, pin)| *pin).collect(),
        host_cpus,
        oversubscribed,
        tsc_hz: world.tsc_hz(),
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_policies_keep_their_names() {
        let names = [
            PinPolicy::None,
            PinPolicy::RoundRobin,
            PinPolicy::List(vec![1]),
        ]
        .map(|p| p.name());
        assert_eq!(names, ["none", "round-robin", "list"]);
    }

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
