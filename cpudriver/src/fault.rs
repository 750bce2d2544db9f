//! Reports of fatal events: CPU exceptions and panics.
//!
//! Every report names the core and says what happened, then ends the run
//! with `ExitCode::Fault` or `ExitCode::Panic`, so the host always learns
//! which core failed and why.

use core::fmt::{self, Write};

use boot::protocol::ExitCode;
use x86_64::registers::control::Cr2;

use crate::arch::trap::{TrapFrame, exception_name};
use crate::console::{fatal_line, fatal_record};
use crate::exit::exit;
use crate::layout::{GUARD, Stack};

/// Writes `name` with spaces as dashes (record values have no spaces).
struct Slug<'a>(&'a str);

impl fmt::Display for Slug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            f.write_char(if c == ' ' {
                '-'
            } else {
                c.to_ascii_lowercase()
            })?;
        }
        Ok(())
    }
}

/// Explains a page-fault error code.
struct PageFaultCause(u64);

impl fmt::Display for PageFaultCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        let access = if e & 0x10 != 0 {
            "instruction fetch"
        } else if e & 0x2 != 0 {
            "write"
        } else {
            "read"
        };
        let page = if e & 0x1 != 0 {
            "a protection violation"
        } else {
            "a non-present page"
        };
        let ring = if e & 0x4 != 0 { 3 } else { 0 };
        write!(f, "{access} in ring {ring} hit {page}")?;
        if e & 0x8 != 0 {
            write!(f, " (reserved bit set in a page-table entry)")?;
        }
        Ok(())
    }
}

/// The stack whose guard page holds `addr`, if any.
fn guard_hit(addr: u64) -> Option<Stack> {
    Stack::ALL
        .into_iter()
        .find(|s| (s.bottom() - GUARD..s.bottom()).contains(&addr))
}

/// Prints the frame-pointer chain starting at `rbp`.
fn backtrace(mut rbp: u64) {
    let image = crate::layout::image();
    let in_stacks = |a: u64| {
        Stack::ALL
            .iter()
            .any(|s| (s.bottom()..s.top()).contains(&a))
    };
    for depth in 0..16 {
        if rbp == 0 || !rbp.is_multiple_of(8) || !in_stacks(rbp) || !in_stacks(rbp + 8) {
            break;
        }
        // SAFETY: `rbp` and `rbp + 8` were checked to lie inside this core's
        // mapped stacks, so both reads are of mapped memory.
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if !(image.text.0..image.text.1).contains(&ret) {
            break;
        }
        fatal_line(format_args!("  #{depth} return address {ret:#x}"));
        rbp = next;
    }
}

/// Reports a CPU exception taken in the kernel and ends the run.
pub fn exception(frame: &TrapFrame) -> ! {
    let vector = frame.vector;
    let name = exception_name(vector);
    let cr2 = Cr2::read_raw();
    let ring = frame.cs & 3;
    fatal_line(format_args!(
        "FAULT: {name} (vector {vector}) in ring {ring}: error={:#x} rip={:#x} cr2={cr2:#x} rsp={:#x} rflags={:#x}",
        frame.error, frame.rip, frame.rsp, frame.rflags
    ));
    if vector == 14 {
        fatal_line(format_args!(
            "  page fault at {cr2:#x}: {}",
            PageFaultCause(frame.error)
        ));
    }
    if let Some(stack) = guard_hit(cr2) {
        fatal_line(format_args!(
            "  {cr2:#x} is in the guard page below the {stack:?} stack: stack overflow"
        ));
    }
    backtrace(frame.rbp);
    if !crate::arch::on_boot_page_tables() {
        crate::user::fuzz_watch::report_recent();
    }
    fatal_record(
        "fault",
        format_args!(
            "vector={vector} name={} error={:#x} rip={:#x} cr2={cr2:#x}",
            Slug(name),
            frame.error,
            frame.rip
        ),
    );
    exit(ExitCode::Fault)
}

/// Reports a panic and ends the run.
pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if crate::arch::on_boot_page_tables() {
        // No kernel static is reachable: report without them.
        crate::console::early_line(
            u32::MAX,
            format_args!("PANIC before the core's address space existed: {info}"),
        );
        exit(ExitCode::Panic);
    }
    fatal_line(format_args!("PANIC: {info}"));
    crate::user::fuzz_watch::report_recent();
    let (file, line) = info
        .location()
        .map(|l| (l.file(), l.line()))
        .unwrap_or(("unknown", 0));
    fatal_record("panic", format_args!("file={file} line={line}"));
    exit(ExitCode::Panic)
}
