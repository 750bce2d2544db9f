//! Which ring-3 programs a core runs, from the boot modules.
//!
//! Every core runs the `monitor` program with the `user=` argument string.
//! With `test=user-probe`, the last core first runs `probe`. Without boot
//! modules the kernel has nothing to run: the boot core ends the run with
//! a pass once every core is up, and the others idle.

use boot::cmdline::SelfTest;
use boot::protocol::ExitCode;

use crate::console::record;
use crate::exit::exit;
use crate::{frames, initrd, percpu, user};

/// The monitor's module name.
pub const MONITOR: &str = "monitor";
/// The probe's module name.
pub const PROBE: &str = "probe";

fn spawn(name: &str, args: &str) {
    let Some(image) = initrd::find(name) else {
        let mut names: heapless::String<256> = heapless::String::new();
        let _ = initrd::names(&mut names);
        log::error!("no module '{name}' in the boot modules (they hold: {names})");
        exit(ExitCode::Fail);
    };
    if let Err(e) = user::spawn(name, image, args) {
        log::error!("cannot start '{name}': {e}");
        exit(ExitCode::Fail);
    }
}

/// Starts this core's programs; the boot core ends a module-less run.
pub fn start() -> ! {
    let core = percpu::this();
    let given = &core.params.given;
    if initrd::archive().is_none() {
        if core.id == 0 {
            exit(ExitCode::Pass);
        }
        loop {
            crate::arch::wait_for_interrupt();
        }
    }
    frames::init(core.first_free, given.partition.end);
    let args = given.config.user.as_str();
    let mut count = 1;
    if given.config.test == Some(SelfTest::UserProbe) && core.id == core.count - 1 {
        spawn(PROBE, args);
        count += 1;
    }
    spawn(MONITOR, args);
    record(
        "programs",
        format_args!("count={count} free_kib={}", frames::available() / 1024),
    );
    user::run()
}
