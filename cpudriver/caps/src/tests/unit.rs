//! Unit tests: every refusal, with the state checked unchanged, and the
//! effects of the operations that succeed.

use super::prop::{Pair, RAM_A, RAM_B, setup};
use crate::cspace::{CSpace, CapAddr};
use crate::effect::Effect;
use crate::mdb::{Mdb, RemoteRelations, SlotView};
use crate::ops::RetypeArgs;
use crate::rights::Rights;
use crate::types::{Cap, CapType};
use crate::vnode::Level;
use crate::wire::{self, WIRE_LEN, WireError};
use abi::CapError;
use alloc::vec::Vec;

pub(super) const ROOT: CapAddr = CapAddr {
    bits: 0,
    depth: crate::cspace::Depth::One,
};
pub(super) const KERNEL: CapAddr = CapAddr {
    bits: 3,
    depth: crate::cspace::Depth::One,
};

pub(super) fn l1(i: u32) -> CapAddr {
    CapAddr::l1(i)
}

pub(super) fn l2(i: u32, j: u8) -> CapAddr {
    CapAddr::l2(i, j).expect("address")
}

/// The database after the shared setup: RAM pieces of 32 KiB in root slots
/// 22..32, a level-2 CNode in 4, Pml4 5, Pdpt 6, Pd 7, Pt 8 and 9, frames
/// of 4 KiB in slots 0..4 of the level-2 CNode, RAM_B in 2, Kernel in 3.
pub(super) fn fresh() -> (Mdb, CSpace) {
    let mut pair = Pair::boot();
    for op in setup() {
        pair.apply(&op).expect("setup");
    }
    (pair.imp, pair.cs)
}

pub(super) fn state(db: &Mdb) -> Vec<SlotView> {
    db.slots().collect()
}

/// Runs `f`, which must be refused with `want` and change nothing.
pub(super) fn refused<T: core::fmt::Debug>(
    db: &mut Mdb,
    want: CapError,
    f: impl FnOnce(&mut Mdb) -> Result<T, CapError>,
) {
    let before = state(db);
    let got = f(db);
    assert_eq!(got.as_ref().err(), Some(&want), "{got:?}");
    assert_eq!(state(db), before, "a refusal changed the state");
    db.check_invariants().expect("invariants");
}

pub(super) fn frame_args(size: u64, count: u32) -> RetypeArgs {
    RetypeArgs {
        ty: CapType::Frame,
        offset: 0,
        size,
        count,
    }
}

fn fixed(ty: CapType) -> RetypeArgs {
    RetypeArgs {
        ty,
        offset: 0,
        size: 0,
        count: 1,
    }
}

#[test]
fn addresses_resolve_with_typed_errors() {
    let (mut db, cs) = fresh();
    refused(&mut db, CapError::NoSuchSlot, |d| d.identify(cs, l1(32)));
    refused(&mut db, CapError::NoSuchSlot, |d| d.identify(cs, l2(4, 16)));
    refused(&mut db, CapError::NoSuchSlot, |d| d.identify(cs, l2(40, 0)));
    refused(&mut db, CapError::EmptySlot, |d| d.identify(cs, l1(10)));
    refused(&mut db, CapError::EmptySlot, |d| d.identify(cs, l2(10, 0)));
    refused(&mut db, CapError::EmptySlot, |d| d.identify(cs, l2(4, 9)));
    refused(&mut db, CapError::WrongType, |d| d.identify(cs, l2(3, 0)));
    refused(&mut db, CapError::BadArgument, |_| CapAddr::decode(1, 3));
    assert!(CapAddr::l2(1 << 24, 0).is_none());
    let frame = db.identify(cs, l2(4, 0)).expect("frame");
    assert_eq!(
        (frame.ty, frame.size, frame.rights),
        (CapType::Frame, 4096, Rights::ALL)
    );
}

