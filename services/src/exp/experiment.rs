//! The shape of every experiment: the [`Experiment`] trait, and the
//! opening every run shares ([`Run`]: the plan, the layout, the timer and
//! the `exp-start` record).

use alloc::string::String;
use core::fmt;
use core::hash::Hash;

use urpc::bench::TimerResolution;

use super::catalog::{ExpDone, ExpStart, StartFields};
use super::record::emit;
use super::request::{ArgsError, Request};
use super::shared::Control;
use super::{ExpError, stats};
use crate::platform::Platform;
use crate::shm::Shared;

/// One experiment: its arguments, the shared memory it needs and its run.
/// An experiment is registered by one line in the list of
/// `exp::registry`.
pub trait Experiment: Sized + 'static {
    /// The name in `exp=NAME`, in its records and in result paths.
    const NAME: &'static str;
    /// Its own argument keys, in the order they are printed.
    const KEYS: &'static [&'static str];

    /// Its arguments as given (`None` fields take their defaults).
    type Args: Copy + fmt::Debug + Default + PartialEq + Eq + Hash;
    /// Its parameters, defaults applied, for a number of cores.
    type Plan;
    /// Where its regions are in the arena.
    type Layout;

    /// Parses `key=value` into `args` if `key` is one of [`Self::KEYS`];
    /// returns whether it was.
    fn parse_key(args: &mut Self::Args, key: &str, value: &str) -> Result<bool, ArgsError>;

    /// Refuses a whole request that no core could run (its samples do not
    /// fit a heap, say). Accepts by default.
    fn check(_req: &Request, _args: &Self::Args) -> Result<(), ArgsError> {
        Ok(())
    }

    /// Prints the arguments that were set, each as `,key=value`, so that
    /// [`Self::parse_key`] reads them back.
    fn write_args(args: &Self::Args, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// The plan of `req` on `cores` cores, or why this machine cannot run
    /// it.
    fn plan(req: &Request, args: &Self::Args, cores: u32) -> Result<Self::Plan, ExpError>;

    /// The layout of the arena for `plan` on `cores` cores.
    fn layout(plan: &Self::Plan, cores: u32) -> Self::Layout;

    /// Bytes of the arena that `lay` covers.
    fn arena_bytes(lay: &Self::Layout) -> usize;

    /// The `rounds=` of `exp-start`.
    fn rounds(req: &Request) -> u32 {
        req.rounds()
    }

    /// Runs the experiment on this core, once the opening is done.
    fn run<P: Platform>(p: &mut P, run: Run<'_, Self>) -> Result<(), ExpError>;
}

/// What every run starts from: the request, the plan and the layout, the
/// arena, this core and the timer's step and overhead.
pub struct Run<'a, E: Experiment> {
    /// The request.
    pub req: &'a Request,
    /// Its arguments.
    pub args: E::Args,
    /// The plan.
    pub plan: E::Plan,
    /// The layout.
    pub lay: E::Layout,
    /// This core's view of the control block.
    pub(crate) ctl: Control<'a>,
    /// The arena.
    pub(crate) mem: Shared<'a>,
    /// This core.
    pub me: u32,
    /// Cores taking part.
    pub cores: u32,
    /// The timer's step and the `tsc_begin`/`tsc_end` overhead.
    pub timer: TimerResolution,
    /// The request as `exp-start` prints it.
    args_text: String,
}

impl<'a, E: Experiment> Run<'a, E> {
    /// The opening of `req`'s run on this core.
    pub(crate) fn open(
        req: &'a Request,
        args: &E::Args,
        ctl: Control<'a>,
        mem: Shared<'a>,
    ) -> Result<Run<'a, E>, ExpError> {
        let cores = ctl.cores();
        let plan = E::plan(req, args, cores)?;
        let lay = E::layout(&plan, cores);
        Ok(Run {
            req,
            args: *args,
            plan,
            lay,
            me: ctl.me(),
            cores,
            timer: stats::timer(),
            args_text: alloc::format!("{req}"),
            ctl,
            mem,
        })
    }

    /// The `tsc_begin`/`tsc_end` overhead, cycles.
    pub fn overhead(&self) -> u64 {
        self.timer.overhead
    }

    /// On core 0, prints `exp-start`: the common fields around the
    /// experiment's `own`.
    pub fn start<'s, P: Platform, F: StartFields<'s>>(&'s self, p: &mut P, own: F) {
        if self.me == 0 {
            let start = ExpStart {
                exp: E::NAME,
                cores: self.cores,
                quick: self.req.quick,
                rounds: E::rounds(self.req),
                own,
                timer_resolution: Some(self.timer.step),
                tsc_overhead: Some(self.timer.overhead),
                tsc_hz: p.tsc_hz(),
                args: &self.args_text,
            };
            emit(p, &start);
        }
    }

    /// On core 0, prints `exp-done`.
    pub fn done<P: Platform>(&self, p: &mut P) {
        if self.me == 0 {
            let done = ExpDone {
                exp: E::NAME,
                cores: self.cores,
                ok: true,
            };
            emit(p, &done);
        }
    }
}

/// Something to do with an experiment's arguments, whichever experiment
/// they belong to.
pub(crate) trait Visit {
    /// What it gives.
    type Out;
    /// Does it with experiment `E`'s arguments.
    fn visit<E: Experiment>(self, args: &E::Args) -> Self::Out;
}

/// Something to do to an experiment's arguments, whichever experiment
/// they belong to.
pub(crate) trait VisitMut {
    /// What it gives.
    type Out;
    /// Does it to experiment `E`'s arguments.
    fn visit<E: Experiment>(self, args: &mut E::Args) -> Self::Out;
}
