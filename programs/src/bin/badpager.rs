//! `badpager`: a spawned domain that replaces its runtime's pager with an
//! exception handler at an address where nothing is mapped, then touches
//! heap it has not touched yet, on purpose. The fault enters the handler,
//! whose first instruction faults in turn: the CPU driver must end the
//! domain at once, reporting the fault inside the handler (`handler=1`).
//! A `badpager` record after the touch would mean it did not.
#![no_std]
#![no_main]

extern crate alloc;

use services::platforms::ring3::{record, sys};

/// Where the broken handler "is": inside the image range, never mapped.
const NOWHERE: u64 = 0x7000_0000;

#[unsafe(no_mangle)]
extern "C" fn program_main(_core: u32, _cores: u32) -> u64 {
    // A stack for it in the mapped part of the program's own stack, far
    // below what `program_main` uses.
    let sp = abi::STACK_TOP - 32 * 1024;
    if let Err(e) = sys::fault_handler(NOWHERE, sp) {
        record("badpager", format_args!("registered=0 error={}", e.name()));
        return 1;
    }
    // Far past the pages the runtime touched: the first write faults.
    let v = alloc::vec![1u8; 128 * 1024];
    record("badpager", format_args!("touched={}", v[v.len() - 1]));
    0
}
