//! The monitor: one per core, in ring 3.
//!
//! It is a thin shell around `services::monitor`: it reads its argument
//! string (`services::monitor::args`: `inject=malformed`, `exp=...` and the
//! experiment's options; anything else is refused and the run fails),
//! builds the mesh with the other monitors, runs the requested experiment
//! as its job and, on core 0, ends the run with the result.
#![no_std]
#![no_main]

use services::exp::ExpJob;
use services::monitor::args::MonitorArgs;
use services::monitor::{Job, Monitor};
use services::platforms::ring3::{self, Ring3, record, sys};

fn fail(what: &str, why: core::fmt::Arguments<'_>) -> ! {
    ring3::print(format_args!("monitor failed: {what}: {why}"));
    record("monitor-error", format_args!("what={what}"));
    ring3::end_run(false)
}

#[unsafe(no_mangle)]
extern "C" fn program_main(core: u32, _cores: u32) -> u64 {
    let mut buf = [0u8; abi::MAX_ARGS];
    let len = match sys::args(&mut buf) {
        Ok(n) if n <= buf.len() => n,
        Ok(n) => fail(
            "args",
            format_args!(
                "the argument string is {n} bytes long (at most {})",
                buf.len()
            ),
        ),
        Err(e) => fail("args", format_args!("{}", e.name())),
    };
    let Ok(args) = core::str::from_utf8(&buf[..len]) else {
        fail("args", format_args!("the argument string is not UTF-8"))
    };
    let parsed = match MonitorArgs::parse(args) {
        Ok(parsed) => parsed,
        Err(why) => fail("args", format_args!("{why}")),
    };
    let mut platform = match Ring3::new() {
        Ok(p) => p,
        Err(e) => fail("info", format_args!("{}", e.name())),
    };
    let monitor = match Monitor::new(&mut platform, parsed.options) {
        Ok(m) => m,
        Err(e) => fail("setup", format_args!("{e}")),
    };
    let mut job = parsed.request.map(ExpJob::new);
    let stats = match monitor.run(job.as_mut().map(|j| j as &mut dyn Job<Ring3>)) {
        Ok(s) => s,
        Err(e) => fail("run", format_args!("{e}")),
    };
    if core == 0 {
        ring3::end_run(stats.all_ok);
    }
    // The other monitors stay, blocked until someone needs them.
    loop {
        sys::wait(0);
    }
}
