//! `readonly`: a spawned domain that takes write access away from one of
//! its own heap pages (`VnodeProtect` on its heap's page table), reads the
//! page, and then writes it, on purpose: the CPU driver must end it for
//! that write. Before the write it checks that rights only go down
//! (`missing-right`) and that an entry without a mapping is `not-mapped`,
//! and prints a `readonly` record; a second record after the write would
//! mean the protection did not hold.
#![no_std]
#![no_main]

extern crate alloc;

use abi::cap::{CPtr, domain, rights};
use abi::{CapError, Error};
use services::platforms::ring3::{record, sys};

#[unsafe(no_mangle)]
extern "C" fn program_main(_core: u32, _cores: u32) -> u64 {
    let mut v = alloc::vec![7u8; 64];
    let page = ((v.as_ptr() as u64 - abi::HEAP_BASE) / abi::FRAME) as u32;
    let pt = CPtr::l1(domain::HEAP_PT);
    let lowered = sys::vnode_protect(pt, page, rights::READ).is_ok();
    let raise = sys::vnode_protect(pt, page, rights::READ | rights::WRITE);
    let unmapped = sys::vnode_protect(pt, 500, rights::READ);
    let read = core::hint::black_box(&v)[0] == 7;
    let name = |r: Result<(), Error>| r.err().map_or("ok", Error::name);
    record(
        "readonly",
        format_args!(
            "lowered={} read={} raise={} unmapped={}",
            u8::from(lowered),
            u8::from(read),
            name(raise),
            name(unmapped)
        ),
    );
    let ok = lowered
        && read
        && raise == Err(Error::Cap(CapError::MissingRight))
        && unmapped == Err(Error::Cap(CapError::NotMapped));
    if !ok {
        return 1;
    }
    core::hint::black_box(&mut v)[0] = 8;
    record("readonly", format_args!("wrote=1"));
    0
}
