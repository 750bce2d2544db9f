//! **Guarantee (checked):** mutual exclusion: a core is granted the lock
//! only while no other core holds it; a grant or a delegated result goes
//! only to a core that asked and has not been answered; each client's
//! delegated results grow, and, at the end, the server ran exactly as many
//! critical sections as were submitted, numbered `1..=total`; where the
//! order of arrival is reported ([`LockModel::reached`]), grants follow
//! it (FIFO). At the end of a run, every participant finished, every
//! request was answered, nobody holds the lock and every machine is at
//! rest.
//!
//! The reference model of every kind of lock ([`super::LockKind`]): a pure
//! record of what each core's client did (asked, released, finished) and
//! what its machine gave out (granted, executed), with no I/O and no
//! randomness. A driver (the host tests, the simulator) tells it each
//! event as it happens; the first event that breaks an invariant returns a
//! [`LockViolation`] naming the core, and [`LockModel::check_end`] checks
//! what must hold once the run settled.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

/// Where a core's client stands, as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stand {
    /// Nothing asked (or the last ask answered and released).
    Idle,
    /// Asked, not yet granted (or executed).
    Asked,
    /// Holds the lock.
    Holding,
}

/// A broken invariant of a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockViolation {
    /// `core` was granted the lock while `holder` held it.
    MutualExclusion {
        /// The core granted.
        core: u32,
        /// The core that held the lock.
        holder: u32,
    },
    /// `core` was granted the lock, or given a result, it did not ask for.
    Unasked {
        /// The core.
        core: u32,
    },
    /// `core` was granted before `first`, whose request reached the server
    /// first.
    NotFifo {
        /// The core granted.
        core: u32,
        /// The core whose request came first.
        first: u32,
    },
    /// `core`'s delegated section ran out of order: its result `count`
    /// came after `after`.
    OutOfOrder {
        /// The core.
        core: u32,
        /// The result.
        count: u64,
        /// Its previous result.
        after: u64,
    },
    /// `core`'s client asked, released or finished out of turn (asked
    /// while asking or holding, or after finishing; released without
    /// holding).
    OutOfTurn {
        /// The core.
        core: u32,
    },
    /// At the end: `core` did not finish, or a request of it was never
    /// answered, or it still holds the lock.
    Unfinished {
        /// The core.
        core: u32,
        /// Requests it made.
        asked: u64,
        /// Requests answered (granted or executed).
        answered: u64,
    },
    /// At the end: the delegation server ran `ran` sections, or not the
    /// sections `1..=asked`, for `asked` submitted.
    Count {
        /// Sections submitted.
        asked: u64,
        /// Results received.
        ran: u64,
    },
    /// At the end: `core`'s machine is not at rest.
    NotAtRest {
        /// The core.
        core: u32,
    },
}

crate::display_as! {
    LockViolation:
    MutualExclusion { core, holder } =>
        "core {core} was granted the lock while core {holder} holds it",
    Unasked { core } => "core {core} was granted a lock it did not ask for",
    NotFifo { core, first } =>
        "core {core} was granted the lock before core {first}, whose request came first",
    OutOfOrder { core, count, after } =>
        "core {core}'s delegated section ran out of order ({count} after {after})",
    OutOfTurn { core } => "core {core}'s client called its lock out of turn",
    Unfinished { core, asked, answered } =>
        "core {core} did not finish: {answered} of its {asked} requests answered, or it holds the lock or never said it finished",
    Count { asked, ran } =>
        "the delegation server ran {ran} sections, not each of 1..={asked} once",
    NotAtRest { core } => "core {core}'s lock is not at rest at the end",
}

/// The reference model of a lock on `cores` cores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockModel {
    participant: Vec<bool>,
    stand: Vec<Stand>,
    finished: Vec<bool>,
    asked: Vec<u64>,
    answered: Vec<u64>,
    holder: Option<u32>,
    /// Cores whose requests reached the server, not yet granted.
    arrivals: VecDeque<u32>,
    /// Delegation: each core's last result.
    last_count: Vec<u64>,
    /// Delegation: every result.
    counts: Vec<u64>,
    grants: Vec<u32>,
}

impl LockModel {
    /// A lock on `cores` cores, of which those for which `participates`
    /// holds use it.
    pub fn new(cores: u32, participates: impl Fn(u32) -> bool) -> LockModel {
        let n = cores as usize;
        LockModel {
            participant: (0..cores).map(participates).collect(),
            stand: vec![Stand::Idle; n],
            finished: vec![false; n],
            asked: vec![0; n],
            answered: vec![0; n],
            holder: None,
            arrivals: VecDeque::new(),
            last_count: vec![0; n],
            counts: Vec::new(),
            grants: Vec::new(),
        }
    }