#[test]
fn retype_refusals() {
    let (mut db, cs) = fresh();
    refused(&mut db, CapError::WrongType, |d| {
        d.retype(cs, l2(4, 0), frame_args(4096, 1), ROOT, 10)
    });
    let args = |ty, offset, size, count| RetypeArgs {
        ty,
        offset,
        size,
        count,
    };
    // Of the RAM in slot 22, into root slot 10.
    for (want, what) in [
        (CapError::WrongType, fixed(CapType::Endpoint)),
        (CapError::WrongType, fixed(CapType::Kernel)),
        (CapError::BadArgument, frame_args(4096, 0)),
        (CapError::BadArgument, frame_args(0, 1)),
        (CapError::Misaligned, frame_args(100, 1)),
        // RAM into RAM of the same size would look like a copy.
        (CapError::BadArgument, args(CapType::Ram, 0, 0x8000, 1)),
        (CapError::BadArgument, args(CapType::CNode, 0, 3, 1)),
        (CapError::BadArgument, args(CapType::Pt, 0, 4096, 1)),
        // A VNode takes its natural alignment.
        (CapError::Misaligned, args(CapType::Pt, 1024, 0, 1)),
        // Never outside the source.
        (CapError::OutOfRange, frame_args(4096, 9)),
        (CapError::OutOfRange, args(CapType::Frame, 0x8000, 4096, 1)),
        (
            CapError::OutOfRange,
            args(CapType::Frame, u64::MAX - 4095, 4096, 1),
        ),
        (CapError::OutOfRange, args(CapType::Frame, 0, 1 << 63, 2)),
    ] {
        refused(&mut db, want, |d| d.retype(cs, l1(22), what, ROOT, 10));
    }
    let dispatcher_ok = args(CapType::Dispatcher, 1024, 0, 1);
    // Descendants: the RAM of slot 21 was retyped into frames.
    for src in [l1(21), l1(1)] {
        refused(&mut db, CapError::HasDescendants, |d| {
            d.retype(cs, src, frame_args(4096, 1), ROOT, 10)
        });
    }
    // Destinations.
    for (want, src, args, dest, slot) in [
        (CapError::SlotOccupied, l1(22), frame_args(4096, 2), ROOT, 9),
        (CapError::NoSuchSlot, l1(22), frame_args(4096, 2), ROOT, 31),
        (
            CapError::NoSuchSlot,
            l1(22),
            frame_args(4096, 1),
            ROOT,
            u32::MAX,
        ),
        (CapError::WrongType, l1(22), frame_args(4096, 1), l1(5), 0),
    ] {
        refused(&mut db, want, |d| d.retype(cs, src, args, dest, slot));
    }
    // Rights and ownership.
    db.mint(cs, l1(23), ROOT, 10, Rights::READ | Rights::GRANT, 0)
        .expect("mint");
    refused(&mut db, CapError::MissingRight, |d| {
        d.retype(cs, l1(10), frame_args(4096, 1), ROOT, 11)
    });
    db.mint(cs, ROOT, ROOT, 11, Rights::READ | Rights::GRANT, 0)
        .expect("mint root");
    refused(&mut db, CapError::MissingRight, |d| {
        d.retype(cs, l1(22), frame_args(4096, 1), l1(11), 12)
    });
    // The dispatcher at an offset that fits its alignment is fine.
    let fx = db
        .retype(cs, l1(22), dispatcher_ok, ROOT, 12)
        .expect("dispatcher");
    assert_eq!(
        fx,
        [Effect::Created {
            ty: CapType::Dispatcher,
            base: RAM_A.0 + 6 * 0x8000 + 1024,
            size: 1024
        }]
    );
}

#[test]
fn retype_never_leaves_the_source_and_frees_on_delete() {
    let (mut db, cs) = fresh();
    let src = db.identify(cs, l1(22)).expect("ram");
    let fx = db
        .retype(cs, l1(22), frame_args(0x4000, 2), ROOT, 10)
        .expect("retype");
    for e in &fx {
        let Effect::Created { base, size, .. } = *e else {
            panic!("{e:?}")
        };
        assert!(base >= src.base && base + size <= src.base + src.size);
    }
    refused(&mut db, CapError::HasDescendants, |d| {
        d.retype(cs, l1(22), frame_args(4096, 1), ROOT, 12)
    });
    db.delete(cs, l1(10)).expect("delete");
    refused(&mut db, CapError::HasDescendants, |d| {
        d.retype(cs, l1(22), frame_args(4096, 1), ROOT, 12)
    });
    let fx = db.delete(cs, l1(11)).expect("delete");
    assert_eq!(
        fx,
        [Effect::Destroyed {
            ty: CapType::Frame,
            base: src.base + 0x4000,
            size: 0x4000
        }]
    );
    db.retype(cs, l1(22), frame_args(4096, 1), ROOT, 12)
        .expect("retyped again");
}

#[test]
fn copy_and_mint_refusals() {
    let (mut db, cs) = fresh();
    db.mint(cs, l1(22), ROOT, 10, Rights::READ, 0)
        .expect("mint");
    refused(&mut db, CapError::MissingRight, |d| {
        d.copy(cs, l1(10), ROOT, 11)
    });
    refused(&mut db, CapError::MissingRight, |d| {
        d.mint(cs, l1(10), ROOT, 11, Rights::READ, 0)
    });
    db.mint(cs, l1(22), ROOT, 11, Rights::READ | Rights::GRANT, 0)
        .expect("mint");
    refused(&mut db, CapError::MissingRight, |d| {
        d.mint(cs, l1(11), ROOT, 12, Rights::WRITE, 0)
    });
    refused(&mut db, CapError::WrongType, |d| {
        d.mint(cs, l1(22), ROOT, 12, Rights::ALL, 7)
    });
    refused(&mut db, CapError::SlotOccupied, |d| {
        d.copy(cs, l1(22), ROOT, 23)
    });
    refused(&mut db, CapError::EmptySlot, |d| {
        d.copy(cs, l1(12), ROOT, 13)
    });
    // Endpoints: badge once.
    db.retype(cs, l1(22), fixed(CapType::Dispatcher), ROOT, 12)
        .expect("dispatcher");
    db.retype(cs, l1(12), fixed(CapType::Endpoint), ROOT, 13)
        .expect("endpoint");
    refused(&mut db, CapError::HasDescendants, |d| {
        d.retype(cs, l1(12), fixed(CapType::Endpoint), ROOT, 14)
    });
    db.mint(cs, l1(13), ROOT, 14, Rights::ALL, 42)
        .expect("badge");
    assert_eq!(db.identify(cs, l1(14)).expect("ep").badge, 42);
    refused(&mut db, CapError::NotPermitted, |d| {
        d.mint(cs, l1(14), ROOT, 15, Rights::ALL, 43)
    });
    db.copy(cs, l1(14), ROOT, 15).expect("copy keeps the badge");
    assert_eq!(db.identify(cs, l1(15)).expect("ep").badge, 42);
    // Deleting the dispatcher takes its endpoints along.
    let fx = db.delete(cs, l1(12)).expect("delete dispatcher");
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Destroyed {
            ty: CapType::Endpoint,
            ..
        }
    )));
    assert!(db.identify(cs, l1(13)).is_err() && db.identify(cs, l1(15)).is_err());
}

