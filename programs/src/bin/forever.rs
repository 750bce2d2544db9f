//! `forever`: a program that never blocks and never ends by itself. It
//! ends only when its time is taken away: its Dispatcher or its address
//! space deleted (`disptest` does both), or the run's end.
#![no_std]
#![no_main]

// The ring-3 runtime: entry, heap and panic handler.
use services as _;

#[unsafe(no_mangle)]
extern "C" fn program_main(_core: u32, _cores: u32) -> u64 {
    loop {
        core::hint::spin_loop();
    }
}
