//! The few system calls that keep QEMU from outliving its runner.
//!
//! QEMU runs as the leader of its own process group, so the runner can kill
//! it together with anything it started, and with a parent-death signal, so
//! it dies with the host process even when that one is killed without
//! running destructors (Ctrl-C on the command line, for example).
//!
//! The exit is observed with `waitid(WNOWAIT)`, which leaves the child a
//! zombie: its process id, and so its process group id, stay reserved until
//! the runner reaps it after killing the group. No signal can reach a
//! recycled process id that way.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes `command` start in a new process group and die with the thread
/// that spawns it.
///
/// The parent-death signal fires when the spawning *thread* exits, so the
/// runner must stay on the thread that started it (or one that outlives it).
pub(crate) fn configure(command: &mut Command) {
    command.process_group(0);
    let parent = std::process::id();
    let on_child = move || {
        // SAFETY: prctl and getppid are async-signal-safe and touch no memory
        // of the parent; this runs in the child between fork and exec.
        let (set, ppid) = unsafe {
            (
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0),
                libc::getppid(),
            )
        };
        if set != 0 {
            return Err(io::Error::last_os_error());
        }
        // The parent may have died before the signal was armed.
        if u32::try_from(ppid).ok() != Some(parent) {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        Ok(())
    };
    // SAFETY: the closure only makes async-signal-safe system calls and does
    // not allocate (`last_os_error` and `from_raw_os_error` build an error
    // from a number), as `pre_exec` requires.
    unsafe {
        command.pre_exec(on_child);
    }
}

/// Sends SIGKILL to every process in group `pgid`. A group that no longer
/// exists is not an error.
pub(crate) fn kill_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: killpg only sends a signal; the group is ours because its
    // leader is our unreaped child.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

/// Blocks until child `pid` has exited, without reaping it.
///
/// Returns early, also without reaping, if `pid` is not (or no longer) a
/// child of this process.
pub(crate) fn wait_exited_keep_zombie(pid: u32) {
    let id: libc::id_t = pid;
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value of this plain C
        // struct.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable siginfo_t that outlives the
        // call; WNOWAIT leaves the child to be reaped by its owner.
        let rc = unsafe { libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}