#[test]
fn map_refusals() {
    let (mut db, cs) = fresh();
    let (pml4, pdpt, pd, pt) = (l1(5), l1(6), l1(7), l1(8));
    let frame = l2(4, 0);
    let rw = Rights::READ | Rights::WRITE;
    // (refusal, table, index, source, rights, offset, count)
    let cases = [
        (CapError::WrongType, frame, 0, frame, rw, 0, 1),
        (CapError::WrongType, pt, 0, l1(22), rw, 0, 1),
        (CapError::WrongType, pml4, 0, frame, rw, 0, 1),
        (CapError::WrongType, pml4, 0, pd, rw, 0, 1),
        (CapError::WrongType, pt, 0, l1(9), rw, 0, 1),
        (CapError::BadArgument, pml4, 0, pdpt, rw, 0, 2),
        (CapError::BadArgument, pt, 0, frame, rw, 0, 0),
        (CapError::BadArgument, pt, 0, frame, Rights::WRITE, 0, 1),
        (CapError::OutOfRange, pt, 512, frame, rw, 0, 1),
        (CapError::OutOfRange, pt, u32::MAX, frame, rw, 0, 1),
        (CapError::OutOfRange, pt, 0, frame, rw, 0, 2),
        (CapError::OutOfRange, pt, 0, frame, rw, 4096, 1),
        (CapError::OutOfRange, pt, 0, frame, rw, u64::MAX, 1),
        (CapError::Misaligned, pt, 0, frame, rw, 100, 1),
        (CapError::KernelHalf, pml4, 256, pdpt, rw, 0, 1),
        (CapError::KernelHalf, pml4, 511, pdpt, rw, 0, 1),
    ];
    for (want, table, index, src, rights, offset, count) in cases {
        refused(&mut db, want, |d| {
            d.map(cs, table, index, src, rights, offset, count)
        });
    }
    // A frame mapped writable needs WRITE; executable needs EXECUTE.
    db.mint(cs, frame, ROOT, 10, Rights::READ | Rights::GRANT, 0)
        .expect("read-only copy");
    refused(&mut db, CapError::MissingRight, |d| {
        d.map(cs, pt, 0, l1(10), rw, 0, 1)
    });
    refused(&mut db, CapError::MissingRight, |d| {
        d.map(cs, pt, 0, l1(10), Rights::READ | Rights::EXECUTE, 0, 1)
    });
    // A VNode changed through a copy without WRITE.
    db.mint(cs, pt, ROOT, 11, Rights::READ | Rights::GRANT, 0)
        .expect("read-only table");
    refused(&mut db, CapError::MissingRight, |d| {
        d.map(cs, l1(11), 0, frame, rw, 0, 1)
    });
    // Large pages need aligned frames.
    let big = RetypeArgs {
        ty: CapType::Frame,
        offset: 0,
        size: 1 << 21,
        count: 1,
    };
    db.retype(cs, l1(2), big, ROOT, 12).expect("2 MiB frame");
    let fx = db.map(cs, pd, 1, l1(12), rw, 0, 1).expect("large page");
    assert_eq!(
        fx,
        [Effect::Map {
            table: db.identify(cs, pd).expect("pd").base,
            level: Level::Pd,
            index: 1,
            count: 1,
            target: RAM_B.0,
            page: 1 << 21,
            rights: rw
        }]
    );
    refused(&mut db, CapError::Misaligned, |d| {
        d.map(cs, pd, 2, l2(4, 1), rw, 0, 1)
    });
    // In use.
    db.map(cs, pt, 3, frame, rw, 0, 1).expect("map");
    refused(&mut db, CapError::AlreadyMapped, |d| {
        d.map(cs, pt, 4, frame, rw, 0, 1)
    });
    refused(&mut db, CapError::WouldOverlap, |d| {
        d.map(cs, pt, 3, l2(4, 1), rw, 0, 1)
    });
    db.map(cs, pml4, 255, pdpt, rw, 0, 1)
        .expect("last user entry");
}

#[test]
fn unmap_protect_and_delete_produce_unmaps() {
    let (mut db, cs) = fresh();
    let (pd, pt, frame) = (l1(7), l1(8), l2(4, 0));
    let rw = Rights::READ | Rights::WRITE;
    let pt_base = db.identify(cs, pt).expect("pt").base;
    refused(&mut db, CapError::NotMapped, |d| d.unmap(cs, pt, 0));
    refused(&mut db, CapError::OutOfRange, |d| d.unmap(cs, pt, 512));
    refused(&mut db, CapError::WrongType, |d| d.unmap(cs, frame, 0));
    db.map(cs, pt, 7, frame, rw, 0, 1).expect("map");
    refused(&mut db, CapError::NotMapped, |d| {
        d.protect(cs, pt, 8, Rights::READ)
    });
    refused(&mut db, CapError::MissingRight, |d| {
        d.protect(cs, pt, 7, Rights::READ | Rights::EXECUTE)
    });
    refused(&mut db, CapError::BadArgument, |d| {
        d.protect(cs, pt, 7, Rights::empty())
    });
    let fx = db.protect(cs, pt, 7, Rights::READ).expect("protect");
    assert_eq!(
        fx,
        [Effect::Protect {
            table: pt_base,
            level: Level::Pt,
            index: 7,
            count: 1,
            rights: Rights::READ
        }]
    );
    refused(&mut db, CapError::MissingRight, |d| {
        d.protect(cs, pt, 7, rw)
    });
    let unmap = Effect::Unmap {
        table: pt_base,
        level: Level::Pt,
        index: 7,
        count: 1,
    };
    assert_eq!(db.unmap(cs, pt, 7).expect("unmap"), [unmap]);
    // Deleting a mapped frame unmaps it.
    db.map(cs, pt, 7, frame, rw, 0, 1).expect("map again");
    let fx = db.delete(cs, frame).expect("delete");
    assert!(fx.contains(&unmap), "{fx:?}");
    // Revoking the RAM under a mapped frame unmaps it too.
    db.map(cs, pt, 8, l2(4, 1), rw, 0, 1).expect("map");
    db.map(cs, pd, 0, pt, rw, 0, 1).expect("table");
    let fx = db.revoke(cs, l1(21)).expect("revoke");
    assert!(
        fx.contains(&Effect::Unmap {
            table: pt_base,
            level: Level::Pt,
            index: 8,
            count: 1
        }),
        "{fx:?}"
    );
    // Deleting a mapped table unmaps it from its parent and clears its own
    // entries.
    db.map(cs, pt, 9, l1(9), rw, 0, 1)
        .expect_err("a table is no page");
    let pd_base = db.identify(cs, pd).expect("pd").base;
    let fx = db.delete(cs, pt).expect("delete pt");
    assert!(
        fx.contains(&Effect::Unmap {
            table: pd_base,
            level: Level::Pd,
            index: 0,
            count: 1
        }),
        "{fx:?}"
    );
    assert!(
        fx.contains(&Effect::Destroyed {
            ty: CapType::Pt,
            base: pt_base,
            size: 4096
        }),
        "{fx:?}"
    );
    db.check_invariants().expect("invariants");
}

