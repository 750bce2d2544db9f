//! `probe`: checks that the CPU driver refuses bad system-call arguments
//! with typed errors, then faults in ring 3 on purpose.
//!
//! Each check prints a `syscall-check` record with the call, the error it
//! expected and the result it got; the kernel must then end the probe for
//! its fault and let the core's other programs run.
#![no_std]
#![no_main]

use abi::cap::{CPtr, CapError, slot};
use abi::{Error, SysError};
use services::platforms::ring3::{record, sys};

fn check(call: &str, expected: impl Into<Error>, got: Result<u64, impl Into<Error>>) {
    let expected = expected.into();
    let got = got.map_err(Into::into);
    let got_name = match got {
        Ok(_) => "ok",
        Err(e) => e.name(),
    };
    let pass = got == Err(expected);
    record(
        "syscall-check",
        format_args!(
            "call={call} expected={} got={got_name} pass={}",
            expected.name(),
            u8::from(pass)
        ),
    );
}

#[unsafe(no_mangle)]
extern "C" fn program_main(_core: u32, _cores: u32) -> u64 {
    let kernel = 0xffff_ffff_8020_0000u64;
    // SAFETY: the arguments are deliberately bad; the kernel must check
    // them and write nothing.
    unsafe {
        check(
            "print-kernel-pointer",
            SysError::BadPointer,
            sys::raw(abi::number::PRINT, kernel, 16, 0),
        );
        check(
            "print-unmapped",
            SysError::BadPointer,
            sys::raw(abi::number::PRINT, 0x3000_0000, 16, 0),
        );
        check(
            "print-too-long",
            SysError::BadLength,
            sys::raw(abi::number::PRINT, 0x40_0000, 1 << 20, 0),
        );
        check("print-not-utf8", SysError::BadUtf8, {
            let bad = [0xffu8, 0xfe, 0xfd];
            sys::raw(abi::number::PRINT, bad.as_ptr() as u64, 3, 0)
        });
        check(
            "info-read-only",
            SysError::BadPointer,
            sys::raw(
                abi::number::INFO,
                0x40_0000,
                core::mem::size_of::<abi::ProgramInfo>() as u64,
                0,
            ),
        );
        check(
            "info-wrong-size",
            SysError::BadLength,
            sys::raw(abi::number::INFO, 0x40_0000, 3, 0),
        );
        check(
            "notify-without-a-capability",
            CapError::NoSuchSlot,
            sys::raw6(
                abi::number::NOTIFY,
                [CPtr::l1(slot::NOTIFY).raw(), 0, 0, 0, 0, 0],
            ),
        );
        // The call that once mapped the channel pool without a capability
        // is gone: the pool is reached only through its Frames.
        check(
            "map-pool-is-gone",
            SysError::UnknownSyscall,
            sys::raw(abi::number::RETIRED_5, 0, 1, 0),
        );
        check(
            "shutdown-bad-code",
            SysError::BadCode,
            sys::raw(abi::number::SHUTDOWN, CPtr::l1(slot::SHUTDOWN).raw(), 9, 0),
        );
        check(
            "unknown-syscall",
            SysError::UnknownSyscall,
            sys::raw(999, 0, 0, 0),
        );
    }
    record("probe", format_args!("checks=10 next=fault"));
    // A deliberate page fault in ring 3: the kernel must end this program
    // and keep the core running.
    // SAFETY: not safe, on purpose.
    unsafe { core::ptr::read_volatile(0x10 as *const u64) }
}
