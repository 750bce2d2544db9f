//! **Checks:** the server applies each client's updates once and in order
//! (it never refuses one of a correct run) and every client's reply counts
//! match; at the end of a run without a failed core, conservation holds:
//! every client's applied count equals what it said it sent.
//!
//! E2's update server (`proto::update`) on core 0 and a client on every
//! other core, each sending `updates` updates with up to `window` in
//! flight, then `Done`.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use crate::proto::update::{ClientMsg, ServerReply, UpdateServer};
use crate::proto::{Inbound, Refusal};

/// The update server on core 0 and its clients.
#[derive(Debug)]
pub struct UpdateScenario {
    server: UpdateServer,
    updates: u64,
    window: u64,
    sent: Vec<u64>,
    acked: Vec<u64>,
    done: Vec<bool>,
}

impl UpdateScenario {
    /// A server of `k` lines for clients `1..cores`.
    pub fn new(cores: u32, k: usize, updates: u64, window: u64) -> UpdateScenario {
        UpdateScenario {
            server: UpdateServer::new(1, cores.saturating_sub(1), k),
            updates,
            window: window.max(1),
            sent: vec![0; cores as usize],
            acked: vec![0; cores as usize],
            done: vec![false; cores as usize],
        }
    }

    /// A client sends what its window allows, then `Done`.
    fn pump(&mut self, core: u32, ctx: &mut Ctx<'_>) {
        let c = core as usize;
        while self.sent[c] < self.updates && self.sent[c] - self.acked[c] < self.window {
            let seq = self.sent[c];
            self.sent[c] += 1;
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
        if self.sent[c] == self.updates && self.acked[c] == self.updates && !self.done[c] {
            self.done[c] = true;
            ctx.send(
                0,
                ClientMsg::Done {
                    client: core,
                    sent: self.updates,
                }
                .encode(),
            );
        }
    }
}

impl Scenario for UpdateScenario {
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        if core != 0 {
            self.pump(core, ctx);
        }
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        if core == 0 {
            let out = super::deliver(&mut self.server, core, m, ctx)?;
            ctx.send_all(out.sends);
            return Ok(());
        }
        let reply = ServerReply::decode(&m.msg).map_err(|e| {
            Violation::new(format!("client {core} got a bad reply: {}", e.reason()))
        })?;
        let ServerReply::Applied { seq, applied } = reply;
        let c = core as usize;
        if seq != self.acked[c] || applied != seq + 1 {
            return Err(Violation::new(format!(
                "client {core} got applied={applied} for update {seq}, expected update {}",
                self.acked[c]
            )));
        }
        self.acked[c] += 1;
        self.pump(core, ctx);
        Ok(())
    }

    fn finish(&mut self, failed: &[bool]) -> Result<(), Violation> {
        if super::degraded(failed) {
            return Ok(());
        }
        let c = self
            .server
            .conservation()
            .map_err(|e| Violation::new(format!("conservation: {}", e.reason())))?;
        if c.applied != self.updates * u64::from(c.clients) {
            return Err(Violation::new(format!(
                "the server applied {} updates of {}",
                c.applied,
                self.updates * u64::from(c.clients)
            )));
        }
        Ok(())
    }
}
