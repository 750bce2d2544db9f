//! `spin`: a program that never blocks. It spins on the TSC for four
//! steps of 20 ms and prints a `spin` record after each (`id` is its
//! starting TSC, so that two spinners on one core can be told apart), then
//! exits with 0. Two of them on one core show how the CPU driver shares
//! it: under `sched=rr` their records interleave; under `sched=block` the
//! first finishes before the second starts.
#![no_std]
#![no_main]

use services::platform::Platform;
use services::platforms::ring3::{self, Ring3, record};

/// Steps a spinner takes.
const STEPS: u64 = 4;

#[unsafe(no_mangle)]
extern "C" fn program_main(_core: u32, _cores: u32) -> u64 {
    let p = match Ring3::new() {
        Ok(p) => p,
        Err(e) => {
            ring3::print(format_args!("spin: info: {}", e.name()));
            return 1;
        }
    };
    let step = p.tsc_hz() / 50;
    let start = p.now();
    for k in 1..=STEPS {
        while p.now() < start + k * step {
            core::hint::spin_loop();
        }
        record("spin", format_args!("id={start} step={k} tsc={}", p.now()));
    }
    0
}
