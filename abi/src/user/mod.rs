//! The ring-3 side: typed wrappers around the `syscall` instruction.

mod cap;
mod raw;

pub use cap::*;
pub use raw::*;

use crate::cap::CPtr;
use crate::{Error, ProgramInfo, SysError, number};

/// Prints one line.
pub fn print(text: &str) -> Result<(), SysError> {
    // SAFETY: the text is borrowed for the call and only read.
    unsafe { raw(number::PRINT, text.as_ptr() as u64, text.len() as u64, 0) }.map(|_| ())
}

/// Where this program runs.
pub fn info() -> Result<ProgramInfo, SysError> {
    let mut info = ProgramInfo::default();
    let ptr = &raw mut info as u64;
    let len = core::mem::size_of::<ProgramInfo>() as u64;
    // SAFETY: the kernel writes exactly one `ProgramInfo` to `info`.
    unsafe { raw(number::INFO, ptr, len, 0) }.map(|_| info)
}

/// Lets other programs on this core run.
pub fn yield_now() {
    // SAFETY: no arguments.
    let _ = unsafe { raw(number::YIELD, 0, 0, 0) };
}

/// Blocks until notified (true) or `timeout` cycles pass (false).
pub fn wait(timeout: u64) -> bool {
    // SAFETY: no pointers.
    let woken = unsafe { raw(number::WAIT, timeout, 0, 0) };
    woken == Ok(1)
}

/// Notifies the core that the Notify capability `cap` names.
pub fn notify(cap: CPtr) -> Result<(), Error> {
    invoke(number::NOTIFY, [cap.raw(), 0, 0, 0, 0, 0]).map(|_| ())
}

/// Copies the argument string into `buf`; returns its full length.
pub fn args(buf: &mut [u8]) -> Result<usize, SysError> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    unsafe { raw(number::ARGS, buf.as_mut_ptr() as u64, buf.len() as u64, 0) }.map(|n| n as usize)
}

/// Ends this program.
pub fn exit(code: u64) -> ! {
    // SAFETY: no pointers; the call does not return.
    let _ = unsafe { raw(number::EXIT, code, 0, 0) };
    unreachable!("exit returned")
}

/// Ends the whole run, pass or fail, with the Shutdown capability
/// `cap`. Returns only when the kernel refuses: the error says why.
pub fn shutdown(cap: CPtr, pass: bool) -> Error {
    match invoke(number::SHUTDOWN, [cap.raw(), u64::from(!pass), 0, 0, 0, 0]) {
        Err(e) => e,
        Ok(_) => Error::Sys(SysError::BadCode),
    }
}

/// Reports a panic at `file:line` and ends the whole run with the
/// `panic` exit code. For the runtime's panic handler: it never panics
/// itself.
pub fn panic(file: &str, line: u32) -> ! {
    let line = u64::from(line);
    // SAFETY: the file name is borrowed for the call and only read.
    let _ = unsafe { raw(number::PANIC, file.as_ptr() as u64, file.len() as u64, line) };
    // The kernel refused the name (too long, say): report without it.
    // SAFETY: no pointers.
    let _ = unsafe { raw(number::PANIC, 0, 0, line) };
    // Not reached: a call without a name is always accepted. Should it
    // return all the same, end at least this program.
    exit(101)
}
