//! Operations that need the agreement of other cores, and the monitor's
//! operations that carry out what was agreed.
//!
//! A program's retype, revoke or delete ([`Gate::User`]) is refused with
//! `RetryThroughMonitor`, changing nothing, when the object is owned by
//! another core, or when the operation would change what other cores hold
//! or may hold:
//!
//! * **retype** of a capability with any remote relation;
//! * **revoke** of a capability that has a remote relation or whose other
//!   copies or descendants here have one or are owned elsewhere (the
//!   records the revoke would delete);
//! * **delete** of the last local copy of an object that has a copy on
//!   another core (`COPIES`); any delete of a copy owned elsewhere.
//!
//! Copy, mint, identify and the other invocations stay local. The monitor
//! runs the protocol at the owner and then carries out the result with the
//! Kernel capability: [`Mdb::retype_agreed`], [`Mdb::revoke_agreed`] and
//! [`Mdb::delete_agreed`] are the same operations without the gate, and an
//! agreed revoke or delete across cores marks ([`Mdb::mark`]) what it will
//! take, so that it behaves as deleted at once (`Marked`), removes it with
//! [`Mdb::sweep`] once every core has agreed, or restores it with
//! [`Mdb::unmark`] when the operation is abandoned.

use crate::cspace::{CSpace, CapAddr};
use crate::effect::Effect;
use crate::mdb::{Mdb, MdbKey, Record, RemoteRelations};
use crate::ops::RetypeArgs;
use abi::CapError;
use alloc::vec::Vec;

/// Whether an operation that may concern other cores is checked for their
/// agreement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gate {
    /// A program's own invocation: refused with `RetryThroughMonitor` when
    /// it needs the agreement of other cores.
    User,
    /// Carried out as agreed: by the monitor once the cross-core protocol
    /// agreed, or by the kernel on copies it holds for a while.
    Agreed,
}

impl Mdb {
    /// `RetryThroughMonitor` when a program's operation `needs` agreement.
    pub(crate) fn gate(&self, gate: Gate, needs: bool) -> Result<(), CapError> {
        if gate == Gate::User && needs && !self.gate_bug() {
            return Err(CapError::RetryThroughMonitor);
        }
        Ok(())
    }

    #[cfg(test)]
    fn gate_bug(&self) -> bool {
        self.bug == Some(crate::tests::Bug::GateOpen)
    }

    #[cfg(not(test))]
    fn gate_bug(&self) -> bool {
        false
    }

    /// Whether a record concerns another core: owned there, or related to
    /// copies there.
    pub(crate) fn concerns_others(&self, rec: &Record) -> bool {
        rec.owner != self.core || !rec.remote.is_empty()
    }

    /// The gate of a delete of the copy `key`: owned elsewhere, or the last
    /// local copy of an object with a copy elsewhere.
    pub(crate) fn delete_needs_agreement(&self, key: &MdbKey) -> Result<bool, CapError> {
        let rec = self.record(key)?;
        let last = self.copies(key).nth(1).is_none();
        Ok(rec.owner != self.core || (last && rec.remote.contains(RemoteRelations::COPIES)))
    }

    /// The local copies and descendants of the object at `key`, itself
    /// included.
    fn object_and_below(&self, key: &MdbKey) -> Vec<MdbKey> {
        let mut keys: Vec<MdbKey> = self.copies(key).collect();
        keys.extend(self.descendants(key));
        keys
    }

    /// Sets the mark of every local copy and descendant of the object at
    /// `target`; returns how many records it changed.
    fn set_marks(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        target: CapAddr,
        marked: bool,
    ) -> Result<usize, CapError> {
        self.kernel_cap(cs, kernel)?;
        let key = self.resolve_any(cs, target)?;
        let mut changed = 0;
        for k in self.object_and_below(&key) {
            if let Some(r) = self.records.get_mut(&k)
                && r.marked != marked
            {
                r.marked = marked;
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Marks every local copy and descendant of the object at `target`
    /// (locked or marked already, it does not matter): from now on each
    /// behaves as deleted, and every invocation that names one, or
    /// reaches a slot through a marked CNode, is refused with `Marked`.
    /// Nothing is freed until [`Mdb::sweep`]. Returns how many records
    /// were not marked before. Needs the Kernel capability at `kernel`.
    pub fn mark(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        target: CapAddr,
    ) -> Result<usize, CapError> {
        let r = self.set_marks(cs, kernel, target, true);
        self.finish(r)
    }

    /// Clears the marks of every local copy and descendant of the object
    /// at `target` (an abandoned revoke or delete): they are usable again,
    /// exactly as before [`Mdb::mark`]. Returns how many records were
    /// marked. Needs the Kernel capability at `kernel`.
    pub fn unmark(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        target: CapAddr,
    ) -> Result<usize, CapError> {
        let r = self.set_marks(cs, kernel, target, false);
        self.finish(r)
    }

    /// Deletes every marked record, with whatever their deletion takes
    /// along, as [`Mdb::delete`] does: an object is destroyed only with its
    /// last copy here, and not while a copy is recorded elsewhere
    /// (`COPIES`). Returns how many records went, and the effects. Needs
    /// the Kernel capability at `kernel`.
    pub fn sweep(&mut self, cs: CSpace, kernel: CapAddr) -> Result<(usize, Vec<Effect>), CapError> {
        let r = self.kernel_cap(cs, kernel).map(|()| {
            let before = self.records.len();
            let marked: Vec<MdbKey> = self
                .records
                .iter()
                .filter(|(_, r)| r.marked)
                .map(|(k, _)| *k)
                .collect();
            let mut effects = Vec::new();
            self.delete_all(marked, &mut effects);
            (before - self.records.len(), effects)
        });
        self.finish(r)
    }

    /// Runs `op` once `kernel` names the Kernel capability.
    fn as_monitor<T>(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        op: impl FnOnce(&mut Mdb) -> Result<T, CapError>,
    ) -> Result<T, CapError> {
        match self.kernel_cap(cs, kernel) {
            Ok(()) => op(self),
            Err(e) => self.finish(Err(e)),
        }
    }

    /// [`Mdb::delete`] as agreed: without the `RetryThroughMonitor` gate.
    /// Needs the Kernel capability at `kernel` (`NoKernelCap`).
    pub fn delete_agreed(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        addr: CapAddr,
    ) -> Result<Vec<Effect>, CapError> {
        self.as_monitor(cs, kernel, |db| db.delete_as(Gate::Agreed, cs, addr))
    }

    /// [`Mdb::revoke`] as agreed: without the `RetryThroughMonitor` gate.
    /// Needs the Kernel capability at `kernel` (`NoKernelCap`).
    pub fn revoke_agreed(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        addr: CapAddr,
    ) -> Result<Vec<Effect>, CapError> {
        self.as_monitor(cs, kernel, |db| db.revoke_as(Gate::Agreed, cs, addr))
    }

    /// [`Mdb::retype`] as agreed: without the `RetryThroughMonitor` gate
    /// (a source owned elsewhere is still `NotPermitted`, and one with
    /// descendants on another core `HasDescendants`). Needs the Kernel
    /// capability at `kernel` (`NoKernelCap`).
    pub fn retype_agreed(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        src: CapAddr,
        args: RetypeArgs,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<Vec<Effect>, CapError> {
        self.as_monitor(cs, kernel, |db| {
            db.retype_as(Gate::Agreed, cs, src, args, dest_cnode, dest_slot)
        })
    }
}
