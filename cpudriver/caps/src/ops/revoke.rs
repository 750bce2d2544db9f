//! Revoke: take back every other copy and every descendant.

use crate::cspace::{CSpace, CapAddr};
use crate::effect::Effect;
use crate::mdb::{Mdb, MdbKey};
use crate::ops::agreed::Gate;
use abi::CapError;
use alloc::vec::Vec;

impl Mdb {
    /// Deletes every descendant of the capability at `addr` and every copy
    /// of it but the one invoked, with everything their destruction takes
    /// along (see [`Mdb::delete`]). Refused with `Locked` if any of them is
    /// locked (checked before the gate); then nothing is deleted.
    ///
    /// If the invoked copy itself sits in a CNode that the revoke destroys,
    /// it goes too.
    ///
    /// A program's revoke of a capability owned by another core, or where
    /// it or any record the revoke would delete has a remote relation or
    /// another owner, is refused with `RetryThroughMonitor` and changes
    /// nothing: see [`crate::ops::agreed`].
    pub fn revoke(&mut self, cs: CSpace, addr: CapAddr) -> Result<Vec<Effect>, CapError> {
        self.revoke_as(Gate::User, cs, addr)
    }

    /// [`Mdb::revoke`] with the gate `gate` ([`Gate::Agreed`]: the
    /// monitor's agreed revoke).
    pub fn revoke_as(
        &mut self,
        gate: Gate,
        cs: CSpace,
        addr: CapAddr,
    ) -> Result<Vec<Effect>, CapError> {
        let r = self.revoked(gate, cs, addr).map(|doomed| {
            let mut effects = Vec::new();
            self.delete_all(doomed, &mut effects);
            effects
        });
        self.finish(r)
    }

    /// What a revoke deletes, once every check passed.
    fn revoked(&self, gate: Gate, cs: CSpace, addr: CapAddr) -> Result<Vec<MdbKey>, CapError> {
        let key = self.resolve(cs, addr)?;
        let mut doomed: Vec<MdbKey> = self.copies(&key).filter(|k| *k != key).collect();
        self.revoke_bug(&mut doomed);
        doomed.extend(self.descendants(&key));
        if doomed
            .iter()
            .any(|k| self.records.get(k).is_some_and(|r| r.locked))
        {
            return Err(CapError::Locked);
        }
        let needs = doomed
            .iter()
            .chain([&key])
            .filter_map(|k| self.records.get(k))
            .any(|r| self.concerns_others(r));
        self.gate(gate, needs)?;
        Ok(doomed)
    }

    #[cfg(test)]
    fn revoke_bug(&self, copies: &mut Vec<MdbKey>) {
        if self.bug == Some(crate::tests::Bug::RevokeSparesOneCopy) {
            copies.pop();
        }
    }

    #[cfg(not(test))]
    fn revoke_bug(&self, _copies: &mut Vec<MdbKey>) {}
}
