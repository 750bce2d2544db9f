//! Deliberately broken variants of the database: the model comparison must
//! catch each, both on a directed sequence and by random search.

use super::Bug;
use super::prop::{Op, Pick, SlotPick, op, run};
use crate::types::CapType;
use proptest::collection::vec;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

fn retype_frame(src: u32, slot: u32) -> Op {
    Op::Retype {
        src: Pick::Raw(src, false),
        ty: CapType::Frame,
        offset: 0,
        size: 4096,
        count: 1,
        dest: Pick::Raw(0, false),
        slot: SlotPick::Raw(slot),
    }
}

/// Random search with a fixed seed must find a sequence on which the broken
/// database and the model disagree.
fn random_search_catches(bug: Bug) {
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 512,
            failure_persistence: None,
            ..Config::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let result = runner.run(&vec(op(), 1..60), |ops| {
        run(&ops, Some(bug)).map_err(TestCaseError::fail)
    });
    assert!(
        matches!(result, Err(TestError::Fail(..))),
        "{bug:?} was not caught: {result:?}"
    );
}

#[test]
fn retype_without_descendant_check_is_caught() {
    // Slot 22 holds a free 32 KiB RAM piece after the setup.
    let ops = [retype_frame(22, 10), retype_frame(22, 11)];
    assert!(run(&ops, None).is_ok());
    let err = run(&ops, Some(Bug::RetypeIgnoresDescendants)).unwrap_err();
    assert!(err.contains("HasDescendants"), "{err}");
    random_search_catches(Bug::RetypeIgnoresDescendants);
}

#[test]
fn revoke_that_spares_a_copy_is_caught() {
    let ops = [
        Op::Copy {
            src: Pick::Raw(22, false),
            dest: Pick::Raw(0, false),
            slot: SlotPick::Raw(10),
        },
        Op::Revoke {
            target: Pick::Raw(22, false),
        },
    ];
    assert!(run(&ops, None).is_ok());
    let err = run(&ops, Some(Bug::RevokeSparesOneCopy)).unwrap_err();
    assert!(err.contains("Revoke"), "{err}");
    random_search_catches(Bug::RevokeSparesOneCopy);
}

#[test]
fn an_open_gate_is_caught() {
    // A copy elsewhere of the RAM piece in slot 22: a program may not
    // delete its last copy here.
    let ops = [
        Op::Remote {
            target: Pick::Raw(22, false),
            bits: crate::RemoteRelations::COPIES.bits(),
            kernel: Pick::Raw(3, false),
        },
        Op::Delete {
            target: Pick::Raw(22, false),
        },
    ];
    assert!(run(&ops, None).is_ok());
    let err = run(&ops, Some(Bug::GateOpen)).unwrap_err();
    assert!(err.contains("RetryThroughMonitor"), "{err}");
    random_search_catches(Bug::GateOpen);
}