    /// `core`'s client asked for the lock (delegation: submitted a
    /// section).
    pub fn asked(&mut self, core: u32) -> Result<(), LockViolation> {
        let c = core as usize;
        if !self.participant[c] || self.finished[c] || self.stand[c] != Stand::Idle {
            return Err(LockViolation::OutOfTurn { core });
        }
        self.stand[c] = Stand::Asked;
        self.asked[c] += 1;
        Ok(())
    }

    /// `core`'s request reached the server (or the queue's tail keeper):
    /// from the first such report on, grants must follow this order.
    pub fn reached(&mut self, core: u32) {
        self.arrivals.push_back(core);
    }

    /// `core`'s machine says it now holds the lock.
    pub fn granted(&mut self, core: u32) -> Result<(), LockViolation> {
        let c = core as usize;
        if self.stand[c] != Stand::Asked {
            return Err(LockViolation::Unasked { core });
        }
        if let Some(holder) = self.holder {
            return Err(LockViolation::MutualExclusion { core, holder });
        }
        match self.arrivals.front() {
            Some(&first) if first != core => return Err(LockViolation::NotFifo { core, first }),
            Some(_) => {
                self.arrivals.pop_front();
            }
            None => {}
        }
        self.holder = Some(core);
        self.stand[c] = Stand::Holding;
        self.answered[c] += 1;
        self.grants.push(core);
        Ok(())
    }

    /// Delegation: `core`'s machine says the server ran its section;
    /// `count` is the server's counter after it.
    pub fn executed(&mut self, core: u32, count: u64) -> Result<(), LockViolation> {
        let c = core as usize;
        if self.stand[c] != Stand::Asked {
            return Err(LockViolation::Unasked { core });
        }
        let after = self.last_count[c];
        if count <= after {
            return Err(LockViolation::OutOfOrder { core, count, after });
        }
        self.last_count[c] = count;
        self.counts.push(count);
        self.stand[c] = Stand::Idle;
        self.answered[c] += 1;
        Ok(())
    }

    /// `core`'s client gave the lock up.
    pub fn released(&mut self, core: u32) -> Result<(), LockViolation> {
        let c = core as usize;
        if self.stand[c] != Stand::Holding {
            return Err(LockViolation::OutOfTurn { core });
        }
        self.stand[c] = Stand::Idle;
        self.holder = None;
        Ok(())
    }

    /// `core`'s client will not ask again (it may still hold the lock,
    /// and then releases it later).
    pub fn finished(&mut self, core: u32) -> Result<(), LockViolation> {
        let c = core as usize;
        if !self.participant[c] || self.finished[c] || self.stand[c] == Stand::Asked {
            return Err(LockViolation::OutOfTurn { core });
        }
        self.finished[c] = true;
        Ok(())
    }

    /// Whether `core` holds the lock.
    pub fn holds(&self, core: u32) -> bool {
        self.holder == Some(core)
    }

    /// Whether `core` asked and was not answered yet.
    pub fn waiting(&self, core: u32) -> bool {
        self.stand[core as usize] == Stand::Asked
    }

    /// Whether `core` said it finished (a core that does not take part
    /// counts as finished).
    pub fn is_finished(&self, core: u32) -> bool {
        let c = core as usize;
        !self.participant[c] || self.finished[c]
    }

    /// The cores granted, in the order they were granted.
    pub fn grants(&self) -> &[u32] {
        &self.grants
    }

    /// The end of a run: every participant finished with every request
    /// answered and released, the delegation server ran each section once,
    /// and each core's machine is at rest (`at_rest`, one per core, in
    /// order).
    pub fn check_end(&self, at_rest: impl IntoIterator<Item = bool>) -> Result<(), LockViolation> {
        for (c, &p) in self.participant.iter().enumerate() {
            let done = self.finished[c]
                && self.stand[c] == Stand::Idle
                && self.answered[c] == self.asked[c];
            if p && !done {
                return Err(LockViolation::Unfinished {
                    core: c as u32,
                    asked: self.asked[c],
                    answered: self.answered[c],
                });
            }
        }
        if !self.counts.is_empty() {
            let asked: u64 = self.asked.iter().sum();
            let mut counts = self.counts.clone();
            counts.sort_unstable();
            if !counts.iter().copied().eq(1..=asked) {
                return Err(LockViolation::Count {
                    asked,
                    ran: counts.len() as u64,
                });
            }
        }
        match at_rest.into_iter().position(|r| !r) {
            Some(c) => Err(LockViolation::NotAtRest { core: c as u32 }),
            None => Ok(()),
        }
    }
}
