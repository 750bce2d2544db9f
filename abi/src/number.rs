//! Syscall numbers, in `rax`.

/// [`super::Syscall::Print`].
pub const PRINT: u64 = 0;
/// [`super::Syscall::Info`].
pub const INFO: u64 = 1;
/// [`super::Syscall::Yield`].
pub const YIELD: u64 = 2;
/// [`super::Syscall::Wait`].
pub const WAIT: u64 = 3;
/// [`super::Syscall::Notify`].
pub const NOTIFY: u64 = 4;
/// Not a call any more (it mapped the channel pool without a
/// capability): refused as unknown.
pub const RETIRED_5: u64 = 5;
/// [`super::Syscall::Args`].
pub const ARGS: u64 = 6;
/// [`super::Syscall::Exit`].
pub const EXIT: u64 = 7;
/// [`super::Syscall::Shutdown`].
pub const SHUTDOWN: u64 = 8;
/// [`super::Syscall::Panic`].
pub const PANIC: u64 = 9;
/// [`super::Syscall::CapIdentify`].
pub const CAP_IDENTIFY: u64 = 10;
/// [`super::Syscall::CapRetype`].
pub const CAP_RETYPE: u64 = 11;
/// [`super::Syscall::CapCopy`].
pub const CAP_COPY: u64 = 12;
/// [`super::Syscall::CapMint`].
pub const CAP_MINT: u64 = 13;
/// [`super::Syscall::CapDelete`].
pub const CAP_DELETE: u64 = 14;
/// [`super::Syscall::CapRevoke`].
pub const CAP_REVOKE: u64 = 15;
/// [`super::Syscall::CapMap`].
pub const CAP_MAP: u64 = 16;
/// [`super::Syscall::CapUnmap`].
pub const CAP_UNMAP: u64 = 17;
/// [`super::Syscall::CapExport`].
pub const CAP_EXPORT: u64 = 18;
/// [`super::Syscall::CapImport`].
pub const CAP_IMPORT: u64 = 19;
/// [`super::Syscall::VnodeMap`].
pub const VNODE_MAP: u64 = 20;
/// [`super::Syscall::VnodeUnmap`].
pub const VNODE_UNMAP: u64 = 21;
/// [`super::Syscall::DispatcherRun`].
pub const DISPATCHER_RUN: u64 = 22;
/// [`super::Syscall::DispatcherStatus`].
pub const DISPATCHER_STATUS: u64 = 23;
/// [`super::Syscall::LmpSend`].
pub const LMP_SEND: u64 = 24;
/// [`super::Syscall::LmpRecv`].
pub const LMP_RECV: u64 = 25;
/// [`super::Syscall::FaultHandler`].
pub const FAULT_HANDLER: u64 = 26;
/// [`super::Syscall::FaultResume`].
pub const FAULT_RESUME: u64 = 27;
/// [`super::Syscall::VnodeProtect`].
pub const VNODE_PROTECT: u64 = 28;
/// [`super::Syscall::DispatcherUpcall`].
pub const DISPATCHER_UPCALL: u64 = 29;
/// [`super::Syscall::DispatcherResume`].
pub const DISPATCHER_RESUME: u64 = 30;
/// [`super::Syscall::CapMark`].
pub const CAP_MARK: u64 = 31;
/// [`super::Syscall::CapUnmark`].
pub const CAP_UNMARK: u64 = 32;
/// [`super::Syscall::CapSweep`].
pub const CAP_SWEEP: u64 = 33;
/// [`super::Syscall::CapDeleteAgreed`].
pub const CAP_DELETE_AGREED: u64 = 34;
/// [`super::Syscall::CapRevokeAgreed`].
pub const CAP_REVOKE_AGREED: u64 = 35;
/// [`super::Syscall::CapRetypeAgreed`].
pub const CAP_RETYPE_AGREED: u64 = 36;
/// The highest call number.
pub const LAST: u64 = CAP_RETYPE_AGREED;
