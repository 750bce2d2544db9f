//! **Guarantee checked:** a [`SpawnModel`] that is told every request a
//! requester makes, every effect of every core's machine and every
//! outcome a serving monitor reports returns a [`SpawnViolation`] at the
//! first step where one of these breaks:
//!
//! - a request is started only on the core it was asked of, once, and
//!   with the name asked for;
//! - every request is answered to its requester exactly once, with the
//!   outcome its serving core reported (started after so many cycles, or
//!   failed with that code);
//! - a started domain's end reaches the requester exactly once, after its
//!   start, with the status its serving core saw;
//! - at the end of a run ([`SpawnModel::finish`]), every request is
//!   finished, no requester counts one pending, and each requester's
//!   verdict passes exactly when every domain it asked for exited with 0.
//!
//! The spawn protocol's reference model, written once, for the host tests
//! and the simulator: pure, without I/O or randomness.

use alloc::collections::BTreeMap;

use abi::disp::Status;

use super::{Name, SpawnEffect, Spawns};

/// What the serving core did with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chosen {
    /// Not served yet.
    Open,
    /// Its machine asked its monitor to start it.
    Starting,
    /// Failed with this code.
    Fail(u32),
    /// Started after so many cycles, and not ended yet.
    Running(u64),
    /// Started after so many cycles, then ended with this status.
    Ended(u64, Status),
}

/// What the requester has heard of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heard {
    /// Nothing yet.
    Nothing,
    /// That it started.
    Spawned,
    /// That it failed.
    Failed,
    /// That it ended.
    Ended,
}

/// An invariant that broke, and the core it broke on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnViolation {
    /// An effect or a report for a request never made.
    Unknown {
        /// The core that gave or reported it.
        core: u32,
        /// The requester it names.
        from: u32,
        /// The request it names.
        id: u32,
    },
    /// A request served where it was not asked, twice, or reported out of
    /// turn.
    Served {
        /// The serving core.
        core: u32,
        /// The requester.
        from: u32,
        /// The request.
        id: u32,
        /// The core it was asked of.
        asked: u32,
        /// What its serving core did so far.
        chosen: Chosen,
    },
    /// An answer that is not the one the serving core gave.
    Answer {
        /// The requester.
        core: u32,
        /// The answer.
        effect: SpawnEffect,
        /// What the serving core did.
        chosen: Chosen,
        /// What the requester heard before.
        heard: Heard,
    },
    /// A request not finished at the end.
    Unfinished {
        /// The requester.
        core: u32,
        /// The request.
        id: u32,
        /// The core it was asked of.
        asked: u32,
        /// What its serving core did.
        chosen: Chosen,
        /// What the requester heard.
        heard: Heard,
    },
    /// A requester counts requests pending at the end.
    Pending {
        /// The requester.
        core: u32,
        /// How many.
        pending: usize,
    },
    /// A requester's verdict is not what its domains' ends say.
    Verdict {
        /// The requester.
        core: u32,
        /// Its verdict.
        passed: bool,
        /// Whether every domain it asked for exited with 0.
        all_zero: bool,
    },
}

crate::display_as! {
    SpawnViolation:
    Unknown { core, from, id } => "core {core}: request {id} of core {from}, never made",
    Served { core, from, id, asked, chosen } =>
        "core {core}: request {id} of core {from} served here, asked of core {asked}, already {chosen:?}",
    Answer { core, effect, chosen, heard } =>
        "core {core}: {effect:?}, but chosen {chosen:?}, heard {heard:?}",
    Unfinished { core, id, asked, chosen, heard } =>
        "core {core}: request {id} (core {asked}) unfinished: chosen {chosen:?}, heard {heard:?}",
    Pending { core, pending } => "core {core} still counts {pending} pending requests",
    Verdict { core, passed, all_zero } =>
        "core {core}: the verdict is {passed} but every domain exiting with 0 is {all_zero}",
}

/// One request.
#[derive(Clone, Copy, Debug)]
struct Request {
    asked: u32,
    name: Name,
    chosen: Chosen,
    heard: Heard,
}

/// The spawn protocol's reference model and invariants (see the module
/// doc).
#[derive(Clone, Debug, Default)]
pub struct SpawnModel {
    /// Every request, by (requester, id).
    requests: BTreeMap<(u32, u32), Request>,
}

impl SpawnModel {
    /// No request yet.
    pub fn new() -> SpawnModel {
        SpawnModel::default()
    }

    /// Core `from` asked core `core` to start `name`, as request `id`.
    pub fn requested(&mut self, from: u32, id: u32, core: u32, name: Name) {
        self.requests.insert(
            (from, id),
            Request {
                asked: core,
                name,
                chosen: Chosen::Open,
                heard: Heard::Nothing,
            },
        );
    }