#[test]
fn revoke_deletes_copies_and_descendants_but_not_itself() {
    let (mut db, cs) = fresh();
    db.copy(cs, l1(21), ROOT, 10).expect("copy");
    db.copy(cs, l2(4, 2), l1(4), 8).expect("copy frame");
    let before = db.len();
    let fx = db.revoke(cs, l1(21)).expect("revoke");
    // The copy and four frames and the frame's copy are gone.
    assert_eq!(db.len(), before - 6);
    assert_eq!(
        fx.iter()
            .filter(|e| matches!(e, Effect::Destroyed { .. }))
            .count(),
        4
    );
    assert!(db.identify(cs, l1(21)).is_ok());
    db.retype(cs, l1(21), frame_args(4096, 1), ROOT, 10)
        .expect("free again");
    // Deleting the last copy of a CNode deletes what it holds.
    let fx = db.delete(cs, l1(4)).expect("delete cnode");
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Destroyed {
            ty: CapType::CNode,
            ..
        }
    )));
    db.check_invariants().expect("invariants");
}

#[test]
fn monitor_operations_need_the_kernel_cap() {
    let (mut db, cs) = fresh();
    let frame = Cap::new(CapType::Frame, 0x8000_0000, 8192);
    let bytes = wire::to_bytes(&frame);
    let none = RemoteRelations::empty();
    refused(&mut db, CapError::NoKernelCap, |d| {
        d.create_received(cs, l1(22), &bytes, 1, none, ROOT, 10)
    });
    refused(&mut db, CapError::EmptySlot, |d| {
        d.create_received(cs, l1(10), &bytes, 1, none, ROOT, 10)
    });
    refused(&mut db, CapError::NoKernelCap, |d| {
        d.create_notify(cs, l1(22), 1, ROOT, 10)
    });
    refused(&mut db, CapError::NoKernelCap, |d| {
        d.set_locked(cs, l1(22), l1(22), true)
    });
    refused(&mut db, CapError::NoKernelCap, |d| {
        d.set_remote(cs, l1(22), l1(22), none)
    });
    refused(&mut db, CapError::Malformed, |d| {
        d.create_received(cs, KERNEL, &bytes[..10], 1, none, ROOT, 10)
    });
    let disp = wire::to_bytes(&Cap::new(CapType::Dispatcher, 0x9000_0000, 1024));
    refused(&mut db, CapError::NotPermitted, |d| {
        d.create_received(cs, KERNEL, &disp, 1, none, ROOT, 10)
    });
    let partial = wire::to_bytes(&Cap::new(CapType::Ram, RAM_A.0 - 4096, 8192));
    refused(&mut db, CapError::WouldOverlap, |d| {
        d.create_received(cs, KERNEL, &partial, 1, none, ROOT, 10)
    });
    // A RAM inside a local frame would make the frame a parent.
    db.retype(cs, l1(25), frame_args(0x8000, 1), ROOT, 12)
        .expect("frame");
    let inside = wire::to_bytes(&Cap::new(CapType::Ram, RAM_A.0 + 9 * 0x8000 + 4096, 4096));
    refused(&mut db, CapError::WouldOverlap, |d| {
        d.create_received(cs, KERNEL, &inside, 1, none, ROOT, 10)
    });
    // A copy of a local object with the same owner is accepted.
    let around = wire::to_bytes(&Cap::new(CapType::Ram, RAM_A.0 + 9 * 0x8000, 0x8000));
    db.create_received(cs, KERNEL, &around, 0, none, ROOT, 13)
        .expect("around");
    db.delete(cs, l1(13)).expect("delete");
    // A copy of a local object must agree on its owner.
    let ram_b = wire::to_bytes(&Cap::new(CapType::Ram, RAM_B.0, RAM_B.1));
    refused(&mut db, CapError::NotPermitted, |d| {
        d.create_received(cs, KERNEL, &ram_b, 1, none, ROOT, 10)
    });
    db.create_received(cs, KERNEL, &bytes, 1, RemoteRelations::COPIES, ROOT, 10)
        .expect("receive");
    // Core 1 holds a copy: deleting this one destroys nothing.
    assert_eq!(db.export(cs, l1(10)).expect("export"), bytes);
    assert_eq!(db.export_with(cs, KERNEL, l1(10)), Ok(bytes));
    assert_eq!(
        db.export_with(cs, l1(22), l1(10)),
        Err(CapError::NoKernelCap)
    );
    assert_eq!(db.export_with(cs, l1(11), l1(10)), Err(CapError::EmptySlot));
    refused(&mut db, CapError::NotPermitted, |d| d.export(cs, l1(5)));
    // A program's delete of it needs core 1: the monitor's destroys
    // nothing.
    refused(&mut db, CapError::RetryThroughMonitor, |d| {
        d.delete(cs, l1(10))
    });
    assert_eq!(db.delete_agreed(cs, KERNEL, l1(10)).expect("delete"), []);
    let away = wire::to_bytes(&Cap::new(CapType::Ram, 0xa000_0000, 0x4000));
    db.create_received(cs, KERNEL, &away, 1, none, ROOT, 10)
        .expect("receive ram");
    // Owned by core 1: a program's retype goes through the monitor, and
    // even the monitor's may not retype it here.
    refused(&mut db, CapError::RetryThroughMonitor, |d| {
        d.retype(cs, l1(10), frame_args(4096, 1), ROOT, 11)
    });
    refused(&mut db, CapError::NotPermitted, |d| {
        d.retype_agreed(cs, KERNEL, l1(10), frame_args(4096, 1), ROOT, 11)
    });
    // Remote descendants: a program's retype needs agreement, and the
    // monitor's is blocked until they are gone.
    db.set_remote(cs, KERNEL, l1(22), RemoteRelations::DESCENDANTS)
        .expect("relations");
    refused(&mut db, CapError::RetryThroughMonitor, |d| {
        d.retype(cs, l1(22), frame_args(4096, 1), ROOT, 11)
    });
    refused(&mut db, CapError::HasDescendants, |d| {
        d.retype_agreed(cs, KERNEL, l1(22), frame_args(4096, 1), ROOT, 11)
    });
    refused(&mut db, CapError::NotPermitted, |d| {
        d.set_remote(cs, KERNEL, l1(5), RemoteRelations::COPIES)
    });
    // A locked capability is refused until unlocked.
    db.set_locked(cs, KERNEL, l1(23), true).expect("lock");
    refused(&mut db, CapError::Locked, |d| d.identify(cs, l1(23)));
    refused(&mut db, CapError::Locked, |d| d.delete(cs, l1(23)));
    refused(&mut db, CapError::Locked, |d| d.revoke(cs, l1(1)));
    db.set_locked(cs, KERNEL, l1(23), false).expect("unlock");
    db.delete(cs, l1(23)).expect("delete");
    db.create_notify(cs, KERNEL, 3, ROOT, 11).expect("notify");
    assert_eq!(db.identify(cs, l1(11)).expect("notify").base, 3);
}

