//! **Guarantee:** the coordinator releases episode `e` only when its own
//! arrival and an [`BarrierMsg::Arrive`] of `e` from every other core are
//! in; every other core leaves `e` only on the coordinator's release of `e`.
//!
//! The central barrier (`msg-central`): core 0 coordinates. A core that is
//! not the coordinator sends `Arrive` and waits for
//! [`BarrierMsg::Release`]. Only the coordinator can get a message of an
//! episode it has not arrived at yet (a core released from `e − 1` that
//! arrives at `e` first); it counts it for `e`.

use super::{Arrivals, BarrierError, BarrierMsg, Base, Fx, Kind, Step};

/// One core's machine of the central barrier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Central {
    /// Coordinator: which cores' arrivals of the current episode are in.
    got: Arrivals,
    /// Test only: releases one arrival too early.
    early: bool,
}

impl Central {
    pub(crate) fn new(me: u32, cores: u32) -> Central {
        Central {
            got: Arrivals::new(if me == 0 { cores } else { 0 }),
            early: false,
        }
    }

    pub(crate) fn break_it(&mut self) {
        self.early = true;
    }

    fn try_release(&mut self, b: &mut Base, out: &mut Fx) {
        let others = b.cores - 1;
        let count = self.got.count();
        let ready = if self.early {
            count + u32::from(b.arrived) >= others
        } else {
            b.arrived && count == others
        };
        if ready {
            self.got.clear();
            b.release_to(1..b.cores, |episode| BarrierMsg::Release { episode }, out);
        }
    }
}

impl Kind for Central {
    fn arrive(&mut self, b: &mut Base, out: &mut Fx) {
        if b.me == 0 {
            self.try_release(b, out);
        } else {
            b.send(0, |episode| BarrierMsg::Arrive { episode }, out);
        }
    }

    fn on_message(&mut self, b: &mut Base, from: u32, msg: BarrierMsg, out: &mut Fx) -> Step {
        match msg {
            BarrierMsg::Arrive { episode } => {
                if b.me != 0 || from == 0 {
                    return Err(BarrierError::OutOfOrder);
                }
                b.current(episode)?;
                self.got.mark(from)?;
                self.try_release(b, out);
                Ok(())
            }
            BarrierMsg::Release { episode } => {
                if b.me == 0 || from != 0 {
                    return Err(BarrierError::OutOfOrder);
                }
                b.current(episode)?;
                if !b.arrived {
                    return Err(BarrierError::OutOfOrder);
                }
                b.release(out);
                Ok(())
            }
            _ => Err(BarrierError::OutOfOrder),
        }
    }
}
