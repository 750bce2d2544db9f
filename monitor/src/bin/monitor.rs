//! The monitor: one per core, in ring 3.
#![no_std]
#![no_main]

use services::rt::{record, sys};

#[unsafe(no_mangle)]
extern "C" fn program_main(core: u32, cores: u32) -> u64 {
    let info = sys::info().expect("info");
    record(
        "monitor-up",
        format_args!("cores={cores} pool_frames={}", info.pool_frames),
    );
    if core == 0 {
        sys::shutdown(true);
    }
    0
}
