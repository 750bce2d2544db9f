//! **Guarantee:** mutual exclusion: at most one core holds the lock at any
//! time (for delegation, the server runs one critical section at a time on
//! data only it touches). The lock server grants in the order requests
//! reach it (FIFO), and the queue lock in the order requests reach the tail
//! keeper. Every request is granted once the holders before it release.
//! After every participant called [`MsgLock::finish`] and released, every
//! machine comes to rest ([`MsgLock::quiescent`]).
//!
//! Locks as message protocols: sans-IO state machines, one per core, that
//! take lock messages in and give messages and [`LockEffect`]s out. One
//! type, [`MsgLock`], runs any of four kinds ([`LockKind`]):
//!
//! - **Server** (`msg-server`, `server.rs`): a client sends
//!   [`LockMsg::Request`] to the server core; the server grants in arrival
//!   order ([`LockMsg::Grant`]); the holder sends [`LockMsg::Release`] and
//!   the server grants the next in line.
//! - **Token** (`msg-token`, `token.rs`): one token circulates around the
//!   ring of all cores. A core that wants the lock waits for the token and
//!   keeps it for its critical section; a core that does not want it passes
//!   it on at once. The token counts the participants that finished; the
//!   core that receives it with every participant counted keeps it, so the
//!   token stops once nobody can want it again.
//! - **Delegation** (`msg-delegation`, `delegation.rs`, as ffwd and RCL): a
//!   client sends its critical section as [`LockMsg::Op`]; the server runs
//!   it on its private data (every word of `cs_lines` cache lines and a
//!   counter are incremented) and replies [`LockMsg::Executed`]. A client
//!   has at most one op outstanding.
//! - **Queue** (`msg-queue`, `queue.rs`, MCS over messages): a requester
//!   sends [`LockMsg::Enqueue`] to the tail keeper (the server core), which
//!   makes it the tail and answers with its predecessor
//!   ([`LockMsg::Behind`]) or, if the queue was empty, with
//!   [`LockMsg::First`]. The requester tells its predecessor that it is the
//!   successor ([`LockMsg::Successor`]); a holder passes the lock straight
//!   to its successor ([`LockMsg::Pass`]). A holder that knows no successor
//!   asks the tail keeper to empty the queue ([`LockMsg::Leave`]); the
//!   keeper does so only if the holder is still the tail (the compare and
//!   swap of MCS) and otherwise answers that a successor has enqueued, whose
//!   `Successor` message is on its way ([`LockMsg::Left`]).
//!
//! Why it holds: the server and the tail keeper are single-threaded
//! machines, so their order of arrival is a total order. A server grants
//! again only after the holder's release; the token exists once and only
//! its holder may be granted; delegation runs critical sections one at a
//! time on the server's private data; in the queue each request has exactly
//! one predecessor, which passes the lock only when it releases. Messages
//! on one channel arrive in order (URPC is FIFO per channel), which the
//! machines rely on: a release or `Finished` is never overtaken by a later
//! message from the same core. A message that does not fit (malformed, from
//! a core that does not exist or does not take part, a repeat, out of
//! order, or of another kind of lock) is a typed [`LockError`] that changes
//! nothing.

mod delegation;
pub mod model;
mod msg;
mod queue;
mod server;
#[cfg(test)]
mod tests;
mod token;

use alloc::vec::Vec;

pub use model::{LockModel, LockViolation};
pub use msg::{LockMsg, tag};

use super::{Handled, Inbound, Out, Protocol};
use crate::wire::registry::LOCK;
use crate::wire::{Malformed, TagRange};

/// The kind of lock over messages; its name in results (CSV series) and
/// on the command line is [`LockKind::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
pub enum LockKind {
    /// A lock server grants requests in arrival order.
    #[strum(serialize = "msg-server")]
    Server,
    /// A token circulates around the ring of cores.
    #[strum(serialize = "msg-token")]
    Token,
    /// Clients delegate their critical sections to a server.
    #[strum(serialize = "msg-delegation")]
    Delegation,
    /// An MCS queue lock over messages.
    #[strum(serialize = "msg-queue")]
    Queue,
}

