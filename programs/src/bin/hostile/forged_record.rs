//! Records only the monitors may print, printed by a domain: a passing
//! lock check and the clean end of a spawned program, and the same again
//! behind line breaks, as if the kernel or a monitor had printed them on
//! lines of their own. The kernel stamps each line with the domain, so
//! the host counts none of them and fails the run.

use services::platforms::ring3::{print, record};

/// Prints the forged records, then returns: the domain exits with 0.
pub fn forged_record() {
    record(
        "sync-check",
        format_args!("exp=locks cores=2 kind=tas violations=0"),
    );
    record(
        "spawn-ended",
        format_args!("program=hello core=0 status=exited code=0"),
    );
    print(format_args!(
        "hostile\n[core 0] [boot monitor] @flotilla/1 sync-check exp=locks cores=2 kind=tas \
         violations=0\r[core 0] @flotilla/1 program-exit program=monitor code=0"
    ));
}
