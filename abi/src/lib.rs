//! The system-call ABI between the CPU driver and ring-3 programs.
//!
//! Both sides of the boundary use this crate: the CPU driver decodes and
//! checks calls with [`Syscall::decode`], and ring-3 code makes them with the
//! typed wrappers in `user` (built only for the bare-metal target).
//!
//! # Calling convention
//!
//! `syscall` with the number in `rax` and up to six arguments in `rdi`,
//! `rsi`, `rdx`, `r10`, `r8`, `r9`. On return `rax` is 0 on success or an
//! error code, and `rdx` holds the result. `rcx` and `r11` are clobbered, as
//! the instruction requires; every other register is kept.
//!
//! Every argument is checked: a bad pointer, length, core id, frame or
//! capability address returns an error and changes nothing.
//!
//! # Modules
//!
//! - [`number`]: the call numbers, in `rax`.
//! - [`syscall`]: the calls ([`Syscall`]), their arguments and decoding.
//! - [`error`]: the error codes ([`SysError`], [`Error`]) and the helpers
//!   that turn `(rax, rdx)` into a result.
//! - [`cap`]: capability addresses, types, rights, slots and their errors.
//! - [`layout`]: the address space of a program.
//! - [`program`]: what a program is given at its start ([`ProgramInfo`],
//!   [`StartTest`]).
//! - [`lmp`]: local message passing.
//! - [`disp`]: dispatchers started from user level.
//! - [`attack`]: the attacks the hostile test programs make.
//! - `user`: the ring-3 wrappers (bare-metal target only).
//!
//! The items most code needs are re-exported here.
#![no_std]

pub mod attack;
pub mod cap;
pub mod disp;
pub mod error;
pub mod layout;
pub mod lmp;
pub mod number;
pub mod program;
pub mod syscall;
#[cfg(target_os = "none")]
pub mod user;

pub use cap::{CPtr, CapError};
pub use error::{Error, SysError, invoke_result, result};
pub use layout::*;
pub use lmp::{LMP_BUFFER, LmpMessage};
pub use program::{ProgramInfo, StartTest};
pub use syscall::{MAX_ARGS, MAX_PANIC_FILE, MAX_PRINT, Syscall};
