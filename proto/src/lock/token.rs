//! **Guarantee:** exactly one token exists and only the core that has it
//! can hold the lock; a core that asks is granted when the token next
//! reaches it; once every participant has finished, the token stops at one
//! core and circulates no more.
//!
//! The token lock (`msg-token`). Every core takes part; the token travels
//! the ring `0 → 1 → … → cores−1 → 0` as [`LockMsg::Token`], starting at
//! core 0. A core that has asked keeps the token for its critical section
//! and passes it on at its release; a core that has not asked passes it on
//! at once. The token carries the number of participants that finished:
//! each finished core adds itself once, when the token is next with it and
//! it does not hold the lock. The core that finds every participant counted
//! keeps the token. With one core, the token never moves.
//!
//! The token also carries its hop count: the core at ring position `p`
//! sees only hop counts `≡ p (mod cores)`, each larger than the last, so a
//! repeated or misrouted token is refused.

use alloc::vec::Vec;

use super::{Fx, Kind, LockEffect, LockError, LockMsg, Step};

/// The token while it is with this core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Token {
    hops: u64,
    finished: u32,
}

/// One core's machine of the token lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenLock {
    me: u32,
    cores: u32,
    token: Option<Token>,
    asked: bool,
    held: bool,
    finished: bool,
    /// This core's finish is counted in the token.
    counted: bool,
    /// The last token seen here.
    last: Option<Token>,
    log: Vec<u32>,
}

impl TokenLock {
    pub(crate) fn new(me: u32, cores: u32) -> TokenLock {
        let token = (me == 0).then_some(Token {
            hops: 0,
            finished: 0,
        });
        TokenLock {
            me,
            cores,
            token,
            asked: false,
            held: false,
            finished: false,
            counted: false,
            last: token,
            log: Vec::new(),
        }
    }

    /// Whether the token stopped here: every participant finished.
    fn parked(&self) -> bool {
        self.token.is_some_and(|t| t.finished == self.cores)
    }

    /// With the token here and the lock not held: grant it if asked, else
    /// count this core's finish and pass the token on (or keep it when
    /// nobody else can want it).
    fn settle(&mut self, out: &mut Fx) {
        let Some(mut t) = self.token else {
            return;
        };
        if self.held {
            return;
        }
        if self.asked {
            self.asked = false;
            self.held = true;
            self.log.push(self.me);
            out.effect(LockEffect::Granted);
            return;
        }
        if self.finished && !self.counted {
            self.counted = true;
            t.finished += 1;
        }
        self.token = Some(t);
        if t.finished == self.cores || self.cores == 1 {
            return;
        }
        self.token = None;
        let next = Token {
            hops: t.hops + 1,
            finished: t.finished,
        };
        out.send_raw(
            (self.me + 1) % self.cores,
            LockMsg::Token {
                hops: next.hops,
                finished: next.finished,
            }
            .encode(),
        );
    }
}

impl Kind for TokenLock {
    fn acquire(&mut self, out: &mut Fx) -> Step {
        if self.finished {
            return Err(LockError::Finished);
        }
        if self.asked || self.held {
            return Err(LockError::AlreadyAsked);
        }
        self.asked = true;
        self.settle(out);
        Ok(())
    }

    fn release(&mut self, out: &mut Fx) -> Step {
        if !self.held {
            return Err(LockError::NotHeld);
        }
        self.held = false;
        self.settle(out);
        Ok(())
    }

    fn finish(&mut self, out: &mut Fx) {
        if core::mem::replace(&mut self.finished, true) {
            return;
        }
        self.settle(out);
    }

    fn quiescent(&self) -> bool {
        !self.asked && !self.held && (self.token.is_none() || self.parked() || self.cores == 1)
    }

    fn holds(&self) -> bool {
        self.held
    }

    fn grant_log(&self) -> &[u32] {
        &self.log
    }

    fn on_message(&mut self, from: u32, msg: LockMsg, out: &mut Fx) -> Step {
        let LockMsg::Token { hops, finished } = msg else {
            return Err(LockError::OutOfOrder);
        };
        if self.token.is_some() {
            return Err(LockError::Duplicate);
        }
        if from != (self.me + self.cores - 1) % self.cores
            || hops % u64::from(self.cores) != u64::from(self.me)
            || finished > self.cores
        {
            return Err(LockError::OutOfOrder);
        }
        if let Some(last) = self.last {
            if hops <= last.hops {
                return Err(LockError::Duplicate);
            }
            if finished < last.finished {
                return Err(LockError::OutOfOrder);
            }
        }
        let t = Token { hops, finished };
        self.token = Some(t);
        self.last = Some(t);
        self.settle(out);
        Ok(())
    }
}
