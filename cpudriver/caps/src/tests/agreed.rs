//! The gate of the operations that need other cores, and the monitor's
//! operations that carry out what they agreed: mark, unmark, sweep and the
//! agreed retype, revoke and delete.

use super::unit::{KERNEL, ROOT, frame_args, fresh, l1, l2, refused, state};
use crate::cspace::CSpace;
use crate::effect::Effect;
use crate::mdb::{Mdb, RemoteRelations};
use crate::rights::Rights;
use crate::types::{Cap, CapType};
use crate::wire;
use abi::CapError;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The whole database, every field of it.
fn whole(db: &Mdb) -> String {
    format!("{db:?}")
}

/// Runs `f`, which must be refused with `RetryThroughMonitor` and leave the
/// whole database as it was.
fn retry(db: &mut Mdb, f: impl FnOnce(&mut Mdb) -> Result<Vec<Effect>, CapError>) {
    let before = whole(db);
    assert_eq!(f(db), Err(CapError::RetryThroughMonitor));
    assert_eq!(whole(db), before, "the gate changed the database");
    db.check_invariants().expect("invariants");
}

/// Root slot 22 holds a 32 KiB RAM piece with no descendants; slot 21 a
/// piece with four frames in the level-2 CNode at 4 (`l2(4, 0..4)`).
fn with_remote(bits: RemoteRelations) -> (Mdb, CSpace) {
    let (mut db, cs) = fresh();
    db.set_remote(cs, KERNEL, l1(22), bits).expect("relations");
    (db, cs)
}

#[test]
fn a_retype_or_revoke_with_any_remote_relation_is_retried() {
    for bits in [
        RemoteRelations::COPIES,
        RemoteRelations::ANCESTORS,
        RemoteRelations::DESCENDANTS,
        RemoteRelations::all(),
    ] {
        let (mut db, cs) = with_remote(bits);
        retry(&mut db, |d| {
            d.retype(cs, l1(22), frame_args(4096, 1), ROOT, 10)
        });
        retry(&mut db, |d| d.revoke(cs, l1(22)));
        // A revoke of the RAM it was carved from would delete it.
        retry(&mut db, |d| d.revoke(cs, l1(1)));
        // The type and rights are checked first.
        refused(&mut db, CapError::WrongType, |d| {
            d.retype(
                cs,
                l1(22),
                frame_args(4096, 1).with(CapType::Endpoint),
                ROOT,
                10,
            )
        });
        // Local operations stay local.
        db.copy(cs, l1(22), ROOT, 10).expect("copy");
        db.mint(cs, l1(22), ROOT, 11, Rights::READ, 0)
            .expect("mint");
        assert_eq!(db.identify(cs, l1(22)).map(|c| c.size), Ok(0x8000));
        // The monitor's agreed forms go ahead.
        let fx = db.revoke_agreed(cs, KERNEL, l1(22)).expect("agreed revoke");
        assert!(fx.is_empty(), "two copies go, the object stays: {fx:?}");
        let got = db.retype_agreed(cs, KERNEL, l1(22), frame_args(4096, 1), ROOT, 10);
        if bits.contains(RemoteRelations::DESCENDANTS) {
            assert_eq!(got, Err(CapError::HasDescendants));
        } else {
            assert_eq!(got.map(|fx| fx.len()), Ok(1));
        }
        db.check_invariants().expect("invariants");
    }
}

#[test]
fn a_delete_is_retried_only_for_the_last_copy_with_remote_copies() {
    // Ancestors or descendants elsewhere: a delete stays local.
    for bits in [RemoteRelations::ANCESTORS, RemoteRelations::DESCENDANTS] {
        let (mut db, cs) = with_remote(bits);
        let fx = db.delete(cs, l1(22)).expect("delete");
        assert_eq!(fx.len(), 1, "destroyed: {fx:?}");
    }
    let (mut db, cs) = with_remote(RemoteRelations::COPIES);
    db.copy(cs, l1(22), ROOT, 10).expect("copy");
    // Not the last copy here: it goes.
    assert_eq!(db.delete(cs, l1(10)), Ok(Vec::new()));
    // The last: the other cores must agree.
    retry(&mut db, |d| d.delete(cs, l1(22)));
    refused(&mut db, CapError::NoKernelCap, |d| {
        d.delete_agreed(cs, l1(23), l1(22))
    });
    // Agreed, it goes without destroying the object, held elsewhere.
    assert_eq!(db.delete_agreed(cs, KERNEL, l1(22)), Ok(Vec::new()));
    refused(&mut db, CapError::EmptySlot, |d| d.identify(cs, l1(22)));
    db.check_invariants().expect("invariants");
}

#[test]
fn every_operation_on_a_copy_owned_elsewhere_is_retried() {
    let (mut db, cs) = fresh();
    let away = wire::to_bytes(&Cap::new(CapType::Ram, 0xa000_0000, 0x4000));
    db.create_received(cs, KERNEL, &away, 1, RemoteRelations::empty(), ROOT, 10)
        .expect("receive");
    db.copy(cs, l1(10), ROOT, 11).expect("a second copy");
    retry(&mut db, |d| d.delete(cs, l1(11)));
    retry(&mut db, |d| d.revoke(cs, l1(10)));
    retry(&mut db, |d| {
        d.retype(cs, l1(10), frame_args(4096, 1), ROOT, 12)
    });
    assert_eq!(db.delete_agreed(cs, KERNEL, l1(11)), Ok(Vec::new()));
    assert_eq!(db.revoke_agreed(cs, KERNEL, l1(10)), Ok(Vec::new()));
    refused(&mut db, CapError::NotPermitted, |d| {
        d.retype_agreed(cs, KERNEL, l1(10), frame_args(4096, 1), ROOT, 12)
    });
    refused(&mut db, CapError::NoKernelCap, |d| {
        d.revoke_agreed(cs, l1(10), l1(10))
    });
    refused(&mut db, CapError::NoKernelCap, |d| {
        d.retype_agreed(cs, l1(10), l1(10), frame_args(4096, 1), ROOT, 12)
    });
}