    fn request(&mut self, core: u32, from: u32, id: u32) -> Result<&mut Request, SpawnViolation> {
        self.requests
            .get_mut(&(from, id))
            .ok_or(SpawnViolation::Unknown { core, from, id })
    }

    /// Core `core`'s serving monitor reported request `id` of `from`
    /// started after `Ok(cycles)`, or failed with `Err(code)`.
    pub fn started(
        &mut self,
        core: u32,
        from: u32,
        id: u32,
        result: Result<u64, u32>,
    ) -> Result<(), SpawnViolation> {
        let r = self.request(core, from, id)?;
        if r.chosen != Chosen::Starting || r.asked != core {
            return Err(served(core, from, id, r));
        }
        r.chosen = match result {
            Ok(cycles) => Chosen::Running(cycles),
            Err(code) => Chosen::Fail(code),
        };
        Ok(())
    }

    /// Core `core`'s serving monitor saw the domain of request `id` of
    /// `from` end with `status`.
    pub fn ended(
        &mut self,
        core: u32,
        from: u32,
        id: u32,
        status: Status,
    ) -> Result<(), SpawnViolation> {
        let r = self.request(core, from, id)?;
        let Chosen::Running(cycles) = r.chosen else {
            return Err(served(core, from, id, r));
        };
        if r.asked != core {
            return Err(served(core, from, id, r));
        }
        r.chosen = Chosen::Ended(cycles, status);
        Ok(())
    }

    /// Core `core`'s machine gave `effects`.
    pub fn effects(&mut self, core: u32, effects: &[SpawnEffect]) -> Result<(), SpawnViolation> {
        effects.iter().try_for_each(|&e| self.effect(core, e))
    }

    fn effect(&mut self, core: u32, effect: SpawnEffect) -> Result<(), SpawnViolation> {
        if let SpawnEffect::Start { from, id, name } = effect {
            let r = self.request(core, from, id)?;
            if r.chosen != Chosen::Open || r.asked != core || r.name != name {
                return Err(served(core, from, id, r));
            }
            r.chosen = Chosen::Starting;
            return Ok(());
        }
        let (id, at, name, heard) = match effect {
            SpawnEffect::Spawned { id, core, name, .. } => (id, core, name, Heard::Spawned),
            SpawnEffect::Failed { id, core, name, .. } => (id, core, name, Heard::Failed),
            SpawnEffect::Ended { id, core, name, .. } => (id, core, name, Heard::Ended),
            SpawnEffect::Start { .. } => return Ok(()),
        };
        let r = self.request(core, core, id)?;
        let fits = match (effect, r.chosen, r.heard) {
            (SpawnEffect::Spawned { cycles, .. }, Chosen::Running(c) | Chosen::Ended(c, _), h) => {
                c == cycles && h == Heard::Nothing
            }
            (SpawnEffect::Failed { failure, .. }, Chosen::Fail(f), h) => {
                f == failure && h == Heard::Nothing
            }
            (SpawnEffect::Ended { status, .. }, Chosen::Ended(_, s), h) => {
                s == status && h == Heard::Spawned
            }
            _ => false,
        };
        if !fits || at != r.asked || name != r.name {
            return Err(SpawnViolation::Answer {
                core,
                effect,
                chosen: r.chosen,
                heard: r.heard,
            });
        }
        r.heard = heard;
        Ok(())
    }

    /// Checks the end of a run in which no core failed; `machines` are
    /// every core's spawn machines.
    pub fn finish(&self, machines: &[Spawns]) -> Result<(), SpawnViolation> {
        if let Some((&(core, id), r)) = self
            .requests
            .iter()
            .find(|(_, r)| !matches!(r.heard, Heard::Failed | Heard::Ended))
        {
            return Err(SpawnViolation::Unfinished {
                core,
                id,
                asked: r.asked,
                chosen: r.chosen,
                heard: r.heard,
            });
        }
        for (core, m) in (0u32..).zip(machines) {
            if m.pending() != 0 {
                return Err(SpawnViolation::Pending {
                    core,
                    pending: m.pending(),
                });
            }
            let all_zero = self
                .requests
                .iter()
                .filter(|((from, _), _)| *from == core)
                .all(|(_, r)| matches!(r.chosen, Chosen::Ended(_, Status::Exited(0))));
            if m.all_passed() != all_zero {
                return Err(SpawnViolation::Verdict {
                    core,
                    passed: m.all_passed(),
                    all_zero,
                });
            }
        }
        Ok(())
    }
}

/// A request served out of turn.
fn served(core: u32, from: u32, id: u32, r: &Request) -> SpawnViolation {
    SpawnViolation::Served {
        core,
        from,
        id,
        asked: r.asked,
        chosen: r.chosen,
    }
}
