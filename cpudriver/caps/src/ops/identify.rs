//! Identify: what a capability is.

use crate::cspace::{CSpace, CapAddr};
use crate::mdb::Mdb;
use crate::types::Cap;
use abi::CapError;

impl Mdb {
    /// The type, base, size, rights and badge of the capability at `addr`.
    pub fn identify(&self, cs: CSpace, addr: CapAddr) -> Result<Cap, CapError> {
        self.cap_at(cs, addr).map(|(_, cap)| cap)
    }
}
