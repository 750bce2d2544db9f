//! The bounds of one retype and of one cspace, at and one past them.

use super::unit::refused;
use crate::cspace::{CSpace, CapAddr};
use crate::mdb::Mdb;
use crate::ops::RetypeArgs;
use crate::ops::retype::MAX_RETYPE_COUNT;
use crate::types::{Cap, CapType, MAX_CNODE_BITS, PAGE};
use abi::CapError;

/// Root CNode base (kernel memory) and a large RAM capability.
const ROOT: u64 = 0xf000_0000;
const RAM: (u64, u64) = (0x1_0000_0000, 1 << 30);

/// Root slots of the two halves of the RAM: CNodes are carved from the
/// first, frames from the second.
const FOR_CNODES: u32 = 250;
const FOR_FRAMES: u32 = 251;

fn boot(root_bits: u32) -> (Mdb, CSpace) {
    let mut db = Mdb::new(0);
    let cs = db.boot_cspace(ROOT, root_bits).expect("root");
    db.boot_insert(cs, 1, Cap::new(CapType::Ram, RAM.0, RAM.1))
        .expect("ram");
    let halves = args(CapType::Ram, 0, RAM.1 / 2, 2);
    db.retype(cs, CapAddr::l1(1), halves, CapAddr::l1(0), FOR_CNODES)
        .expect("halves");
    (db, cs)
}

/// A frame of the second half in root slot 100.
fn one_frame(db: &mut Mdb, cs: CSpace) {
    let frame = args(CapType::Frame, 0, PAGE, 1);
    db.retype(cs, CapAddr::l1(FOR_FRAMES), frame, CapAddr::l1(0), 100)
        .expect("a frame");
}

fn args(ty: CapType, offset: u64, size: u64, count: u32) -> RetypeArgs {
    RetypeArgs {
        ty,
        offset,
        size,
        count,
    }
}

/// Retypes CNodes of 4096 slots from the start of the RAM into root slots
/// `first..first + count`.
fn big_cnodes(db: &mut Mdb, cs: CSpace, first: u32, count: u32) {
    let a = args(CapType::CNode, 0, 1 << MAX_CNODE_BITS, count);
    db.retype(cs, CapAddr::l1(FOR_CNODES), a, CapAddr::l1(0), first)
        .expect("cnodes");
}

#[test]
fn one_retype_makes_as_many_objects_as_the_largest_cnode_holds() {
    assert_eq!(MAX_RETYPE_COUNT, 4096);
    let (mut db, cs) = boot(8);
    big_cnodes(&mut db, cs, 2, 1);
    let frames = |count: u32| args(CapType::Frame, 0, PAGE, count);
    let half = CapAddr::l1(FOR_FRAMES);
    // One past: refused, whatever the room.
    refused(&mut db, CapError::BadArgument, |d| {
        d.retype(cs, half, frames(4097), CapAddr::l1(2), 0)
    });
    let fx = db
        .retype(cs, half, frames(4096), CapAddr::l1(2), 0)
        .expect("4096 frames");
    assert_eq!(fx.len(), 4096);
    // The root, the RAM, its halves, the CNode and the frames.
    assert_eq!(db.len(), 1 + 1 + 2 + 1 + 4096);
    let last = CapAddr::l2_wide(2, 4095).expect("address");
    let cap = db.identify(cs, last).expect("the last frame");
    assert_eq!(cap.base, RAM.0 + RAM.1 / 2 + 4095 * PAGE);
    db.check_invariants().expect("invariants");
}

#[test]
fn a_cspace_has_more_than_65536_usable_slots() {
    // A root of 256 slots whose slots 2..19 hold CNodes of 4096: 73,728
    // slots at depth two, every one of them reachable.
    let (mut db, cs) = boot(8);
    big_cnodes(&mut db, cs, 2, 18);
    one_frame(&mut db, cs);
    let mut usable = 0u32;
    for l1 in 2..20 {
        for l2 in [0, 255, 256, 4095] {
            let at = CapAddr::l2_wide(l1, l2).expect("address");
            db.copy(cs, CapAddr::l1(100), CapAddr::l1(l1), l2)
                .expect("a copy into the slot");
            assert_eq!(db.identify(cs, at).map(|c| c.ty), Ok(CapType::Frame));
        }
        usable += db.identify(cs, CapAddr::l1(l1)).expect("cnode").slots();
    }
    assert!(usable > 65_536, "{usable}");
    // The narrow form reaches only the first 256 of each.
    let narrow = CapAddr::l2(2, 255).expect("address");
    assert_eq!(db.identify(cs, narrow).map(|c| c.ty), Ok(CapType::Frame));
    db.check_invariants().expect("invariants");
}

#[test]
fn one_past_the_largest_cspace_is_refused() {
    // The largest root: 4096 slots, each may hold a CNode of 4096.
    let (mut db, cs) = boot(MAX_CNODE_BITS);
    big_cnodes(&mut db, cs, 4095, 1);
    one_frame(&mut db, cs);
    db.copy(cs, CapAddr::l1(100), CapAddr::l1(4095), 4095)
        .expect("the very last slot");
    let last = CapAddr::l2_wide(4095, 4095).expect("address");
    assert_eq!(db.identify(cs, last).map(|c| c.ty), Ok(CapType::Frame));
    // Past the root, past the CNode, and addresses that cannot be made.
    let past_root = CapAddr::l2_wide(4096, 0).expect("address");
    refused(&mut db, CapError::NoSuchSlot, |d| d.identify(cs, past_root));
    refused(&mut db, CapError::NoSuchSlot, |d| {
        d.identify(cs, CapAddr::l1(4096))
    });
    refused(&mut db, CapError::NoSuchSlot, |d| {
        d.copy(cs, CapAddr::l1(100), CapAddr::l1(4095), 4096)
    });
    assert_eq!(CapAddr::l2_wide(0, 4096), None);
    assert_eq!(CapAddr::l2_wide(1 << 20, 0), None);
    // No CNode, root or not, has more than 4096 slots.
    let mut other = Mdb::new(0);
    refused(&mut other, CapError::BadArgument, |d| {
        d.boot_cspace(ROOT, MAX_CNODE_BITS + 1)
    });
    refused(&mut db, CapError::BadArgument, |d| {
        d.retype(
            cs,
            CapAddr::l1(FOR_FRAMES),
            args(CapType::CNode, 0, 2 << MAX_CNODE_BITS, 1),
            CapAddr::l1(0),
            5,
        )
    });
    // A wide address decodes from its registers; other widths do not.
    let wide = u64::from(abi::cap::DEPTH_TWO_WIDE);
    assert_eq!(CapAddr::decode(u64::from(last.bits), wide), Ok(last));
    assert_eq!(CapAddr::decode(0, 0x82), Err(CapError::BadArgument));
}
