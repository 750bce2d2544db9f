//! Entering the kernel: the raw `syscall` wrappers, and the fuzzer's
//! entries with arbitrary registers.

use crate::cap::{CapIdentity, WIRE_LEN};
use crate::layout::IMAGE_BASE;
use crate::{Error, SysError, invoke_result, number, result};

/// Makes a raw system call.
///
/// # Safety
///
/// The arguments must be valid for the call (pointers into memory the
/// caller owns, with the lengths given); the kernel checks them, but
/// cannot know whether the caller meant to let it write there.
#[inline(always)]
pub unsafe fn raw(n: u64, a0: u64, a1: u64, a2: u64) -> Result<u64, SysError> {
    let (rax, rdx): (u64, u64);
    // SAFETY: `syscall` enters the CPU driver, which preserves every
    // register but rax, rdx (results), rcx and r11 (clobbered by the
    // instruction); the caller vouches for the arguments.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") n => rax,
            in("rdi") a0,
            in("rsi") a1,
            inlateout("rdx") a2 => rdx,
            out("rcx") _,
            out("r11") _,
            options(nostack)
        );
    }
    result(rax, rdx)
}

/// Makes a raw system call with six arguments and decodes either kind
/// of error (for the capability invocations).
///
/// # Safety
///
/// As for [`raw`].
#[inline(always)]
pub unsafe fn raw6(n: u64, a: [u64; 6]) -> Result<u64, Error> {
    // SAFETY: the caller vouches for the arguments, as `raw6_regs` asks.
    let (rax, rdx) = unsafe { raw6_regs(n, a) };
    invoke_result(rax, rdx)
}

/// Makes a raw system call with six arguments and returns `rax` and
/// `rdx` as the kernel left them, undecoded (for a fuzzer, which must
/// see a code that no [`Error`] has).
///
/// # Safety
///
/// As for [`raw`].
#[inline(always)]
pub unsafe fn raw6_regs(n: u64, a: [u64; 6]) -> (u64, u64) {
    let (rax, rdx): (u64, u64);
    // SAFETY: as in `raw`; r10, r8 and r9 are inputs only and the
    // kernel keeps them.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") n => rax,
            in("rdi") a[0],
            in("rsi") a[1],
            inlateout("rdx") a[2] => rdx,
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            out("rcx") _,
            out("r11") _,
            options(nostack)
        );
    }
    (rax, rdx)
}

/// How a fuzzer's call enters the kernel ([`invoke_regs_via`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// A plain `syscall`.
    Syscall,
    /// A `syscall` made with these RFLAGS (set with `popfq`, so only
    /// the bits ring 3 may change take effect), restored after it.
    Flags(u64),
    /// A jump to the kernel's entry ([`crate::SYSCALL_ENTRY`]) from
    /// ring 3, with RCX just after a `syscall` instruction of the
    /// caller's and this word in R11, as if SYSCALL had not reached
    /// ring 0: the kernel must serve it as a call with the caller's
    /// own flags.
    Forged(u64),
}

/// The caller's RFLAGS.
#[inline(always)]
fn own_flags() -> u64 {
    let flags: u64;
    // SAFETY: reads RFLAGS through the stack, which holds the word only
    // between the push and the pop.
    unsafe { core::arch::asm!("pushfq", "popq {}", out(reg) flags, options(att_syntax)) };
    flags
}

