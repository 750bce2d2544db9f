//! The monitor's operations, gated on holding the Kernel capability: create
//! a capability received from another core, create a Notify capability,
//! and set the lock bit and remote relations of a capability.

use crate::cspace::{CSpace, CapAddr};
use crate::effect::Effect;
use crate::mdb::{Mdb, RemoteRelations};
use crate::types::{Cap, CapType};
use crate::wire;
use abi::CapError;
use alloc::vec::Vec;

/// Memory that capabilities received from other cores may name: the range
/// `[base, end)`, handed out by core `owner`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Importable {
    /// The core that hands it out (owns the objects made of it).
    pub owner: u32,
    /// First byte.
    pub base: u64,
    /// One past the last byte.
    pub end: u64,
}

impl Importable {
    /// Whether `[base, base + size)` lies whole inside this range, handed
    /// out by `owner`.
    pub fn holds(&self, owner: u32, base: u64, size: u64) -> bool {
        owner == self.owner
            && base
                .checked_add(size)
                .is_some_and(|end| base >= self.base && end <= self.end)
    }
}

impl Mdb {
    /// Checks that `kernel` names a Kernel capability (locked or not):
    /// `NoKernelCap` for another capability, the address's own error for
    /// a slot that does not exist or is empty.
    pub fn kernel_cap(&self, cs: CSpace, kernel: CapAddr) -> Result<(), CapError> {
        let key = self.resolve_any(cs, kernel)?;
        if self.record(&key)?.cap.ty != CapType::Kernel {
            return Err(CapError::NoKernelCap);
        }
        Ok(())
    }

