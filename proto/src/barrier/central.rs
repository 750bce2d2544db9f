//! **Guarantee:** the coordinator releases episode `e` only when its own
//! arrival and an [`BarrierMsg::Arrive`] of `e` from every other core are
//! in; every other core leaves `e` only on the coordinator's release of `e`.
//!
//! The central barrier (`msg-central`): core 0 coordinates. A core that is
//! not the coordinator sends `Arrive` and waits for
//! [`BarrierMsg::Release`]. Only the coordinator can get a message of an
//! episode it has not arrived at yet (a core released from `e − 1` that
//! arrives at `e` first); it counts it for `e`.

use alloc::vec;
use alloc::vec::Vec;

use super::{BarrierEffect, BarrierError, BarrierMsg, Base};
use crate::Out;

/// One core's machine of the central barrier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Central {
    /// Coordinator: which cores' arrivals of the current episode are in.
    got: Vec<bool>,
    count: u32,
    /// Test only: releases one arrival too early.
    early: bool,
}

impl Central {
    pub(crate) fn new(me: u32, cores: u32) -> Central {
        Central {
            got: if me == 0 {
                vec![false; cores as usize]
            } else {
                Vec::new()
            },
            count: 0,
            early: false,
        }
    }

    pub(crate) fn break_it(&mut self) {
        self.early = true;
    }

    pub(crate) fn arrive(&mut self, b: &mut Base, out: &mut Out<BarrierEffect>) {
        if b.me == 0 {
            self.try_release(b, out);
        } else {
            out.send_raw(
                0,
                BarrierMsg::Arrive {
                    episode: b.released,
                }
                .encode(),
            );
        }
    }

    fn try_release(&mut self, b: &mut Base, out: &mut Out<BarrierEffect>) {
        let others = b.cores - 1;
        let ready = if self.early {
            self.count + u32::from(b.arrived) >= others
        } else {
            b.arrived && self.count == others
        };
        if !ready {
            return;
        }
        for c in 1..b.cores {
            out.send_raw(
                c,
                BarrierMsg::Release {
                    episode: b.released,
                }
                .encode(),
            );
        }
        self.got.fill(false);
        self.count = 0;
        b.release(out);
    }

    pub(crate) fn on_message(
        &mut self,
        b: &mut Base,
        from: u32,
        msg: BarrierMsg,
        out: &mut Out<BarrierEffect>,
    ) -> Result<(), BarrierError> {
        match msg {
            BarrierMsg::Arrive { episode } => {
                if b.me != 0 || from == 0 {
                    return Err(BarrierError::OutOfOrder);
                }
                b.current(episode)?;
                if self.got[from as usize] {
                    return Err(BarrierError::Duplicate);
                }
                self.got[from as usize] = true;
                self.count += 1;
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