#[test]
fn wire_round_trips_and_refuses_malformed_bytes() {
    let caps = [
        Cap::new(CapType::Ram, 0x10_0000, 0x2000),
        Cap::new(CapType::Frame, 0x20_0000, 4096),
        Cap::new(CapType::CNode, 0x1000, 64 << 4),
        Cap::new(CapType::Pml4, 0x3000, 4096),
        Cap::new(CapType::Pt, 0x4000, 4096),
        Cap::new(CapType::Dispatcher, 0x400, 1024),
        Cap {
            badge: 9,
            ..Cap::new(CapType::Endpoint, 0x400, 1024)
        },
        Cap::new(CapType::Notify, 7, 0),
        Cap::new(CapType::Kernel, 0, 0),
        Cap::NULL,
    ];
    for cap in caps {
        assert_eq!(Cap::from_bytes(&cap.to_bytes()), Ok(cap));
    }
    let good = wire::to_bytes(&caps[1]);
    let with = |i: usize, v: u8| {
        let mut b = good;
        b[i] = v;
        b
    };
    assert_eq!(
        wire::from_bytes(&good[..WIRE_LEN - 1]),
        Err(WireError::Length)
    );
    assert_eq!(wire::from_bytes(&with(0, 2)), Err(WireError::Version));
    assert_eq!(wire::from_bytes(&with(1, 99)), Err(WireError::Type));
    assert_eq!(wire::from_bytes(&with(2, 0x10)), Err(WireError::Rights));
    assert_eq!(wire::from_bytes(&with(5, 1)), Err(WireError::Reserved));
    assert_eq!(wire::from_bytes(&with(8, 1)), Err(WireError::Shape));
    assert_eq!(wire::from_bytes(&with(24, 1)), Err(WireError::Shape));
    let overflow = Cap::new(CapType::Frame, u64::MAX - 4095, 8192);
    assert_eq!(
        wire::from_bytes(&wire::to_bytes(&overflow)),
        Err(WireError::Shape)
    );
}