    /// Creates a capability received from another core from its wire bytes,
    /// owned by `owner`, with the relations `remote` (the sender's copy
    /// makes `COPIES` usual).
    ///
    /// Only RAM, Frame and Notify capabilities may arrive: the state of the
    /// other types lives on the core that made them (`NotPermitted`). Checks,
    /// in this order: `kernel` names the Kernel capability (`NoKernelCap`);
    /// the bytes decode (`Malformed`); the type may arrive
    /// (`NotPermitted`); the destination slot exists, is empty and its CNode
    /// has WRITE; the object fits the local tree (`WouldOverlap`: it may
    /// not partially overlap a local object, and only RAM may contain
    /// another); local copies of it have the same owner
    /// (`NotPermitted`). The relations are merged into those of the local
    /// copies.
    ///
    /// This form trusts the bytes to name memory that the owner hands out:
    /// it is for the kernel's own boot steps and for tests. Bytes a program
    /// gives go through [`Mdb::create_received_within`].
    #[allow(clippy::too_many_arguments)]
    pub fn create_received(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        bytes: &[u8],
        owner: u32,
        remote: RemoteRelations,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<(), CapError> {
        let anywhere = [Importable {
            owner,
            base: 0,
            end: u64::MAX,
        }];
        self.create_received_within(
            &anywhere, cs, kernel, bytes, owner, remote, dest_cnode, dest_slot,
        )
    }

    /// [`Mdb::create_received`] for bytes a program gave: the memory of a
    /// RAM or Frame capability must lie whole inside one of `within` whose
    /// owner is `owner` (`NotImportable`; checked right after the type).
    /// The kernel passes the memory each core hands out and the shared
    /// pool, so that no import names its own frames, page tables or heap,
    /// nor memory another core keeps. (A Notify names no memory.)
    #[allow(clippy::too_many_arguments)]
    pub fn create_received_within(
        &mut self,
        within: &[Importable],
        cs: CSpace,
        kernel: CapAddr,
        bytes: &[u8],
        owner: u32,
        remote: RemoteRelations,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<(), CapError> {
        let r = (|| {
            self.kernel_cap(cs, kernel)?;
            let cap = wire::from_bytes(bytes)?;
            if !cap.ty.transferable() {
                return Err(CapError::NotPermitted);
            }
            if cap.ty != CapType::Notify
                && !within.iter().any(|r| r.holds(owner, cap.base, cap.size))
            {
                return Err(CapError::NotImportable);
            }
            let slot = self.resolve_dest(cs, dest_cnode, dest_slot, 1)?;
            self.place_new(cap, slot, owner, remote)
        })();
        self.finish(r)
    }

    /// Inserts a capability that did not come from a local derivation.
    fn place_new(
        &mut self,
        cap: Cap,
        slot: Vec<crate::cspace::Slot>,
        owner: u32,
        remote: RemoteRelations,
    ) -> Result<(), CapError> {
        if !self.fits_tree(&cap) {
            return Err(CapError::WouldOverlap);
        }
        let copy = self
            .records
            .values()
            .find(|r| r.cap.same_object(&cap))
            .map(|r| (r.owner, r.remote));
        let remote = match copy {
            Some((o, _)) if o != owner => return Err(CapError::NotPermitted),
            Some((_, r)) => r | remote,
            None => remote,
        };
        for s in slot {
            let key = self.insert(cap, s, owner, remote);
            self.set_remote_all(&key, remote);
        }
        Ok(())
    }

    /// Creates a Notify capability for core `core`, owned here.
    pub fn create_notify(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        core: u32,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<(), CapError> {
        let r = self.kernel_cap(cs, kernel).and_then(|()| {
            let slot = self.resolve_dest(cs, dest_cnode, dest_slot, 1)?;
            let cap = Cap::new(CapType::Notify, u64::from(core), 0);
            self.place_new(cap, slot, self.core, RemoteRelations::empty())
        });
        self.finish(r)
    }

    /// Sets or clears the lock bit of the capability at `target` (that copy
    /// only). A locked capability is refused by every other operation that
    /// names it, and by a revoke that would delete it.
    pub fn set_locked(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        target: CapAddr,
        locked: bool,
    ) -> Result<(), CapError> {
        let r = self.kernel_cap(cs, kernel).and_then(|()| {
            let key = self.resolve_any(cs, target)?;
            if let Some(r) = self.records.get_mut(&key) {
                r.locked = locked;
            }
            Ok(())
        });
        self.finish(r)
    }

    /// Sets the remote relations of the object at `target` (on every local
    /// copy). Only a transferable type (RAM, Frame, Notify) can have any
    /// (`NotPermitted`).
    pub fn set_remote(
        &mut self,
        cs: CSpace,
        kernel: CapAddr,
        target: CapAddr,
        remote: RemoteRelations,
    ) -> Result<Vec<Effect>, CapError> {
        let r = self.kernel_cap(cs, kernel).and_then(|()| {
            let key = self.resolve_any(cs, target)?;
            if !remote.is_empty() && !self.record(&key)?.cap.ty.transferable() {
                return Err(CapError::NotPermitted);
            }
            self.set_remote_all(&key, remote);
            Ok(Vec::new())
        });
        self.finish(r)
    }

    /// Encodes the capability at `addr` for sending to another core; it
    /// needs GRANT (`MissingRight`) and a transferable type
    /// (`NotPermitted`).
    pub fn export(&self, cs: CSpace, addr: CapAddr) -> Result<[u8; wire::WIRE_LEN], CapError> {
        self.export_inner(cs, addr)
    }

    /// [`Mdb::export`] for a program that must show the Kernel capability
    /// at `kernel` first (`NoKernelCap`), as the monitor's system call does.
    pub fn export_with(
        &self,
        cs: CSpace,
        kernel: CapAddr,
        addr: CapAddr,
    ) -> Result<[u8; wire::WIRE_LEN], CapError> {
        self.kernel_cap(cs, kernel)?;
        self.export_inner(cs, addr)
    }

    fn export_inner(&self, cs: CSpace, addr: CapAddr) -> Result<[u8; wire::WIRE_LEN], CapError> {
        let (_, cap) = self.cap_at(cs, addr)?;
        Mdb::need(cap.rights, crate::Rights::GRANT)?;
        if !cap.ty.transferable() {
            return Err(CapError::NotPermitted);
        }
        Ok(wire::to_bytes(&cap))
    }
}
