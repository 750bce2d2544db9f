//! `hello`: the smallest program a monitor spawns. It says where it runs,
//! checks that it holds no authority but its own, and exits with 0 (1 if
//! it holds more).
//!
//! A domain spawned from user level gets a cspace whose slot 0 names its
//! root CNode, with the RAM, page table and CNode its pager pages the heap
//! with (`abi::cap::domain`): the Kernel, RAM and boot-module slots that a
//! monitor's first cspace has are empty, the capability window of the
//! kernel-kept tables is not its to map into, and the channel pool is not
//! its to map (it holds none of the pool's frames).
#![no_std]
#![no_main]

use abi::cap::{CPtr, slot, ty};
use abi::{CapError, Error};
use services::platform::{Platform, PlatformError};
use services::platforms::ring3::{Ring3, print, record, sys};

#[unsafe(no_mangle)]
extern "C" fn program_main(core: u32, cores: u32) -> u64 {
    print(format_args!("hello from core {core} of {cores}"));
    let root = sys::cap_identify(CPtr::l1(slot::ROOT_CNODE)).is_ok_and(|c| c.ty == ty::CNODE);
    let empty = [
        slot::KERNEL,
        slot::RAM,
        slot::POOL,
        slot::INITRD,
        slot::NOTIFY,
        slot::SHUTDOWN,
    ]
    .into_iter()
    .all(|s| sys::cap_identify(CPtr::l1(s)) == Err(Error::Cap(CapError::EmptySlot)));
    let window = sys::cap_map(CPtr::l1(slot::ROOT_CNODE), abi::CAP_MAP_BASE, 1, 0, 1)
        == Err(Error::Cap(CapError::NotPermitted));
    let pool =
        Ring3::new().is_ok_and(|mut p| p.map_pool(0, 1).err() == Some(PlatformError::Denied));
    let isolated = root && empty && window && pool;
    record(
        "hello",
        format_args!("core={core} cores={cores} isolated={}", u8::from(isolated)),
    );
    u64::from(!isolated)
}
