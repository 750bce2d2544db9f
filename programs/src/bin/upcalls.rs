//! `upcalls`: a spawned domain with a run upcall (`ring3::runs`). It sums
//! the numbers it counts for 100 ms without ever blocking, so the time
//! slice takes its turns; after each, the CPU driver enters its upcall,
//! which counts, and then resumes the sum where it was. An `upcalls` record
//! gives the upcalls, the turns the last one was told of, and whether the
//! sum came out right (every register survived every upcall).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};

use abi::{CapError, Error, SysError};
use services::platform::Platform;
use services::platforms::ring3::{Ring3, record, runs, sys};

static UPCALLS: AtomicU64 = AtomicU64::new(0);
static TURNS: AtomicU64 = AtomicU64::new(0);

fn upcall(turns: u64) {
    UPCALLS.fetch_add(1, Ordering::Relaxed);
    TURNS.store(turns, Ordering::Relaxed);
}

#[unsafe(no_mangle)]
extern "C" fn program_main(_core: u32, _cores: u32) -> u64 {
    let Ok(p) = Ring3::new() else {
        return 1;
    };
    // Bad registrations first: a run entry in the kernel half, a
    // misaligned stack.
    let kernel_half = sys::dispatcher_upcall(0xffff_8000_0000_0000, abi::STACK_TOP);
    let misaligned = sys::dispatcher_upcall(abi::IMAGE_BASE, abi::STACK_TOP - 8);
    let refused = kernel_half == Err(Error::Sys(SysError::BadPointer))
        && misaligned == Err(Error::Cap(CapError::Misaligned));
    record(
        "upcalls",
        format_args!("bad-registrations-refused={}", u8::from(refused)),
    );
    if !refused {
        return 1;
    }
    if runs::on_run(upcall).is_err() {
        record("upcalls", format_args!("registered=0"));
        return 1;
    }
    let end = p.now() + p.tsc_hz() / 10;
    let (mut n, mut sum) = (0u64, 0u64);
    while p.now() < end {
        for _ in 0..1000 {
            sum = sum.wrapping_add(core::hint::black_box(n));
            n += 1;
        }
    }
    let ok = sum == n.wrapping_mul(n.wrapping_sub(1)) / 2;
    let upcalls = UPCALLS.load(Ordering::Relaxed);
    record(
        "upcalls",
        format_args!(
            "upcalls={upcalls} turns={} counted={n} ok={}",
            TURNS.load(Ordering::Relaxed),
            u8::from(ok)
        ),
    );
    u64::from(!ok)
}