#[test]
fn boot_refusals() {
    let mut db = Mdb::new(0);
    refused(&mut db, CapError::BadArgument, |d| d.boot_cspace(0x1000, 0));
    refused(&mut db, CapError::Misaligned, |d| d.boot_cspace(0x1100, 4));
    let cs = db.boot_cspace(0x1000, 4).expect("root");
    refused(&mut db, CapError::WouldOverlap, |d| {
        d.boot_cspace(0x1000, 2)
    });
    let ram = Cap::new(CapType::Ram, 0x10_0000, 0x1_0000);
    db.boot_insert(cs, 1, ram).expect("ram");
    refused(&mut db, CapError::SlotOccupied, |d| {
        d.boot_insert(cs, 1, Cap::new(CapType::Kernel, 0, 0))
    });
    refused(&mut db, CapError::NoSuchSlot, |d| {
        d.boot_insert(cs, 16, Cap::new(CapType::Kernel, 0, 0))
    });
    refused(&mut db, CapError::WouldOverlap, |d| {
        d.boot_insert(cs, 2, Cap::new(CapType::Ram, 0x10_8000, 0x1_0000))
    });
    refused(&mut db, CapError::WrongType, |d| {
        d.boot_insert(cs, 2, Cap::new(CapType::Pt, 0x20_0000, 4096))
    });
    refused(&mut db, CapError::Misaligned, |d| {
        d.boot_insert(cs, 2, Cap::new(CapType::Ram, 0x20_0100, 4096))
    });
    // Deleting the root's only copy ends the cspace: its handle resolves
    // nothing afterwards.
    db.delete(cs, ROOT).expect("delete root");
    refused(&mut db, CapError::NoSuchSlot, |d| d.identify(cs, l1(1)));
    assert!(db.is_empty());
}

#[test]
fn fuzz_mode_finds_corruption() {
    let (mut db, cs) = fresh();
    db.set_fuzz_mode(2);
    db.identify(cs, l1(22)).expect("identify");
    // Corrupt: forget a VNode's state behind the database's back.
    let base = db.identify(cs, l1(9)).expect("pt").base;
    db.vnodes.remove(&base);
    assert_eq!(
        db.check_invariants(),
        Err(crate::InvariantViolation::DanglingObject(base))
    );
    let _ = db.delete(cs, l1(30));
    assert_eq!(
        db.take_violation(),
        None,
        "checked only every second operation"
    );
    let _ = db.delete(cs, l1(31));
    assert_eq!(
        db.take_violation(),
        Some(crate::InvariantViolation::DanglingObject(base))
    );
}

#[test]
fn the_deliberate_corruption_is_found() {
    let (mut db, cs) = fresh();
    assert_eq!(db.check_invariants(), Ok(()));
    db.set_fuzz_mode(1);
    let slot = db.corrupt_for_test().expect("a record to corrupt");
    assert_eq!(
        db.check_invariants(),
        Err(crate::InvariantViolation::SlotMismatch(slot))
    );
    let _ = db.identify(cs, l1(22));
    let _ = db.delete(cs, l1(200));
    assert_eq!(
        db.take_violation(),
        Some(crate::InvariantViolation::SlotMismatch(slot))
    );
    assert_eq!(Mdb::new(0).corrupt_for_test(), None);
}

#[test]
fn invariants_catch_each_kind_of_corruption() {
    use crate::InvariantViolation as V;
    // A slot that points at nothing.
    let (mut db, _) = fresh();
    let k = db
        .cnodes
        .values()
        .next()
        .and_then(|c| c.slots[1])
        .expect("slot");
    db.records.remove(&k);
    assert!(matches!(db.check_invariants(), Err(V::SlotMismatch(_))));
    // A record whose capability no longer matches its key.
    let (mut db, _) = fresh();
    if let Some(r) = db.records.values_mut().find(|r| r.cap.ty == CapType::Frame) {
        r.cap.base += 4096;
    }
    assert!(matches!(db.check_invariants(), Err(V::KeyMismatch(_))));
    // A mapping the VNode does not record.
    let (mut db, cs) = fresh();
    db.map(cs, l1(8), 0, l2(4, 0), Rights::READ, 0, 1)
        .expect("map");
    for v in db.vnodes.values_mut() {
        v.runs.clear();
    }
    assert!(matches!(db.check_invariants(), Err(V::BadMapping(_))));
    // Copies that disagree on relations.
    let (mut db, cs) = fresh();
    db.copy(cs, l1(22), l1(0), 10).expect("copy");
    if let Some(r) = db.records.values_mut().find(|r| r.slot.index == 10) {
        r.remote = RemoteRelations::COPIES;
    }
    assert!(matches!(db.check_invariants(), Err(V::CopiesDisagree(_))));
}

#[test]
fn map_across_cspaces_follows_the_frame_held_in_the_other() {
    // The program's cspace holds RAM; the kernel's holds a page table made
    // from its own memory, as the CPU driver keeps them.
    let mut db = Mdb::new(0);
    let user = db.boot_cspace(0x10_0000, 4).expect("user root");
    let kernel = db.boot_cspace(0x20_0000, 4).expect("kernel root");
    db.boot_insert(user, 1, Cap::new(CapType::Ram, 0x100_0000, 0x10_0000))
        .expect("ram");
    db.boot_insert(kernel, 1, Cap::new(CapType::Ram, 0x30_0000, 4096))
        .expect("table memory");
    db.retype(kernel, l1(1), fixed(CapType::Pt), l1(0), 2)
        .expect("pt");
    db.retype(user, l1(1), frame_args(4096, 2), l1(0), 2)
        .expect("frames");
    // The frame is not in the kernel's cspace, nor the table in the user's.
    refused(&mut db, CapError::EmptySlot, |db| {
        db.map(kernel, l1(2), 0, l1(3), Rights::READ, 0, 1)
    });
    refused(&mut db, CapError::WrongType, |db| {
        db.map_across(user, l1(2), 0, kernel, l1(2), Rights::READ, 0, 1)
    });
    let rw = Rights::READ | Rights::WRITE;
    let fx = db
        .map_across(kernel, l1(2), 7, user, l1(2), rw, 0, 1)
        .expect("map");
    assert_eq!(
        fx,
        [Effect::Map {
            table: 0x30_0000,
            level: Level::Pt,
            index: 7,
            count: 1,
            target: 0x100_0000,
            page: 4096,
            rights: rw
        }]
    );
    refused(&mut db, CapError::AlreadyMapped, |db| {
        db.map_across(kernel, l1(2), 9, user, l1(2), rw, 0, 1)
    });
    refused(&mut db, CapError::WouldOverlap, |db| {
        db.map_across(kernel, l1(2), 7, user, l1(3), rw, 0, 1)
    });
    // A read-only copy cannot be mapped writable.
    db.mint(user, l1(3), l1(0), 4, Rights::READ | Rights::GRANT, 0)
        .expect("mint");
    refused(&mut db, CapError::MissingRight, |db| {
        db.map_across(kernel, l1(2), 8, user, l1(4), rw, 0, 1)
    });
    // Revoking the user's RAM unmaps the frame from the kernel's table.
    let fx = db.revoke(user, l1(1)).expect("revoke");
    assert!(fx.contains(&Effect::Unmap {
        table: 0x30_0000,
        level: Level::Pt,
        index: 7,
        count: 1
    }));
    assert_eq!(
        db.identify(user, l1(2)).err(),
        Some(CapError::EmptySlot),
        "the frame went with the revoke"
    );
    db.check_invariants().expect("invariants");
}

