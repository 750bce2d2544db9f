//! The ring-3 runtime of Flotilla programs.
//!
//! A program links this module and defines
//!
//! ```ignore
//! #[unsafe(no_mangle)]
//! extern "C" fn program_main(core: u32, cores: u32) -> u64 { ... }
//! ```
//!
//! The runtime's `_start` sets up the heap at `abi::HEAP_BASE` (demand
//! paged by the CPU driver, or, in a domain spawned from user level, by
//! the domain's own exception handler, [`pager`]), calls `program_main` and
//! exits with its result. A
//! panic, an allocation failure included, prints its message and makes the
//! `panic` system call: the CPU driver prints the `program-panic` record
//! and stops the machine, or, for a domain spawned from user level, ends
//! that domain alone.
//!
//! Under the kernel's `test=user-panic` and `test=user-oom` scenarios the
//! CPU driver asks (with an `abi::StartTest` code at entry) for a
//! deliberate panic or heap exhaustion before `program_main` runs.

use core::fmt::{self, Write};

use linked_list_allocator::LockedHeap;

pub mod checks;
pub mod domain_loader;
pub mod pager;
mod platform;
pub mod runs;

pub use abi::user as sys;
pub use platform::Ring3;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

// The entry points: `_start`; the fault upcall of `pager`, which resumes
// with `flotilla_fault`'s answer; the run upcall of `runs`. Both upcalls
// end in their resume system call, whose number is in %eax and argument
// in %edi, with the other argument registers cleared.
core::arch::global_asm!(
    r#"
    .section .text._start, "ax"
    .global _start
_start:
    xor %ebp, %ebp
    and $-16, %rsp
    call flotilla_rt_start
    ud2

    .section .text.flotilla_fault_entry, "ax"
    .global flotilla_fault_entry
flotilla_fault_entry:
    call flotilla_fault
    mov %rax, %rdi
    mov ${fault_resume}, %eax
    jmp flotilla_resume

    .section .text.flotilla_run_entry, "ax"
    .global flotilla_run_entry
flotilla_run_entry:
    call flotilla_run_upcall
    mov ${run_resume}, %eax
    xor %edi, %edi
    jmp flotilla_resume

    .section .text.flotilla_resume, "ax"
flotilla_resume:
    xor %esi, %esi
    xor %edx, %edx
    xor %r10d, %r10d
    xor %r8d, %r8d
    xor %r9d, %r9d
    syscall
    ud2
"#,
    fault_resume = const abi::number::FAULT_RESUME,
    run_resume = const abi::number::DISPATCHER_RESUME,
    options(att_syntax)
);

unsafe extern "C" {
    fn program_main(core: u32, cores: u32) -> u64;
}

#[unsafe(no_mangle)]
extern "C" fn flotilla_rt_start(core: u64, cores: u64, test: u64) -> ! {
    // A spawned domain pages its heap itself, from its own RAM; a program
    // the CPU driver loaded has it paged by the CPU driver.
    let heap = match pager::init() {
        0 => abi::HEAP_SIZE,
        bytes => bytes,
    };
    // SAFETY: `[HEAP_BASE, HEAP_BASE + heap)` is this program's heap, mapped
    // on first touch (by the CPU driver, or by the pager); nothing else
    // uses it.
    unsafe { HEAP.lock().init(abi::HEAP_BASE as *mut u8, heap as usize) };
    match abi::StartTest::from_code(test) {
        abi::StartTest::None => {}
        abi::StartTest::Panic => {
            panic!("deliberate panic in ring 3 on core {core} (test=user-panic)")
        }
        abi::StartTest::ExhaustHeap => exhaust_heap(),
    }
    // SAFETY: `program_main` is the program's entry, defined with this
    // signature by the binary that links the runtime.
    let code = unsafe { program_main(core as u32, cores as u32) };
    sys::exit(code)
}

/// Ends the run, pass or fail, with the Shutdown capability of the first
/// cspace. A program without it (a domain) panics with the kernel's
/// refusal, which ends that program.
pub fn end_run(pass: bool) -> ! {
    let refused = sys::shutdown(abi::cap::CPtr::l1(abi::cap::slot::SHUTDOWN), pass);
    panic!("the kernel refused to end the run: {}", refused.name())
}

/// Allocates and touches 64 KiB blocks until the heap is exhausted. The
/// failed allocation panics (the default allocation error handler).
fn exhaust_heap() -> ! {
    const BLOCK: usize = 64 << 10;
    loop {
        let block = alloc::vec![0x5au8; BLOCK].into_boxed_slice();
        core::hint::black_box(alloc::boxed::Box::leak(block));
    }
}

/// A line being formatted for [`sys::print`].
pub struct Line {
    buf: [u8; abi::MAX_PRINT as usize],
    len: usize,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Line {
        Line {
            buf: [0; abi::MAX_PRINT as usize],
            len: 0,
        }
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        // Only whole `str`s are ever appended, so this cannot fail.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Default for Line {
    fn default() -> Line {
        Line::new()
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        if take < s.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// Prints one line (cut at `abi::MAX_PRINT` bytes).
pub fn print(args: fmt::Arguments<'_>) {
    let mut line = Line::new();
    let _ = line.write_fmt(args);
    if line.len > 0 {
        let _ = sys::print(line.as_str());
    }
}

/// Prints a structured record: `@flotilla/1 <kind> <fields>`.
pub fn record(kind: &str, fields: fmt::Arguments<'_>) {
    print(format_args!("@flotilla/1 {kind} {fields}"));
}

/// Prints a line with `format!` syntax.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => { $crate::platforms::ring3::print(format_args!($($arg)*)) };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    print(format_args!("PANIC in ring 3: {info}"));
    let (file, line) = info.location().map_or(("", 0), |l| (l.file(), l.line()));
    sys::panic(file, line)
}