impl LockKind {
    /// Every kind, in the order of the experiment's series.
    pub const ALL: [LockKind; 4] = [
        LockKind::Server,
        LockKind::Token,
        LockKind::Delegation,
        LockKind::Queue,
    ];

    /// The name in results (CSV series).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The kind named `name` ([`LockKind::name`]).
    pub fn from_name(name: &str) -> Option<LockKind> {
        name.parse().ok()
    }

    /// Whether `core` uses a lock of this kind served by `server` (every
    /// core but the server of a server or delegation lock; every core of
    /// a token or queue lock).
    pub fn participates(self, core: u32, server: u32) -> bool {
        match self {
            LockKind::Server | LockKind::Delegation => core != server,
            LockKind::Token | LockKind::Queue => true,
        }
    }
}

/// What a lock machine tells its core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockEffect {
    /// This core now holds the lock (not for Delegation).
    Granted,
    /// Delegation: the server ran this core's critical section; `count` is
    /// the server's counter after it.
    Executed {
        /// The server's counter after the critical section.
        count: u64,
    },
}

/// A refused message or call; [`Refusal::reason`](crate::Refusal::reason) is its variant's name
/// in kebab case (a malformed message's own reason for
/// [`LockError::Malformed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum LockError {
    /// The message does not decode.
    Malformed(Malformed),
    /// The message came from, or names, a core that does not exist.
    UnknownCore(u32),
    /// The core does not take part in this lock (the server of a server or
    /// delegation lock never asks for it).
    NotParticipant(u32),
    /// The message repeats one already received.
    Duplicate,
    /// The message does not fit the machine's state, its role, or its kind
    /// of lock.
    OutOfOrder,
    /// `acquire` while this core already asked for or holds the lock (for
    /// delegation: while its op is outstanding).
    AlreadyAsked,
    /// `release` while this core does not hold the lock.
    NotHeld,
    /// `release` on a delegation lock: the server ran the critical section,
    /// there is nothing to release.
    NothingToRelease,
    /// `acquire` after `finish`.
    Finished,
}

crate::refusal! {
    LockError:
    UnknownCore(c) => "unknown core {c}",
    NotParticipant(c) => "core {c} does not take part in the lock",
    Duplicate => "duplicate message", OutOfOrder => "message out of order",
    AlreadyAsked => "the lock is already asked for or held", NotHeld => "the lock is not held",
    NothingToRelease => "a delegated section has nothing to release",
    Finished => "this core finished with the lock",
}

/// Where a core stands with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// Nothing asked.
    Idle,
    /// Request `seq` is waiting.
    Asked(u64),
    /// Request `seq` holds the lock.
    Held(u64),
}

/// What a lock machine gives out.
type Fx = Out<LockEffect>;

/// A done call or handled message, or why it was refused.
type Step = Result<(), LockError>;

/// One kind of lock: the calls and messages every kind takes.
trait Kind {
    /// Asks for the lock (Delegation: submits one critical section).
    fn acquire(&mut self, out: &mut Fx) -> Step;

    /// Gives the lock up; a kind whose sections run elsewhere has nothing
    /// to release.
    fn release(&mut self, _out: &mut Fx) -> Step {
        Err(LockError::NothingToRelease)
    }

    /// This core will not ask again.
    fn finish(&mut self, out: &mut Fx);

    /// Whether nothing is left to do for anyone.
    fn quiescent(&self) -> bool;

    /// Whether this core holds the lock now.
    fn holds(&self) -> bool {
        false
    }

    /// Grants given, in order (see [`MsgLock::grant_log`]).
    fn grant_log(&self) -> &[u32];

    /// A message from core `from` (one that exists).
    fn on_message(&mut self, from: u32, msg: LockMsg, out: &mut Fx) -> Step;
}

/// A client of a lock that one core serves: its requests so far.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Client {
    me: u32,
    server: u32,
    asked: u64,
    finished: bool,
}

impl Client {
    /// Core `me`, a client of `server` (or the server itself).
    fn new(me: u32, server: u32) -> Client {
        Client {
            me,
            server,
            asked: 0,
            finished: false,
        }
    }