#[test]
fn type_and_right_codes_match_the_abi() {
    use abi::cap::{rights, ty};
    let codes = [
        (CapType::Null, ty::NULL),
        (CapType::Ram, ty::RAM),
        (CapType::Frame, ty::FRAME),
        (CapType::CNode, ty::CNODE),
        (CapType::Pml4, ty::PML4),
        (CapType::Pdpt, ty::PDPT),
        (CapType::Pd, ty::PD),
        (CapType::Pt, ty::PT),
        (CapType::Dispatcher, ty::DISPATCHER),
        (CapType::Endpoint, ty::ENDPOINT),
        (CapType::Notify, ty::NOTIFY),
        (CapType::Kernel, ty::KERNEL),
        (CapType::Shutdown, ty::SHUTDOWN),
    ];
    assert_eq!(codes.len(), CapType::ALL.len());
    for (t, code) in codes {
        assert_eq!(t as u8, code);
        assert_eq!(CapType::from_code(code), Some(t));
    }
    assert_eq!(Rights::READ.bits(), rights::READ);
    assert_eq!(Rights::WRITE.bits(), rights::WRITE);
    assert_eq!(Rights::EXECUTE.bits(), rights::EXECUTE);
    assert_eq!(Rights::GRANT.bits(), rights::GRANT);
    assert_eq!(Rights::ALL.bits(), rights::ALL);
    assert_eq!(crate::L2_BITS, abi::cap::L2_BITS);
}

#[test]
fn a_frame_exported_on_one_core_is_a_remote_copy_on_another() {
    // Two cores, each with its root CNode, Kernel capability and RAM.
    let boot = |core: u32, root: u64, ram: u64| {
        let mut db = Mdb::new(core);
        let cs = db.boot_cspace(root, 8).expect("cspace");
        db.boot_insert(cs, 1, Cap::new(CapType::Kernel, 0, 0))
            .expect("kernel");
        db.boot_insert(cs, 2, Cap::new(CapType::Ram, ram, 0x20_0000))
            .expect("ram");
        (db, cs)
    };
    let (mut a, cs_a) = boot(0, 0x10_0000, 0x4000_0000);
    let (mut b, cs_b) = boot(1, 0x20_0000, 0x8000_0000);
    let args = RetypeArgs {
        ty: CapType::Frame,
        offset: 0x1f_f000,
        size: 4096,
        count: 1,
    };
    a.retype(cs_a, l1(2), args, ROOT, 10).expect("frame");
    // Export needs the Kernel capability first.
    assert_eq!(
        a.export_with(cs_a, l1(2), l1(10)),
        Err(CapError::NoKernelCap)
    );
    let bytes = a.export_with(cs_a, l1(1), l1(10)).expect("export");
    assert_eq!(wire::from_bytes(&bytes).map(|c| c.base), Ok(0x401f_f000));

    // On core 1 it becomes a copy owned by core 0, which holds another.
    b.create_received(cs_b, l1(1), &bytes, 0, RemoteRelations::COPIES, ROOT, 10)
        .expect("import");
    let got = b
        .slots()
        .find(|v| v.slot.index == 10)
        .expect("the received copy");
    assert_eq!((got.cap.ty, got.owner), (CapType::Frame, 0));
    assert_eq!(got.remote, RemoteRelations::COPIES);
    a.check_invariants().expect("core 0");
    b.check_invariants().expect("core 1");
    // The copy on core 1 may be passed on, but not retyped or made again.
    assert_eq!(b.export_with(cs_b, l1(1), l1(10)), Ok(bytes));
    assert_eq!(
        b.create_received(cs_b, l1(1), &bytes, 0, RemoteRelations::COPIES, ROOT, 10),
        Err(CapError::SlotOccupied)
    );
    // A program's delete of it needs core 0, which owns it; the monitor's
    // agreed delete destroys nothing: core 0 still holds the object.
    assert_eq!(b.delete(cs_b, l1(10)), Err(CapError::RetryThroughMonitor));
    assert_eq!(b.delete_agreed(cs_b, l1(1), l1(10)).expect("delete"), []);
    b.check_invariants().expect("core 1 after the delete");
}

