//! `lmptest`: the parent of the LMP test and benchmark (`test=lmp`), on
//! every core before its monitor.
//!
//! It builds two `pingpong` domains through the monitor's loader without
//! starting them, and puts their capabilities in place: in ping's cspace a
//! badged Endpoint to pong (slot 1), an Endpoint to ping itself (slot 3)
//! and a read-only Frame to send (slot 4, the boot-module archive); in
//! pong's an Endpoint to ping (slot 2). Then it starts pong and ping,
//! waits for both to end, takes everything back and prints an `lmptest`
//! record with how each ended. It exits with 0 when both exited with 0.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use abi::cap::{CPtr, rights, slot, ty};
use abi::disp::Status;
use abi::user as sys;
use services::platform::{Platform, SpawnError};
use services::platforms::ring3::{self, Ring3, record};

/// A root slot of this program's for endpoints before they are copied.
const SCRATCH: u32 = 230;
/// The badge on ping's endpoint to pong (`pingpong::BADGE`).
const BADGE: u64 = 0x77;

fn l1(i: u32) -> CPtr {
    CPtr::l1(i)
}

fn setup(p: &mut Ring3) -> Result<(u32, u32), SpawnError> {
    let info = *p.info();
    let step = |step: &'static str| move |error| SpawnError::Invocation { step, error };
    let root = l1(slot::ROOT_CNODE);
    let ping = p.loader().prepare(&info, "pingpong")?;
    let pong = p.loader().prepare(&info, "pingpong")?;
    let l = p.loader();
    let (ping_cs, pong_cs) = (l.root_cnode(ping)?, l.root_cnode(pong)?);
    let (ping_d, pong_d) = (l.dispatcher(ping)?, l.dispatcher(pong)?);
    // Endpoints are retyped from the dispatchers they name.
    sys::cap_retype(pong_d, ty::ENDPOINT, 0, 0, 1, root, SCRATCH)
        .map_err(step("endpoint to pong"))?;
    sys::cap_mint(l1(SCRATCH), ping_cs, 1, rights::ALL, BADGE)
        .map_err(step("badge it for ping"))?;
    sys::cap_retype(ping_d, ty::ENDPOINT, 0, 0, 1, root, SCRATCH + 1)
        .map_err(step("endpoint to ping"))?;
    sys::cap_copy(l1(SCRATCH + 1), pong_cs, 2).map_err(step("give it to pong"))?;
    sys::cap_copy(l1(SCRATCH + 1), ping_cs, 3).map_err(step("give ping its own"))?;
    sys::cap_copy(l1(slot::INITRD), ping_cs, 4).map_err(step("a frame for ping to send"))?;
    for s in [SCRATCH, SCRATCH + 1] {
        sys::cap_delete(l1(s)).map_err(step("drop the scratch endpoints"))?;
    }
    p.loader().start(pong)?;
    p.loader().start(ping)?;
    Ok((ping, pong))
}

fn name(s: &Result<Status, SpawnError>) -> &'static str {
    match s {
        Ok(Status::Exited(0)) => "exited-0",
        Ok(Status::Exited(_)) => "exited-nonzero",
        Ok(Status::Killed(_)) => "killed",
        Ok(Status::Revoked) => "revoked",
        Ok(Status::Panicked) => "panicked",
        Ok(Status::Running | Status::NotStarted) => "still-running",
        Err(_) => "error",
    }
}

// The runtime calls the program's entry by this name.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn program_main(core: u32, _cores: u32) -> u64 {
    let mut p = match Ring3::new() {
        Ok(p) => p,
        Err(e) => {
            ring3::print(format_args!("lmptest: info: {}", e.name()));
            return 1;
        }
    };
    let (ping, pong) = match setup(&mut p) {
        Ok(pair) => pair,
        Err(e) => {
            ring3::print(format_args!("lmptest: setup: {e}"));
            record("lmptest", format_args!("core={core} setup=failed"));
            return 1;
        }
    };
    let ended = |s: &Result<Status, SpawnError>| !matches!(s, Ok(Status::Running));
    let hz = p.tsc_hz();
    let deadline = p.now() + 60 * hz;
    let (mut a, mut b) = (p.child(ping), p.child(pong));
    while !(ended(&a) && ended(&b)) && p.now() < deadline {
        p.wait(hz / 100);
        (a, b) = (p.child(ping), p.child(pong));
    }
    record(
        "lmptest",
        format_args!("core={core} ping={} pong={}", name(&a), name(&b)),
    );
    let _ = p.release(ping);
    let _ = p.release(pong);
    let _ = p.loader().reset();
    u64::from(!(matches!(a, Ok(Status::Exited(0))) && matches!(b, Ok(Status::Exited(0)))))
}
