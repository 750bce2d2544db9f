//! The host routes by tag range, refuses without a change, and takes every
//! member's deadline.

use urpc::RawMessage;

use super::*;
use crate::Via;
use crate::wire;
use crate::wire::registry::{BARRIER, LOCK};

/// Why a test machine refuses.
#[derive(Debug)]
struct No;

impl Refusal for No {
    fn reason(&self) -> &'static str {
        "bad-value"
    }
}

/// Counts messages of the lock range, refuses word 0 = 7, and answers
/// each with its own tag to the sender.
#[derive(Debug, Default)]
struct Count {
    seen: u32,
}

impl Protocol for Count {
    type Effect = u32;
    type Error = No;
    const TAGS: TagRange = LOCK;

    fn on_message(&mut self, _now: u64, m: &Inbound, out: &mut Out<u32>) -> Result<(), No> {
        if m.msg.to_words()[0] == 7 {
            return Err(No);
        }
        self.seen += 1;
        out.send_raw(m.from, m.msg);
        out.effect(self.seen);
        Ok(())
    }
}

/// Owns the barrier range and wants its turn at `at`.
#[derive(Debug, Default)]
struct Alarm {
    at: Option<u64>,
    rang: u32,
}

impl Protocol for Alarm {
    type Effect = bool;
    type Error = No;
    const TAGS: TagRange = BARRIER;

    fn on_message(&mut self, _now: u64, m: &Inbound, _out: &mut Out<bool>) -> Result<(), No> {
        self.at = Some(m.msg.to_words()[0]);
        Ok(())
    }

    fn deadline(&self) -> Option<u64> {
        self.at
    }

    fn on_deadline(&mut self, _now: u64, out: &mut Out<bool>) {
        self.at = None;
        self.rang += 1;
        out.effect(true);
    }
}

crate::machines! {
    /// Two test machines.
    struct Pair;
    /// An effect of either.
    #[derive(Debug, PartialEq, Eq)]
    enum PairEffect {
        /// The counter.
        count: Count => Count,
        /// The alarm.
        alarm: Alarm => Alarm,
    }
}

fn pair() -> Pair {
    Pair {
        count: Count::default(),
        alarm: Alarm::default(),
    }
}

fn msg(tag: u16, word: u64) -> Inbound {
    Inbound {
        from: 3,
        via: Via::Mesh,
        msg: RawMessage::from_words(tag, 1, &[word, 0, 0, 0, 0, 0, 0]),
    }
}

#[test]
fn each_message_reaches_the_machine_that_owns_its_tag() {
    let mut set = pair();
    let Out { sends, effects } = handle(&mut set, 0, &msg(LOCK.first, 1)).unwrap();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].0, 3);
    assert_eq!(effects, [PairEffect::Count(1)]);
    let Out { sends, effects } = handle(&mut set, 0, &msg(BARRIER.last, 50)).unwrap();
    assert!(sends.is_empty() && effects.is_empty());
    assert_eq!((set.count.seen, set.alarm.at), (1, Some(50)));
    assert!(set.owns(LOCK.last) && set.owns(BARRIER.first));
    assert!(!set.owns(wire::MESH.first));
}

#[test]
fn a_tag_nobody_owns_or_a_refusal_changes_nothing() {
    let mut set = pair();
    let mut out = Out::new();
    assert_eq!(
        set.on_message(0, &msg(wire::MESH.first, 1), &mut out),
        Err(Dropped::UNKNOWN_TAG)
    );
    let refused = set.on_message(0, &msg(LOCK.first, 7), &mut out);
    assert_eq!(
        refused,
        Err(Dropped {
            reason: "bad-value",
            fatal: false
        })
    );
    assert!(out.is_empty());
    assert_eq!(set.count.seen, 0);
}

#[test]
fn the_set_takes_every_members_deadline() {
    let mut set = pair();
    assert_eq!(set.deadline(), None);
    handle(&mut set, 0, &msg(BARRIER.first, 100)).unwrap();
    assert_eq!(set.deadline(), Some(100));
    let mut out = Out::new();
    set.on_deadlines(99, &mut out);
    assert!(out.is_empty());
    set.on_deadlines(100, &mut out);
    assert_eq!(out.effects, [PairEffect::Alarm(true)]);
    assert_eq!((set.alarm.rang, set.deadline()), (1, None));
}

#[test]
fn one_machine_is_a_set_that_refuses_other_tags() {
    let mut one = Count::default();
    let mut out = Out::new();
    assert_eq!(
        Machines::on_message(&mut one, 0, &msg(BARRIER.first, 1), &mut out),
        Err(Dropped::UNKNOWN_TAG)
    );
    assert!(Machines::on_message(&mut one, 0, &msg(LOCK.first, 1), &mut out).is_ok());
    assert_eq!(out.effects, [1]);
}

#[test]
fn overlapping_members_are_found() {
    assert!(disjoint(&[LOCK, BARRIER, wire::MESH]));
    assert!(!disjoint(&[LOCK, BARRIER, LOCK]));
    assert!(disjoint(&[]));
}