#[test]
fn copy_across_puts_a_copy_in_another_cspace_with_the_same_checks() {
    let (mut db, cs) = fresh();
    let cnode = RetypeArgs {
        ty: CapType::CNode,
        offset: 0,
        size: 16,
        count: 1,
    };
    db.retype(cs, l1(23), cnode, ROOT, 12).expect("a cnode");
    db.copy(cs, l1(12), l1(12), 0)
        .expect("its own capability in slot 0");
    let other = db.cspace_of(cs, l1(12)).expect("a second cspace");
    db.copy_across(cs, l2(4, 0), other, l1(0), 1)
        .expect("copy across");
    let copy = db.identify(other, l1(1)).expect("the copy");
    assert_eq!(copy, db.identify(cs, l2(4, 0)).expect("the source"));
    // Both are copies of one object: revoking the source takes the other.
    refused(&mut db, CapError::SlotOccupied, |d| {
        d.copy_across(cs, l2(4, 0), other, l1(0), 1)
    });
    refused(&mut db, CapError::NoSuchSlot, |d| {
        d.copy_across(cs, l2(4, 0), other, l1(0), 16)
    });
    db.mint(cs, l2(4, 0), l1(4), 9, Rights::READ, 0)
        .expect("a copy without GRANT");
    refused(&mut db, CapError::MissingRight, |d| {
        d.copy_across(cs, l2(4, 9), other, l1(0), 2)
    });
    db.revoke(cs, l2(4, 0)).expect("revoke");
    refused(&mut db, CapError::EmptySlot, |d| d.identify(other, l1(1)));
    db.check_invariants().expect("invariants");
}

#[test]
fn imports_name_only_memory_their_owner_hands_out() {
    use crate::Importable;
    let (mut db, cs) = fresh();
    let none = RemoteRelations::empty();
    // Core 1 hands out [0x8000_0000, 0x8010_0000); core 0 the pool above.
    let within = [
        Importable {
            owner: 1,
            base: 0x8000_0000,
            end: 0x8010_0000,
        },
        Importable {
            owner: 0,
            base: 0xc000_0000,
            end: 0xc020_0000,
        },
    ];
    let import = |d: &mut Mdb, cap: Cap, owner: u32, slot: u32| {
        let bytes = wire::to_bytes(&cap);
        d.create_received_within(&within, cs, KERNEL, &bytes, owner, none, ROOT, slot)
    };
    // Memory no core hands out: a kernel's own frames, below and above.
    for cap in [
        Cap::new(CapType::Frame, 0x1000_0000, 4096),
        Cap::new(CapType::Ram, 0x7fff_f000, 4096),
        Cap::new(CapType::Frame, 0x8010_0000, 4096),
        // Straddling the end of the RAM handed out.
        Cap::new(CapType::Frame, 0x800f_f000, 8192),
    ] {
        refused(&mut db, CapError::NotImportable, |d| import(d, cap, 1, 10));
    }
    // Inside the RAM of another core than the owner named.
    let inside = Cap::new(CapType::Frame, 0x8000_4000, 4096);
    refused(&mut db, CapError::NotImportable, |d| {
        import(d, inside, 0, 10)
    });
    refused(&mut db, CapError::NotImportable, |d| {
        import(d, Cap::new(CapType::Frame, 0xc000_0000, 4096), 1, 10)
    });
    // The earlier checks come first: the Kernel capability, the bytes,
    // the type.
    let outside = wire::to_bytes(&Cap::new(CapType::Frame, 0x1000_0000, 4096));
    refused(&mut db, CapError::NoKernelCap, |d| {
        d.create_received_within(&within, cs, l1(22), &outside, 1, none, ROOT, 10)
    });
    let disp = wire::to_bytes(&Cap::new(CapType::Dispatcher, 0x1000_0000, 1024));
    refused(&mut db, CapError::NotPermitted, |d| {
        d.create_received_within(&within, cs, KERNEL, &disp, 1, none, ROOT, 10)
    });
    // Nothing handed out at all: every memory import is refused.
    refused(&mut db, CapError::NotImportable, |d| {
        let bytes = wire::to_bytes(&inside);
        d.create_received_within(&[], cs, KERNEL, &bytes, 1, none, ROOT, 10)
    });
    // Inside, with the right owner: accepted, and then the usual checks.
    import(&mut db, inside, 1, 10).expect("frame of core 1");
    let whole = Cap::new(CapType::Ram, 0x8000_0000, 0x10_0000);
    import(&mut db, whole, 1, 11).expect("all of core 1's RAM");
    import(
        &mut db,
        Cap::new(CapType::Frame, 0xc000_0000, 0x20_0000),
        0,
        12,
    )
    .expect("the pool");
    refused(&mut db, CapError::SlotOccupied, |d| {
        import(d, inside, 1, 10)
    });
    // A Notify names no memory.
    let notify = Cap::new(CapType::Notify, 2, 0);
    import(&mut db, notify, 1, 13).expect("notify");
    db.check_invariants().expect("invariants");
}

#[test]
fn a_kernel_capability_without_grant_is_not_copied() {
    let (mut db, cs) = fresh();
    let mut kernel = Cap::new(CapType::Kernel, 0, 0);
    kernel.rights = Rights::ALL - Rights::GRANT;
    db.boot_insert(cs, 10, kernel).expect("kernel");
    refused(&mut db, CapError::MissingRight, |d| {
        d.copy(cs, l1(10), ROOT, 11)
    });
    refused(&mut db, CapError::MissingRight, |d| {
        d.mint(cs, l1(10), ROOT, 11, Rights::READ, 0)
    });
    // It still serves the monitor's operations.
    assert_eq!(db.kernel_cap(cs, l1(10)), Ok(()));
    assert_eq!(db.create_notify(cs, l1(10), 1, ROOT, 11), Ok(()));
}
