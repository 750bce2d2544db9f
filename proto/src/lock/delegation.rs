//! **Guarantee:** the delegation server runs every submitted critical
//! section exactly once, one at a time, on data no other core touches;
//! after `k` sections its counter is `k` and every word of its data has
//! been incremented `k` times.
//!
//! Delegation (`msg-delegation`, as ffwd and RCL). Clients are every core
//! but the server. Instead of taking a lock, a client ships its critical
//! section to the server as [`LockMsg::Op`]; the server runs it on its
//! private data (it increments every word of `cs_lines` cache lines, then
//! its counter) and replies [`LockMsg::Executed`] with the counter. A
//! client has at most one op outstanding. When it will not submit again it
//! sends [`LockMsg::Finished`].

use alloc::vec;
use alloc::vec::Vec;

use super::{Client, Clients, Fx, Kind, LockEffect, LockError, LockMsg, Step};

/// Words per cache line.
const LINE_WORDS: usize = 8;

/// One cache line of the server's private data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(64))]
struct Line([u64; LINE_WORDS]);

/// The server's side.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Serve {
    clients: Clients,
    data: Vec<Line>,
    count: u64,
    log: Vec<u32>,
}

/// One core's machine of a delegation lock: a client, or the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DelegationLock {
    client: Client,
    outstanding: Option<u64>,
    serve: Option<Serve>,
}

impl DelegationLock {
    pub(crate) fn new(me: u32, cores: u32, server: u32, cs_lines: u32) -> DelegationLock {
        DelegationLock {
            client: Client::new(me, server),
            outstanding: None,
            serve: (me == server).then(|| Serve {
                clients: Clients::new(cores, cores - 1),
                data: vec![Line::default(); cs_lines as usize],
                count: 0,
                log: Vec::new(),
            }),
        }
    }

    pub(crate) fn count(&self) -> u64 {
        self.serve.as_ref().map_or(0, |s| s.count)
    }

    /// Whether every word of the server's data equals its counter.
    #[cfg(test)]
    pub(crate) fn data_matches_count(&self) -> bool {
        self.serve
            .as_ref()
            .is_none_or(|s| s.data.iter().all(|l| l.0.iter().all(|w| *w == s.count)))
    }
}

impl Kind for DelegationLock {
    fn acquire(&mut self, out: &mut Fx) -> Step {
        let seq = self.client.ask(self.outstanding.is_some())?;
        self.outstanding = Some(seq);
        out.send_raw(self.client.server, LockMsg::Op { seq }.encode());
        Ok(())
    }

    fn finish(&mut self, out: &mut Fx) {
        self.client.finish(out);
    }

    fn quiescent(&self) -> bool {
        self.outstanding.is_none() && self.serve.as_ref().is_none_or(|s| s.clients.all_finished())
    }

    fn grant_log(&self) -> &[u32] {
        self.serve.as_ref().map_or(&[], |s| &s.log)
    }

    fn on_message(&mut self, from: u32, msg: LockMsg, out: &mut Fx) -> Step {
        match msg {
            LockMsg::Op { .. } | LockMsg::Finished { .. } => {
                let server = self.client.server;
                let s = self.serve.as_mut().ok_or(LockError::OutOfOrder)?;
                if from == server {
                    return Err(LockError::NotParticipant(from));
                }
                match msg {
                    LockMsg::Op { seq } => {
                        s.clients.check_next(from, seq)?;
                        s.clients.take(from);
                        let count = s.run();
                        s.log.push(from);
                        out.send_raw(from, LockMsg::Executed { seq, count }.encode());
                        Ok(())
                    }
                    LockMsg::Finished { asked } => s.clients.finish(from, asked),
                    _ => Err(LockError::OutOfOrder),
                }
            }
            LockMsg::Executed { seq, count } => {
                if from != self.client.server || self.serve.is_some() {
                    return Err(LockError::OutOfOrder);
                }
                match self.outstanding {
                    Some(s) if s == seq => {
                        self.outstanding = None;
                        out.effect(LockEffect::Executed { count });
                        Ok(())
                    }
                    None if seq < self.client.asked => Err(LockError::Duplicate),
                    _ => Err(LockError::OutOfOrder),
                }
            }
            _ => Err(LockError::OutOfOrder),
        }
    }
}

impl Serve {
    /// The critical section: every word of the data, then the counter.
    fn run(&mut self) -> u64 {
        for line in &mut self.data {
            for w in &mut line.0 {
                *w += 1;
            }
        }
        self.count += 1;
        self.count
    }
}
