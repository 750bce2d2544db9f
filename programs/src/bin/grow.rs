//! `grow`: a spawned domain that fills 256 KiB of heap and reads it back.
//! Its heap starts unmapped; every first touch of a page is a fault that
//! the domain's own pager (`services::platforms::ring3::pager`) serves
//! from the domain's RAM. It prints a `grow` record with the bytes, the
//! faults the pager resolved and whether every byte read back.
#![no_std]
#![no_main]

extern crate alloc;

use services::platforms::ring3::{pager, record};

/// Bytes it allocates.
const BYTES: usize = 256 * 1024;

#[unsafe(no_mangle)]
extern "C" fn program_main(_core: u32, _cores: u32) -> u64 {
    let before = pager::faults();
    let mut v = alloc::vec![0u8; BYTES];
    for (i, b) in v.iter_mut().enumerate() {
        *b = (i * 7 + 3) as u8;
    }
    let ok = v.iter().enumerate().all(|(i, b)| *b == (i * 7 + 3) as u8);
    record(
        "grow",
        format_args!(
            "bytes={BYTES} faults={} before_main={before} ok={}",
            pager::faults(),
            u8::from(ok)
        ),
    );
    u64::from(!ok)
}
