//! **Checks:** the invariants of `proto::update::model` after every step
//! (the server applies each client's updates once and in order, its copy
//! holds what it applied, each reply comes in order after its update was
//! applied) and, at the end of a run without a failed core, its end check
//! (every client done, every update applied and answered, the server's
//! conservation); no machine refuses a message of a correct run.
//!
//! E2's update server (`proto::update`) on core 0 and a client on every
//! other core, each sending `updates` updates with up to `window` in
//! flight, then `Done`.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use super::{Step, violation};
use crate::proto::update::{ClientMsg, ServerReply, UpdateModel, UpdateServer};
use crate::proto::{Inbound, Refusal};

/// The update server on core 0 and its clients.
#[derive(Debug)]
pub struct UpdateScenario {
    server: UpdateServer,
    model: UpdateModel,
    updates: u64,
    window: u64,
    sent: Vec<u64>,
    done: Vec<bool>,
}

impl UpdateScenario {
    /// A server of `k` lines for clients `1..cores`; `broken` takes the
    /// server that loses an update when clients interleave.
    pub fn new(cores: u32, k: usize, updates: u64, window: u64, broken: bool) -> UpdateScenario {
        let clients = cores.saturating_sub(1);
        UpdateScenario {
            server: if broken {
                UpdateServer::broken(1, clients, k)
            } else {
                UpdateServer::new(1, clients, k)
            },
            model: UpdateModel::new(1, clients),
            updates,
            window: window.max(1),
            sent: vec![0; cores as usize],
            done: vec![false; cores as usize],
        }
    }

    /// A client sends what its window allows, then `Done`.
    fn pump(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let c = core as usize;
        let answered = self.model.answers(core);
        while self.sent[c] < self.updates && self.sent[c] - answered < self.window {
            let seq = self.sent[c];
            self.sent[c] += 1;
            self.model.sent(core, seq, 1).map_err(violation)?;
            ctx.send(
                0,
                ClientMsg::Update {
                    client: core,
                    seq,
                    delta: 1,
                }
                .encode(),
            );
        }
        if self.sent[c] == self.updates && answered == self.updates && !self.done[c] {
            self.done[c] = true;
            self.model.done(core).map_err(violation)?;
            ctx.send(
                0,
                ClientMsg::Done {
                    client: core,
                    sent: self.updates,
                }
                .encode(),
            );
        }
        Ok(())
    }
}

impl Scenario for UpdateScenario {
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        if core != 0 {
            self.pump(core, ctx)?;
        }
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Step {
        if core == 0 {
            let out = super::deliver(&mut self.server, core, m, ctx)?;
            ctx.send_all(out.sends);
            for e in out.effects {
                self.model.effect(e).map_err(violation)?;
            }
            return self.model.check_copy(self.server.copy()).map_err(violation);
        }
        let reply = ServerReply::decode(&m.msg).map_err(|e| {
            Violation::new(format!("client {core} got a bad reply: {}", e.reason()))
        })?;
        let ServerReply::Applied { seq, applied } = reply;
        self.model.answered(core, seq, applied).map_err(violation)?;
        self.pump(core, ctx)
    }

    fn finish(&mut self, failed: &[bool]) -> Step {
        if super::degraded(failed) {
            return Ok(());
        }
        self.model
            .check_end(self.server.conservation())
            .map_err(violation)
    }
}