    /// Numbers the next request; refused on the server, after `finish`,
    /// and while the previous request is `busy`.
    fn ask(&mut self, busy: bool) -> Result<u64, LockError> {
        if self.me == self.server {
            return Err(LockError::NotParticipant(self.me));
        }
        if self.finished {
            return Err(LockError::Finished);
        }
        if busy {
            return Err(LockError::AlreadyAsked);
        }
        let seq = self.asked;
        self.asked += 1;
        Ok(seq)
    }

    /// Tells the server, once, how many requests this client made.
    fn finish(&mut self, out: &mut Fx) {
        if self.me == self.server || core::mem::replace(&mut self.finished, true) {
            return;
        }
        let asked = self.asked;
        out.send_raw(self.server, LockMsg::Finished { asked }.encode());
    }
}

/// The per-kind machine.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Machine {
    Server(server::ServerLock),
    Token(token::TokenLock),
    Delegation(delegation::DelegationLock),
    Queue(queue::QueueLock),
}

/// One core's lock machine, of any kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgLock {
    kind: LockKind,
    cores: u32,
    machine: Machine,
}

impl MsgLock {
    /// The machine of core `me` of `cores`.
    ///
    /// `server`: the core that serves Server and Delegation (and keeps
    /// Queue's tail); `cs_lines`: cache lines (8 u64 words each) of the
    /// delegation server's private data that each critical section
    /// increments; `participants`: the cores that use the lock (for
    /// Server/Delegation all cores but `server`; for Token/Queue every core
    /// in `0..cores`). Token starts at the lowest participant, core 0, which
    /// puts it on the ring at its first `acquire` (after its critical
    /// section) or `finish`.
    ///
    /// # Panics
    ///
    /// If `me` or `server` is not below `cores`.
    pub fn new(kind: LockKind, me: u32, cores: u32, server: u32, cs_lines: u32) -> MsgLock {
        assert!(
            me < cores && server < cores,
            "core {me} or server {server} outside 0..{cores}"
        );
        let machine = match kind {
            LockKind::Server => Machine::Server(server::ServerLock::new(me, cores, server)),
            LockKind::Token => Machine::Token(token::TokenLock::new(me, cores)),
            LockKind::Delegation => {
                Machine::Delegation(delegation::DelegationLock::new(me, cores, server, cs_lines))
            }
            LockKind::Queue => Machine::Queue(queue::QueueLock::new(me, cores, server)),
        };
        MsgLock {
            kind,
            cores,
            machine,
        }
    }

    /// A lock server that forgets it granted the lock, so it grants a
    /// second requester before the holder's release: a deliberately
    /// wrong variant that the tests and the simulator must catch.
    pub fn broken(me: u32, cores: u32, server: u32) -> MsgLock {
        let mut lock = MsgLock::new(LockKind::Server, me, cores, server, 0);
        if let Machine::Server(s) = &mut lock.machine {
            s.break_it();
        }
        lock
    }

    /// The kind of lock.
    pub fn kind(&self) -> LockKind {
        self.kind
    }

    /// A decoded message from core `from`, refused if that core does not
    /// exist.
    fn take(&mut self, from: u32, msg: LockMsg, out: &mut Fx) -> Step {
        if from >= self.cores {
            return Err(LockError::UnknownCore(from));
        }
        self.machine_mut().on_message(from, msg, out)
    }

    /// The machine of the kind.
    fn machine(&self) -> &dyn Kind {
        match &self.machine {
            Machine::Server(m) => m,
            Machine::Token(m) => m,
            Machine::Delegation(m) => m,
            Machine::Queue(m) => m,
        }
    }

    /// The machine of the kind, to change.
    fn machine_mut(&mut self) -> &mut dyn Kind {
        match &mut self.machine {
            Machine::Server(m) => m,
            Machine::Token(m) => m,
            Machine::Delegation(m) => m,
            Machine::Queue(m) => m,
        }
    }

    /// Asks for the lock (Delegation: submits one critical section).
    /// Refused (typed error) if already asked/held.
    pub fn acquire(&mut self, out: &mut Out<LockEffect>) -> Result<(), LockError> {
        self.machine_mut().acquire(out)
    }