/// Makes a raw system call as `via` says; returns `rax`, `rdx` and the
/// RFLAGS the kernel returned with (before any restore).
///
/// # Safety
///
/// As for [`raw`].
#[inline(always)]
pub unsafe fn raw6_via(n: u64, a: [u64; 6], via: Via) -> (u64, u64, u64) {
    let (rax, rdx, flags): (u64, u64, u64);
    match via {
        Via::Syscall | Via::Flags(_) => {
            // A plain call is one made with the caller's own flags.
            let set = match via {
                Via::Flags(set) => set,
                _ => own_flags(),
            };
            // SAFETY: as in `raw6_regs`; the caller's flags are saved
            // on the stack and restored after the call.
            unsafe {
                core::arch::asm!(
                    "pushfq",
                    "pushq {set}",
                    "popfq",
                    "syscall",
                    "pushfq",
                    "popq {set}",
                    "popfq",
                    set = inlateout(reg) set => flags,
                    inlateout("rax") n => rax,
                    in("rdi") a[0],
                    in("rsi") a[1],
                    inlateout("rdx") a[2] => rdx,
                    in("r10") a[3],
                    in("r8") a[4],
                    in("r9") a[5],
                    out("rcx") _,
                    out("r11") _,
                    options(att_syntax)
                );
            }
        }
        Via::Forged(r11) => {
            // SAFETY: the jump to the kernel's entry faults as a ring-3
            // fetch of a kernel page, which the kernel serves as this
            // call and returns from at label 2 (the `syscall` before it
            // is never executed); registers as in `raw6_regs`. The
            // caller's flags are saved on the stack and restored after
            // (R11 may set DF or AC).
            unsafe {
                core::arch::asm!(
                    "pushfq",
                    "lea 2f(%rip), %rcx",
                    "jmp *{entry}",
                    "syscall",
                    "2:",
                    "pushfq",
                    "popq {entry}",
                    "popfq",
                    entry = inlateout(reg) crate::SYSCALL_ENTRY => flags,
                    inlateout("rax") n => rax,
                    in("rdi") a[0],
                    in("rsi") a[1],
                    inlateout("rdx") a[2] => rdx,
                    in("r10") a[3],
                    in("r8") a[4],
                    in("r9") a[5],
                    out("rcx") _,
                    inlateout("r11") r11 => _,
                    options(att_syntax)
                );
            }
        }
    }
    (rax, rdx, flags)
}

/// Makes call `n` with arbitrary registers `a`, for a fuzzer, and
/// returns `rax` and `rdx` as the kernel left them, undecoded. Only the
/// capability invocations and the numbers above them are made (the
/// other calls print, block or end the program); for a lower number it
/// returns `None`. The pointer the kernel writes to, identify's
/// (`a[1]`) and export's (`a[2]`), where it could name the caller's own
/// memory (a lower-half address from [`IMAGE_BASE`] up), is replaced by
/// `out`'s address, so that the kernel writes nothing of the caller's
/// but `out`; a pointer into the null region below [`IMAGE_BASE`], the
/// kernel half or a non-canonical one goes through as given, for the
/// kernel to refuse. Import's pointer is only read, and goes through.
///
/// [`IMAGE_BASE`]: crate::IMAGE_BASE
pub fn invoke_regs(n: u64, a: [u64; 6], out: &mut CapIdentity) -> Option<(u64, u64)> {
    invoke_regs_via(n, a, out, Via::Syscall).map(|(rax, rdx, _)| (rax, rdx))
}

/// As [`invoke_regs`], entering the kernel as `via` says; also returns
/// the RFLAGS the kernel returned with.
pub fn invoke_regs_via(
    n: u64,
    mut a: [u64; 6],
    out: &mut CapIdentity,
    via: Via,
) -> Option<(u64, u64, u64)> {
    if n < number::CAP_IDENTIFY {
        return None;
    }
    let written = match n {
        number::CAP_IDENTIFY => Some(1),
        number::CAP_EXPORT => Some(2),
        _ => None,
    };
    if let Some(i) = written
        && (IMAGE_BASE..0x0000_8000_0000_0000).contains(&a[i])
    {
        a[i] = &raw mut *out as u64;
    }
    const _: () = assert!(core::mem::size_of::<CapIdentity>() == WIRE_LEN);
    // SAFETY: of the calls from `CAP_IDENTIFY` up, identify and export
    // write through a pointer, which names `out` or memory the program
    // does not own (never mapped below `IMAGE_BASE`, or not in the user
    // half): the kernel writes at most 32 bytes, one `CapIdentity`'s
    // size, to `out`, or refuses. Import only reads.
    Some(unsafe { raw6_via(n, a, via) })
}

/// Invokes a capability with arguments that hold no pointer.
#[inline(always)]
pub(super) fn invoke(n: u64, a: [u64; 6]) -> Result<u64, Error> {
    // SAFETY: none of these calls takes a pointer: the kernel writes no
    // memory of the caller's but the page tables it manages.
    unsafe { raw6(n, a) }
}