#[test]
fn a_marked_capability_behaves_as_deleted() {
    let (mut db, cs) = fresh();
    refused(&mut db, CapError::NoKernelCap, |d| {
        d.mark(cs, l1(22), l1(21))
    });
    // The RAM piece in 21 and its four frames.
    assert_eq!(db.mark(cs, KERNEL, l1(21)), Ok(5));
    assert_eq!(db.slots().filter(|v| v.marked).count(), 5);
    // Marking again changes nothing.
    assert_eq!(db.mark(cs, KERNEL, l2(4, 0)), Ok(0));
    for at in [l1(21), l2(4, 0), l2(4, 3)] {
        refused(&mut db, CapError::Marked, |d| d.identify(cs, at));
        refused(&mut db, CapError::Marked, |d| d.copy(cs, at, ROOT, 10));
        refused(&mut db, CapError::Marked, |d| {
            d.mint(cs, at, ROOT, 10, Rights::READ, 0)
        });
        refused(&mut db, CapError::Marked, |d| d.delete(cs, at));
        refused(&mut db, CapError::Marked, |d| d.revoke(cs, at));
        refused(&mut db, CapError::Marked, |d| d.export(cs, at));
    }
    refused(&mut db, CapError::Marked, |d| {
        d.retype(cs, l1(21), frame_args(4096, 1), ROOT, 10)
    });
    refused(&mut db, CapError::Marked, |d| {
        d.map(cs, l1(8), 0, l2(4, 1), Rights::READ, 0, 1)
    });
    // A marked CNode resolves nothing, as a destination or on the way.
    db.retype(cs, l1(22), frame_args(4096, 1), ROOT, 12)
        .expect("a frame");
    assert_eq!(db.mark(cs, KERNEL, l1(4)), Ok(1));
    refused(&mut db, CapError::Marked, |d| d.copy(cs, l1(12), l1(4), 9));
    refused(&mut db, CapError::Marked, |d| d.identify(cs, l2(4, 3)));
    // The monitor still reaches them.
    assert_eq!(db.unmark(cs, KERNEL, l2(4, 3)), Ok(1));
    db.check_invariants().expect("invariants");
}

#[test]
fn unmark_restores_exactly() {
    let (mut db, cs) = fresh();
    db.set_locked(cs, KERNEL, l2(4, 2), true).expect("lock");
    let before = whole(&db);
    assert_eq!(db.mark(cs, KERNEL, l1(21)), Ok(5));
    assert_ne!(whole(&db), before);
    assert_eq!(db.unmark(cs, KERNEL, l1(21)), Ok(5));
    assert_eq!(whole(&db), before, "unmark did not restore the database");
    assert_eq!(db.identify(cs, l2(4, 0)).map(|c| c.ty), Ok(CapType::Frame));
    refused(&mut db, CapError::Locked, |d| d.identify(cs, l2(4, 2)));
}

#[test]
fn sweep_removes_exactly_the_marked_records() {
    let (mut db, cs) = fresh();
    refused(&mut db, CapError::NoKernelCap, |d| d.sweep(cs, l1(22)));
    // Nothing marked: nothing goes.
    assert_eq!(db.sweep(cs, KERNEL), Ok((0, Vec::new())));
    // Frame l2(4, 1) has a copy on another core: swept, it is not
    // destroyed. The others are.
    db.set_remote(cs, KERNEL, l2(4, 1), RemoteRelations::COPIES)
        .expect("relations");
    db.copy(cs, l1(23), ROOT, 10)
        .expect("a copy outside the mark");
    assert_eq!(db.mark(cs, KERNEL, l1(21)), Ok(5));
    let before = state(&db);
    let (n, fx) = db.sweep(cs, KERNEL).expect("sweep");
    assert_eq!(n, 5);
    let kept: Vec<_> = before.iter().filter(|v| !v.marked).copied().collect();
    assert_eq!(state(&db), kept, "sweep removed other records");
    let destroyed: Vec<u64> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Destroyed { base, .. } => Some(*base),
            _ => None,
        })
        .collect();
    let frame = |i: u64| super::prop::RAM_A.0 + 5 * 0x8000 + i * 4096;
    assert_eq!(destroyed.len(), 4, "{fx:?}");
    assert!(!destroyed.contains(&frame(1)));
    assert!(destroyed.contains(&frame(0)) && destroyed.contains(&frame(3)));
    // The RAM piece can be retyped by the monitor again.
    refused(&mut db, CapError::EmptySlot, |d| d.identify(cs, l1(21)));
    assert_eq!(db.sweep(cs, KERNEL), Ok((0, Vec::new())));
    db.check_invariants().expect("invariants");
}

impl crate::ops::RetypeArgs {
    /// The same arguments for another type.
    fn with(self, ty: CapType) -> Self {
        Self { ty, ..self }
    }
}
