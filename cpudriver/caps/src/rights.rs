//! Rights carried by a capability.

bitflags::bitflags! {
    /// What the holder of a capability may do with it.
    ///
    /// * `READ`: map a frame readable (every mapping needs it).
    /// * `WRITE`: map a frame writable; retype RAM; change a VNode's entries;
    ///   place capabilities into a CNode.
    /// * `EXECUTE`: map a frame executable.
    /// * `GRANT`: copy or mint the capability.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct Rights: u8 {
        /// May be read (mapped readable).
        const READ = 1 << 0;
        /// May be written (mapped writable, retyped, modified).
        const WRITE = 1 << 1;
        /// May be executed (mapped executable).
        const EXECUTE = 1 << 2;
        /// May be copied, minted or sent.
        const GRANT = 1 << 3;
    }
}

impl Rights {
    /// Every right: what a newly created object's capability carries.
    pub const ALL: Rights = Rights::all();
}