    /// Gives the lock up (Delegation: refused, nothing to release). Refused
    /// if not held.
    pub fn release(&mut self, out: &mut Out<LockEffect>) -> Result<(), LockError> {
        self.machine_mut().release(out)
    }

    /// This core will not ask again; for Token, it keeps forwarding the
    /// token while others still need it. A second call does nothing.
    pub fn finish(&mut self, out: &mut Out<LockEffect>) {
        self.machine_mut().finish(out)
    }

    /// Whether this core's machine has nothing left to do for anyone (safe
    /// to stop polling): not holding, not asked, token not here or no one
    /// else needs it, server with every participant finished.
    pub fn quiescent(&self) -> bool {
        self.machine().quiescent()
    }

    /// Whether this core holds the lock now (never for Delegation).
    pub fn holds(&self) -> bool {
        self.machine().holds()
    }

    /// Grants given, in order: on the server, the core of each grant
    /// (Server), of each critical section run (Delegation) or of each
    /// request in queue order, which is the order the lock passes in
    /// (Queue, on the tail keeper); on any other core, for Token and
    /// Queue, this core's own id once per grant it got.
    pub fn grant_log(&self) -> &[u32] {
        self.machine().grant_log()
    }

    /// Delegation: whether every word of the server's data equals its
    /// counter (true on other cores and kinds).
    #[cfg(test)]
    pub(crate) fn delegation_data_matches(&self) -> bool {
        match &self.machine {
            Machine::Delegation(m) => m.data_matches_count(),
            _ => true,
        }
    }

    /// Delegation: the server's counter (critical sections run); 0 on
    /// other cores and kinds.
    pub fn count(&self) -> u64 {
        match &self.machine {
            Machine::Delegation(m) => m.count(),
            _ => 0,
        }
    }
}

impl Protocol for MsgLock {
    type Effect = LockEffect;
    type Error = LockError;
    const TAGS: TagRange = LOCK;

    fn on_message(&mut self, _now: u64, m: &Inbound, out: &mut Out<LockEffect>) -> Handled<Self> {
        self.take(m.from, LockMsg::decode(&m.msg)?, out)
    }
}

/// Per-client bookkeeping of a server: the next request number it expects
/// and whether the client finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Clients {
    next: Vec<u64>,
    finished: Vec<bool>,
    /// Participants that have not finished.
    open: u32,
}

impl Clients {
    /// Bookkeeping for `cores` cores, of which `participants` take part.
    pub(crate) fn new(cores: u32, participants: u32) -> Clients {
        Clients {
            next: alloc::vec![0; cores as usize],
            finished: alloc::vec![false; cores as usize],
            open: participants,
        }
    }

    /// Checks that request `seq` of `from` is the next one (without taking
    /// it).
    pub(crate) fn check_next(&self, from: u32, seq: u64) -> Result<(), LockError> {
        let c = from as usize;
        if self.finished[c] {
            return Err(LockError::OutOfOrder);
        }
        match seq.cmp(&self.next[c]) {
            core::cmp::Ordering::Less => Err(LockError::Duplicate),
            core::cmp::Ordering::Greater => Err(LockError::OutOfOrder),
            core::cmp::Ordering::Equal => Ok(()),
        }
    }

    /// Takes request `seq` of `from`, checked by [`Clients::check_next`].
    pub(crate) fn take(&mut self, from: u32) {
        self.next[from as usize] += 1;
    }

    /// Requests `from` made so far.
    pub(crate) fn made(&self, from: u32) -> u64 {
        self.next[from as usize]
    }

    /// `from` says it finished after `asked` requests.
    pub(crate) fn finish(&mut self, from: u32, asked: u64) -> Result<(), LockError> {
        let c = from as usize;
        if self.finished[c] {
            return Err(LockError::Duplicate);
        }
        if asked != self.next[c] {
            return Err(LockError::OutOfOrder);
        }
        self.finished[c] = true;
        self.open -= 1;
        Ok(())
    }

    /// Whether every participant finished.
    pub(crate) fn all_finished(&self) -> bool {
        self.open == 0
    }
}
