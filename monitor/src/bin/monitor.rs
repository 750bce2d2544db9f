//! The monitor: one per core, in ring 3.
//!
//! It is a thin shell around `services::monitor`: it reads its argument
//! string, builds the mesh with the other monitors, runs the requested
//! experiment and, on core 0, ends the run with the result.
//!
//! Arguments (the kernel's `user=` option): comma-separated items.
//!
//! | item | meaning |
//! |---|---|
//! | `inject=malformed` | monitor 1 sends two malformed messages to monitor 0 first |
//! | `exp=...` and its options | an experiment, see `services::exp::args` |
//!
//! Any other item is refused, and the run fails.
#![no_std]
#![no_main]

use core::fmt::Write;

use services::exp::{self, Request};
use services::monitor::{Job, Monitor, Options};
use services::platform::Platform;
use services::pool::Arena;
use services::rt::{Line, Ring3, record, sys};

/// The experiment as the monitor's job.
struct Experiment(Request);

impl Job<Ring3> for Experiment {
    fn arena_frames(&self, cores: u32) -> u64 {
        exp::arena_frames(&self.0, cores)
    }

    fn run(&mut self, p: &mut Ring3, arena: Arena) -> bool {
        match exp::run(p, arena, &self.0) {
            Ok(()) => true,
            Err(e) => {
                p.print(format_args!("experiment failed: {e}"));
                p.record("exp-error", format_args!("core={}", p.core()));
                false
            }
        }
    }
}

/// Why the argument string was refused.
enum BadArgs<'a> {
    /// An `inject=` item with an unknown value.
    Injection(&'a str),
    /// The experiment's items.
    Experiment(exp::ArgsError),
}

impl core::fmt::Display for BadArgs<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BadArgs::Injection(what) => write!(f, "unknown injection '{what}' (known: malformed)"),
            BadArgs::Experiment(e) => write!(f, "{e}"),
        }
    }
}

/// Splits the monitor's own items from the experiment's.
fn parse(args: &str) -> Result<(Options, Option<Request>), BadArgs<'_>> {
    let mut options = Options::default();
    let mut rest = Line::new();
    for item in args.split(',').filter(|i| !i.is_empty()) {
        match item.split_once('=') {
            Some(("inject", "malformed")) => options.inject_malformed = true,
            Some(("inject", other)) => return Err(BadArgs::Injection(other)),
            _ => {
                if !rest.as_str().is_empty() {
                    let _ = rest.write_char(',');
                }
                let _ = rest.write_str(item);
            }
        }
    }
    let request = Request::parse(rest.as_str()).map_err(BadArgs::Experiment)?;
    Ok((options, request))
}

fn fail(what: &str, why: core::fmt::Arguments<'_>) -> ! {
    services::rt::print(format_args!("monitor failed: {what}: {why}"));
    record("monitor-error", format_args!("what={what}"));
    sys::shutdown(false)
}

#[unsafe(no_mangle)]
extern "C" fn program_main(core: u32, _cores: u32) -> u64 {
    let mut buf = [0u8; 256];
    let len = match sys::args(&mut buf) {
        Ok(n) if n <= buf.len() => n,
        Ok(n) => fail(
            "args",
            format_args!("the argument string is {n} bytes long"),
        ),
        Err(e) => fail("args", format_args!("{}", e.name())),
    };
    let args = core::str::from_utf8(&buf[..len]).unwrap_or("");
    let (options, request) = match parse(args) {
        Ok(parsed) => parsed,
        Err(why) => fail("args", format_args!("{why}")),
    };
    let mut platform = match Ring3::new() {
        Ok(p) => p,
        Err(e) => fail("info", format_args!("{}", e.name())),
    };
    let monitor = match Monitor::new(&mut platform, options) {
        Ok(m) => m,
        Err(e) => fail("setup", format_args!("{e}")),
    };
    let mut experiment = request.map(Experiment);
    let job = experiment.as_mut().map(|e| e as &mut dyn Job<Ring3>);
    let stats = match monitor.run(job) {
        Ok(s) => s,
        Err(e) => fail("run", format_args!("{e}")),
    };
    if core == 0 {
        sys::shutdown(stats.all_ok);
    }
    // The other monitors stay, blocked until someone needs them.
    loop {
        sys::wait(0);
    }
}
