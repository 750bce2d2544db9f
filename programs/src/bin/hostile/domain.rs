//! Running an attack in a domain of this program's own image.
//!
//! The image has one entry stub per attack ([`ENTRIES`], 32 bytes apart):
//! stub `k` stores `k + 1` in [`HOSTILE_ATTACK`] and jumps to the
//! runtime's `_start`, so the domain runs `program_main` as usual and
//! learns its attack from that word (0 in the program the kernel started).
//! The domain's root CNode also holds a copy of its own PML4
//! ([`GIVEN_PML4`]), of the PDPT under the last entry of the user half
//! ([`GIVEN_TOP_PDPT`]) and spare RAM ([`GIVEN_RAM`]).

use core::sync::atomic::{AtomicU64, Ordering};

use abi::attack::Attack;
use abi::cap::CPtr;
use abi::disp::Status;
use services::platform::SpawnError;
use services::platforms::ring3::checks::Checks;
use services::platforms::ring3::domain_loader::Loader;
use services::platforms::ring3::record;
use services::platforms::ring3::sys;

/// Root slot of the domain's cspace with a copy of its PML4.
pub const GIVEN_PML4: u32 = 10;
/// Root slot of the domain's cspace with spare RAM (8 MiB).
pub const GIVEN_RAM: u32 = 11;
/// Root slot of the domain's cspace with a copy of the PDPT in the last
/// entry of its PML4 (the one its stack is under).
pub const GIVEN_TOP_PDPT: u32 = 12;

/// Which attack this domain runs: 0 outside a domain, `k + 1` for
/// `Attack::ALL[k]`. Written by the entry stub, before anything else runs.
#[unsafe(no_mangle)]
static HOSTILE_ATTACK: AtomicU64 = AtomicU64::new(0);

/// Bytes between two entry stubs.
const STUB: u64 = 32;

core::arch::global_asm!(
    r#"
    .section .text.hostile_entries, "ax"
    .balign 32
    .global hostile_entries
hostile_entries:
    .set hostile_k, 1
    .rept {count}
    .balign 32
    movq $hostile_k, HOSTILE_ATTACK(%rip)
    jmp _start
    .set hostile_k, hostile_k + 1
    .endr
"#,
    count = const Attack::ALL.len(),
    options(att_syntax)
);

unsafe extern "C" {
    /// The first entry stub.
    #[link_name = "hostile_entries"]
    static ENTRIES: u8;
}

/// The attack this domain was started for, if this is such a domain.
pub fn this_domain() -> Option<Attack> {
    let k = HOSTILE_ATTACK.load(Ordering::Relaxed);
    Attack::ALL
        .get(usize::try_from(k).ok()?.checked_sub(1)?)
        .copied()
}

/// The entry of `attack`'s stub.
pub fn entry_of(attack: Attack) -> u64 {
    let k = Attack::ALL.iter().position(|a| *a == attack).unwrap_or(0) as u64;
    &raw const ENTRIES as u64 + STUB * k
}

/// How long the parent waits for the domain to end: this many waits of
/// 10 ms.
const WAITS: u32 = 3000;

/// Runs `attack` in a new domain, waits for its end and reports it.
pub fn run(attack: Attack, c: &mut Checks) {
    let info = match sys::info() {
        Ok(info) => info,
        Err(e) => {
            c.check::<()>("info", None, Err(e.into()));
            return;
        }
    };
    let mut loader = Loader::default();
    let status = start_and_wait(&mut loader, attack, &info);
    if let Err(e) = loader.reset() {
        c.holds("hand-back", false);
        record("hostile-error", format_args!("step=reset error={e:?}"));
    }
    match status {
        Ok(status) => {
            let (name, detail) = match status {
                Status::Exited(code) => ("exited", code),
                Status::Killed(vector) => ("killed", vector),
                Status::Revoked => ("revoked", 0),
                Status::Panicked => ("panicked", 0),
                Status::Running | Status::NotStarted => ("running", 0),
            };
            record(
                "hostile-domain",
                format_args!("attack={} status={name} detail={detail}", attack.name()),
            );
        }
        Err(e) => {
            c.holds("domain-started", false);
            record("hostile-error", format_args!("step=domain error={e:?}"));
        }
    }
}

/// Builds, starts and waits for the domain; its status when it ended (or
/// `Running` when it did not end in time, and was ended by the revoke).
fn start_and_wait(
    loader: &mut Loader,
    attack: Attack,
    info: &abi::ProgramInfo,
) -> Result<Status, SpawnError> {
    let child = loader.prepare(info, "hostile")?;
    let cnode = loader.root_cnode(child)?;
    let give = |src: CPtr, at: u32, step: &'static str| {
        sys::cap_copy(src, cnode, at).map_err(|error| SpawnError::Invocation { step, error })
    };
    give(loader.pml4(child)?, GIVEN_PML4, "give the domain its PML4")?;
    give(
        loader.pdpt(child, 255)?,
        GIVEN_TOP_PDPT,
        "give the domain its top PDPT",
    )?;
    if let Some(ram) = loader.free_chunk() {
        give(ram, GIVEN_RAM, "give the domain spare RAM")?;
    }
    let entry = entry_of(attack);
    loader.start_with(child, |p| p.entry = entry)?;
    let mut status = Status::Running;
    for _ in 0..WAITS {
        status = loader.status(child)?;
        if !matches!(status, Status::Running | Status::NotStarted) {
            break;
        }
        sys::wait(info.tsc_hz / 100);
    }
    Ok(status)
}
