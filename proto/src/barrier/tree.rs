//! **Guarantee:** a core sends [`BarrierMsg::TreeArrive`] of episode `e` to
//! its parent only when it and every core of its subtree arrived at `e`, so
//! the root releases `e` only when every core has; every other core leaves
//! `e` only on its parent's [`BarrierMsg::TreeRelease`] of `e`, which
//! descends from the root's.
//!
//! The tree barrier (`msg-tree`): a k-ary combining tree over core ids,
//! rooted at core 0. The parent of core `i > 0` is `(i − 1) / k`; its
//! children are `i·k + 1 ..= i·k + k` below the number of cores. Arrivals
//! combine upwards (fan-in `k`), releases fan out downwards. A parent can
//! get a child's arrival for an episode it has not arrived at yet; it
//! counts it for that episode.

use super::{Arrivals, BarrierError, BarrierMsg, Base, Fx, Kind, Step};

/// One core's machine of the tree barrier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tree {
    parent: Option<u32>,
    /// The first child, and how many.
    first_child: u32,
    children: u32,
    /// Which children's subtrees arrived at the current episode.
    got: Arrivals,
    /// This subtree's arrival went up (or, at the root, the release down).
    sent_up: bool,
}

impl Tree {
    pub(crate) fn new(me: u32, cores: u32, arity: u32) -> Tree {
        let first = u64::from(me) * u64::from(arity) + 1;
        let children = if first >= u64::from(cores) {
            0
        } else {
            (u64::from(cores) - first).min(u64::from(arity)) as u32
        };
        Tree {
            parent: (me > 0).then(|| (me - 1) / arity),
            first_child: first.min(u64::from(cores)) as u32,
            children,
            got: Arrivals::new(children),
            sent_up: false,
        }
    }

    fn try_up(&mut self, b: &mut Base, out: &mut Fx) {
        if !b.arrived || self.got.count() != self.children || self.sent_up {
            return;
        }
        match self.parent {
            Some(p) => {
                self.sent_up = true;
                b.send(p, |episode| BarrierMsg::TreeArrive { episode }, out);
            }
            None => self.release_down(b, out),
        }
    }

    fn release_down(&mut self, b: &mut Base, out: &mut Fx) {
        self.got.clear();
        self.sent_up = false;
        let children = self.first_child..self.first_child + self.children;
        b.release_to(children, |episode| BarrierMsg::TreeRelease { episode }, out);
    }
}

impl Kind for Tree {
    fn arrive(&mut self, b: &mut Base, out: &mut Fx) {
        self.try_up(b, out);
    }

    fn on_message(&mut self, b: &mut Base, from: u32, msg: BarrierMsg, out: &mut Fx) -> Step {
        match msg {
            BarrierMsg::TreeArrive { episode } => {
                let child = from.wrapping_sub(self.first_child);
                if from < self.first_child || child >= self.children {
                    return Err(BarrierError::OutOfOrder);
                }
                b.current(episode)?;
                if self.sent_up {
                    return Err(BarrierError::Duplicate);
                }
                self.got.mark(child)?;
                self.try_up(b, out);
                Ok(())
            }
            BarrierMsg::TreeRelease { episode } => {
                if self.parent != Some(from) {
                    return Err(BarrierError::OutOfOrder);
                }
                b.current(episode)?;
                if !self.sent_up {
                    return Err(BarrierError::OutOfOrder);
                }
                self.release_down(b, out);
                Ok(())
            }
            _ => Err(BarrierError::OutOfOrder),
        }
    }
}
