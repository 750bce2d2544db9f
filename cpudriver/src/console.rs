//! Serial output: whole lines, never interleaved between cores.
//!
//! There is one UART (COM1) and every core prints to it. This is one of the
//! two pieces of state cores share (see `boot::handoff`): the boot core
//! programs the UART once, before other cores start, and places the driver
//! in the handshake area's [`Header`] behind a test-and-set lock that
//! serialises *lines*. A line is formatted into a buffer on the printing
//! core's stack first, so the lock is held only while bytes go out.

use core::fmt::{self, Write};

use boot::handoff::Header;
use boot::protocol::RECORD_TAG;
use boot::stamp::{ProgramText, Stamp};
use spin::Once;
use spin::mutex::SpinMutex;
use uart_16550::Uart16550;
use uart_16550::backend::PioBackend;

/// The UART driver state kept in the handshake area.
pub type Uart = Uart16550<PioBackend>;
/// The handshake area's header, with the serial line in it.
pub type SharedHeader = Header<Uart>;

const COM1: u16 = 0x3f8;
/// Longest line printed; longer lines are cut and marked at their end.
/// Room for a ring-3 program's longest line after the core prefix and the
/// program's stamp (`[domain NAME] `, at most 42 bytes). Kernel messages
/// show outside values shortened (`boot::text`), so they stay far below.
const LINE: usize = abi::MAX_PRINT as usize + 128;
const CUT: &str = " [line truncated]";
/// How many lock attempts a fatal report makes before it prints anyway.
const FORCE_TRIES: u32 = 5_000_000;

static LINE_LOCK: Once<&'static SpinMutex<Uart>> = Once::new();
static PREFIX_CORE: Once<u32> = Once::new();

/// A driver for COM1 that is not shared: for the boot core before the
/// handshake area exists, and for fatal reports that cannot get the lock.
pub fn uart() -> Uart {
    // SAFETY: COM1 is present on every machine Flotilla boots on; its eight
    // registers start at 0x3f8. Only the boot core programs it (`init`);
    // transmitting bytes from several cores is serialised by the line lock.
    match unsafe { Uart16550::new_port(COM1) } {
        Ok(uart) => uart,
        Err(_) => unreachable!("0x3f8 + 7 does not overflow"),
    }
}

/// Programs the UART (boot core only, before any other core runs) and
/// returns the driver, to be placed in the handshake area.
///
/// Touches no kernel static: the boot core calls it on the boot page tables.
pub fn program_uart() -> Uart {
    let mut uart = uart();
    let _ = uart.init(uart_16550::Config::default());
    uart
}

/// Connects this core to the shared serial line and sets its line prefix.
pub fn init(header: &'static SharedHeader, core: u32) {
    LINE_LOCK.call_once(|| &header.serial);
    PREFIX_CORE.call_once(|| core);
}

/// A line being formatted.
struct Line {
    text: heapless::String<LINE>,
    truncated: bool,
}

impl Line {
    fn new(core: Option<u32>) -> Line {
        let mut line = Line {
            text: heapless::String::new(),
            truncated: false,
        };
        match core {
            Some(id) => {
                let _ = write!(line, "[core {id}] ");
            }
            None => {
                let _ = line.write_str("[core ?] ");
            }
        }
        line
    }

    fn finish(mut self) -> heapless::String<LINE> {
        if self.truncated {
            while self.text.len() > LINE - CUT.len() - 1 {
                self.text.pop();
            }
            let _ = self.text.push_str(CUT);
        }
        if self.text.push('\n').is_err() {
            self.text.pop();
            let _ = self.text.push('\n');
        }
        self.text
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            // A line is one line: embedded newlines become spaces.
            let c = if c == '\n' || c == '\r' { ' ' } else { c };
            if self.text.push(c).is_err() {
                self.truncated = true;
                break;
            }
        }
        Ok(())
    }
}

fn emit(bytes: &[u8], forced: bool) {
    let Some(lock) = LINE_LOCK.get() else {
        uart().send_bytes_exact(bytes);
        return;
    };
    if !forced {
        acquire(lock).send_bytes_exact(bytes);
        return;
    }
    // A fatal report must come out even if the lock's holder died holding it.
    for _ in 0..FORCE_TRIES {
        if let Some(mut shared) = lock.try_lock() {
            shared.send_bytes_exact(bytes);
            return;
        }
        core::hint::spin_loop();
    }
    uart().send_bytes_exact(bytes);
}

/// Lock attempts before a waiting core naps.
const SPINS_BEFORE_NAP: u32 = 64;
/// How long a waiting core naps, in microseconds.
const NAP_US: u64 = 20;

/// Takes the line lock: poll briefly, then block.
///
/// On a machine with more virtual cores than host cores, spinning waiters
/// take host time from the core that holds the lock; a waiter therefore
/// halts for a short timer nap between bursts of attempts, once its clocks
/// are known.
fn acquire(lock: &'static SpinMutex<Uart>) -> spin::mutex::SpinMutexGuard<'static, Uart> {
    loop {
        for _ in 0..SPINS_BEFORE_NAP {
            if let Some(guard) = lock.try_lock() {
                return guard;
            }
            core::hint::spin_loop();
        }
        crate::timing::nap_us(NAP_US);
    }
}

/// Prints one line with this core's prefix.
pub fn line(args: fmt::Arguments<'_>) {
    let mut l = Line::new(PREFIX_CORE.get().copied());
    let _ = l.write_fmt(args);
    emit(l.finish().as_bytes(), false);
}

/// Prints one line that a ring-3 program printed: the kernel's stamp
/// naming the program, then its text, kept on this one line
/// (`boot::stamp`).
pub fn program_line(stamp: Stamp<'_>, text: &str) {
    line(format_args!("{stamp} {}", ProgramText(text)));
}

/// Prints one line of a fatal report: it does not wait forever for the lock.
pub fn fatal_line(args: fmt::Arguments<'_>) {
    let mut l = Line::new(PREFIX_CORE.get().copied());
    let _ = l.write_fmt(args);
    emit(l.finish().as_bytes(), true);
}

/// Prints one line before the core's own address space exists.
///
/// Touches no kernel static, so it is safe on the boot page tables. Only
/// the boot core uses it before other cores start, and the panic handler on
/// a core that cannot reach its statics.
pub fn early_line(core: u32, args: fmt::Arguments<'_>) {
    let mut l = Line::new(Some(core));
    let _ = l.write_fmt(args);
    uart().send_bytes_exact(l.finish().as_bytes());
}

/// Prints a structured record (`boot::protocol`): always, whatever the log
/// level.
pub fn record(kind: &str, fields: fmt::Arguments<'_>) {
    line(format_args!("{RECORD_TAG} {kind} {fields}"));
}

/// Prints a structured record as part of a fatal report.
pub fn fatal_record(kind: &str, fields: fmt::Arguments<'_>) {
    fatal_line(format_args!("{RECORD_TAG} {kind} {fields}"));
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            line(format_args!("{:<5} {}", record.level(), record.args()));
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Installs this core's logger at `level`.
pub fn init_log(level: boot::kernel_cmdline::LogLevel) {
    use boot::kernel_cmdline::LogLevel;
    let filter = match level {
        LogLevel::Off => log::LevelFilter::Off,
        LogLevel::Error => log::LevelFilter::Error,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Trace => log::LevelFilter::Trace,
    };
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(filter);
}
