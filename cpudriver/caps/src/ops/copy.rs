//! Copy and mint: new copies of an object in other slots.

use crate::cspace::{CSpace, CapAddr};
use crate::mdb::Mdb;
use crate::rights::Rights;
use crate::types::CapType;
use abi::CapError;

impl Mdb {
    /// Copies the capability at `src` into slot `dest_slot` of the CNode at
    /// `dest_cnode`, with the same rights and badge. The source needs
    /// GRANT.
    pub fn copy(
        &mut self,
        cs: CSpace,
        src: CapAddr,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<(), CapError> {
        let r = self.mint_inner(cs, src, cs, dest_cnode, dest_slot, None, 0);
        self.finish(r)
    }

    /// [`Mdb::copy`] from one cspace (`src_cs`) into another (`dest_cs`):
    /// for a kernel that moves a capability between domains (a message
    /// that carries one). Same checks, in the same order: the source needs
    /// GRANT, and the destination is resolved in `dest_cs`.
    pub fn copy_across(
        &mut self,
        src_cs: CSpace,
        src: CapAddr,
        dest_cs: CSpace,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<(), CapError> {
        let r = self.mint_inner(src_cs, src, dest_cs, dest_cnode, dest_slot, None, 0);
        self.finish(r)
    }

    /// Copies the capability at `src` with `rights` (a subset of its own)
    /// and, for an unbadged Endpoint, a non-zero `badge` (0 keeps the
    /// source's badge).
    ///
    /// Checks, in this order: the source resolves and is not locked; it has
    /// GRANT (`MissingRight`); `rights` are a subset of its rights
    /// (`MissingRight`); a badge goes only on an Endpoint (`WrongType`)
    /// that has none yet (`NotPermitted`); the destination slot exists, is
    /// empty and its CNode has WRITE.
    pub fn mint(
        &mut self,
        cs: CSpace,
        src: CapAddr,
        dest_cnode: CapAddr,
        dest_slot: u32,
        rights: Rights,
        badge: u64,
    ) -> Result<(), CapError> {
        let r = self.mint_inner(cs, src, cs, dest_cnode, dest_slot, Some(rights), badge);
        self.finish(r)
    }

    #[allow(clippy::too_many_arguments)]
    fn mint_inner(
        &mut self,
        cs: CSpace,
        src: CapAddr,
        dest_cs: CSpace,
        dest_cnode: CapAddr,
        dest_slot: u32,
        rights: Option<Rights>,
        badge: u64,
    ) -> Result<(), CapError> {
        let (key, mut cap) = self.cap_at(cs, src)?;
        Mdb::need(cap.rights, Rights::GRANT)?;
        if let Some(rights) = rights {
            Mdb::need(cap.rights, rights)?;
            cap.rights = rights;
        }
        if badge != 0 {
            if cap.ty != CapType::Endpoint {
                return Err(CapError::WrongType);
            }
            if cap.badge != 0 {
                return Err(CapError::NotPermitted);
            }
            cap.badge = badge;
        }
        let slot = self.resolve_dest(dest_cs, dest_cnode, dest_slot, 1)?;
        let rec = *self.record(&key)?;
        for s in slot {
            self.insert(cap, s, rec.owner, rec.remote);
        }
        Ok(())
    }
}
