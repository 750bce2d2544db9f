//! Parsing of the PVH `hvm_start_info` structure.
//!
//! QEMU starts a PVH kernel (`-kernel` with an ELF note of type
//! `XEN_ELFNOTE_PHYS32_ENTRY`) in 32-bit protected mode with paging off and the
//! physical address of an `hvm_start_info` in `%ebx`. That structure points at
//! the command line, the boot modules (`-initrd`), the ACPI RSDP and, from
//! version 1 on, the memory map. [`StartInfo::parse`] reads all of it through a
//! [`PhysMemory`] so the parser can be tested on the host against a fake
//! memory image.

use heapless::{String, Vec};

/// `hvm_start_info.magic`.
pub const START_INFO_MAGIC: u32 = 0x336e_c578;
/// Most memory-map entries kept; a larger map is an error, not a truncation.
pub const MAX_MEMMAP: usize = 64;
/// Most boot modules kept.
pub const MAX_MODULES: usize = 8;
/// Longest kernel command line kept.
pub const MAX_CMDLINE: usize = 2048;

/// Room on the command line for the options other than `user=`, each given
/// once in its longest form (see the test `the_longest_line_fits`).
pub const OTHER_OPTIONS: usize = 512;

// The longest `user=` and every other option fit on one command line.
const _: () = assert!(
    "user=".len() + crate::kernel_cmdline::UserArgs::CAPACITY + 1 + OTHER_OPTIONS <= MAX_CMDLINE
);

/// Read access to physical memory during boot.
pub trait PhysMemory {
    /// Copies `buf.len()` bytes starting at physical address `phys`, or
    /// returns `false` when that range cannot be read.
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool;
}

/// The kind of a memory-map entry (the E820 types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemKind {
    /// Free RAM.
    Usable,
    /// Reserved by firmware or devices.
    Reserved,
    /// ACPI tables, reclaimable after they have been read.
    AcpiReclaimable,
    /// ACPI non-volatile storage.
    AcpiNvs,
    /// Defective RAM.
    Unusable,
    /// Any other type code.
    Other(u32),
}

impl MemKind {
    /// Maps an E820 type code.
    pub fn from_e820(code: u32) -> MemKind {
        match code {
            1 => MemKind::Usable,
            2 => MemKind::Reserved,
            3 => MemKind::AcpiReclaimable,
            4 => MemKind::AcpiNvs,
            5 => MemKind::Unusable,
            other => MemKind::Other(other),
        }
    }
}

/// One memory-map entry: `[start, start + len)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRegion {
    /// First physical address.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// What the region is.
    pub kind: MemKind,
}

impl MemRegion {
    /// One past the last physical address.
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.len)
    }
}

/// One boot module (for example the initrd archive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Module {
    /// Physical address of the module's first byte.
    pub start: u64,
    /// Size in bytes.
    pub len: u64,
}

/// Everything the boot path needs from `hvm_start_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartInfo {
    /// Structure version reported by the loader.
    pub version: u32,
    /// Physical address of the ACPI RSDP, when the loader supplied one.
    pub rsdp: Option<u64>,
    /// The kernel command line.
    pub cmdline: String<MAX_CMDLINE>,
    /// Boot modules.
    pub modules: Vec<Module, MAX_MODULES>,
    /// The memory map (empty when the loader gave a version-0 structure).
    pub memmap: Vec<MemRegion, MAX_MEMMAP>,
}

/// Why the start info could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartInfoError {
    /// A physical range could not be read.
    Unreadable(u64),
    /// The magic number is wrong: this is not a PVH boot.
    BadMagic(u32),
    /// The command line is longer than [`MAX_CMDLINE`] bytes.
    CmdlineTooLong,
    /// The command line is not UTF-8.
    CmdlineNotUtf8,
    /// More modules than [`MAX_MODULES`].
    TooManyModules(u32),
    /// More memory-map entries than [`MAX_MEMMAP`].
    TooManyRegions(u32),
    /// The loader gave no memory map.
    NoMemoryMap,
}

impl core::fmt::Display for StartInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StartInfoError::Unreadable(a) => write!(f, "cannot read physical address {a:#x}"),
            StartInfoError::BadMagic(m) => write!(f, "bad hvm_start_info magic {m:#x}"),
            StartInfoError::CmdlineTooLong => {
                write!(f, "command line is longer than {MAX_CMDLINE} bytes")
            }
            StartInfoError::CmdlineNotUtf8 => write!(f, "command line is not UTF-8"),
            StartInfoError::TooManyModules(n) => {
                write!(f, "{n} boot modules (at most {MAX_MODULES})")
            }
            StartInfoError::TooManyRegions(n) => {
                write!(f, "{n} memory-map entries (at most {MAX_MEMMAP})")
            }
            StartInfoError::NoMemoryMap => write!(f, "the loader supplied no memory map"),
        }
    }
}

fn read_u32(mem: &dyn PhysMemory, at: u64) -> Result<u32, StartInfoError> {
    let mut b = [0u8; 4];
    if mem.read(at, &mut b) {
        Ok(u32::from_le_bytes(b))
    } else {
        Err(StartInfoError::Unreadable(at))
    }
}

fn read_u64(mem: &dyn PhysMemory, at: u64) -> Result<u64, StartInfoError> {
    let mut b = [0u8; 8];
    if mem.read(at, &mut b) {
        Ok(u64::from_le_bytes(b))
    } else {
        Err(StartInfoError::Unreadable(at))
    }
}

fn read_cmdline(mem: &dyn PhysMemory, at: u64) -> Result<String<MAX_CMDLINE>, StartInfoError> {
    let mut bytes: Vec<u8, MAX_CMDLINE> = Vec::new();
    for offset in 0..=MAX_CMDLINE as u64 {
        let mut b = [0u8; 1];
        if !mem.read(at + offset, &mut b) {
            return Err(StartInfoError::Unreadable(at + offset));
        }
        if b[0] == 0 {
            let text = core::str::from_utf8(&bytes).map_err(|_| StartInfoError::CmdlineNotUtf8)?;
            return String::try_from(text).map_err(|_| StartInfoError::CmdlineTooLong);
        }
        bytes
            .push(b[0])
            .map_err(|_| StartInfoError::CmdlineTooLong)?;
    }
    Err(StartInfoError::CmdlineTooLong)
}

impl StartInfo {
    /// Parses the `hvm_start_info` at physical address `at`.
    pub fn parse(mem: &dyn PhysMemory, at: u64) -> Result<StartInfo, StartInfoError> {
        let magic = read_u32(mem, at)?;
        if magic != START_INFO_MAGIC {
            return Err(StartInfoError::BadMagic(magic));
        }
        let version = read_u32(mem, at + 4)?;
        let nr_modules = read_u32(mem, at + 12)?;
        let modlist = read_u64(mem, at + 16)?;
        let cmdline_paddr = read_u64(mem, at + 24)?;
        let rsdp = read_u64(mem, at + 32)?;

        let cmdline = if cmdline_paddr == 0 {
            String::new()
        } else {
            read_cmdline(mem, cmdline_paddr)?
        };

        if nr_modules as usize > MAX_MODULES {
            return Err(StartInfoError::TooManyModules(nr_modules));
        }
        let mut modules = Vec::new();
        for i in 0..u64::from(nr_modules) {
            let entry = modlist + i * 32;
            let module = Module {
                start: read_u64(mem, entry)?,
                len: read_u64(mem, entry + 8)?,
            };
            // Cannot fail: the count was checked against the capacity above.
            let _ = modules.push(module);
        }

        let mut memmap = Vec::new();
        if version >= 1 {
            let table = read_u64(mem, at + 40)?;
            let entries = read_u32(mem, at + 48)?;
            if entries as usize > MAX_MEMMAP {
                return Err(StartInfoError::TooManyRegions(entries));
            }
            for i in 0..u64::from(entries) {
                let entry = table + i * 24;
                let region = MemRegion {
                    start: read_u64(mem, entry)?,
                    len: read_u64(mem, entry + 8)?,
                    kind: MemKind::from_e820(read_u32(mem, entry + 16)?),
                };
                let _ = memmap.push(region);
            }
        }
        if memmap.is_empty() {
            return Err(StartInfoError::NoMemoryMap);
        }

        Ok(StartInfo {
            version,
            rsdp: (rsdp != 0).then_some(rsdp),
            cmdline,
            modules,
            memmap,
        })
    }

    /// Total bytes of usable RAM in the memory map.
    pub fn usable_bytes(&self) -> u64 {
        self.memmap
            .iter()
            .filter(|r| r.kind == MemKind::Usable)
            .map(|r| r.len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    /// A fake physical memory: a byte vector starting at address 0.
    struct FakeMem(std::vec::Vec<u8>);

    impl FakeMem {
        fn put(&mut self, at: u64, bytes: &[u8]) {
            let at = at as usize;
            self.0[at..at + bytes.len()].copy_from_slice(bytes);
        }
        fn put_u32(&mut self, at: u64, v: u32) {
            self.put(at, &v.to_le_bytes());
        }
        fn put_u64(&mut self, at: u64, v: u64) {
            self.put(at, &v.to_le_bytes());
        }
    }

    impl PhysMemory for FakeMem {
        fn read(&self, phys: u64, buf: &mut [u8]) -> bool {
            let start = phys as usize;
            match self.0.get(start..start + buf.len()) {
                Some(src) => {
                    buf.copy_from_slice(src);
                    true
                }
                None => false,
            }
        }
    }

    fn image(version: u32) -> FakeMem {
        let mut m = FakeMem(vec![0; 0x4000]);
        m.put_u32(0x100, START_INFO_MAGIC);
        m.put_u32(0x104, version);
        m.put_u32(0x10c, 1); // one module
        m.put_u64(0x110, 0x200); // modlist
        m.put_u64(0x118, 0x300); // cmdline
        m.put_u64(0x120, 0xe0000); // rsdp
        m.put_u64(0x128, 0x400); // memmap
        m.put_u32(0x130, 2);
        m.put_u64(0x200, 0x80_0000);
        m.put_u64(0x208, 4096);
        m.put(0x300, b"log=debug test=isolation\0");
        m.put_u64(0x400, 0);
        m.put_u64(0x408, 0x9fc00);
        m.put_u32(0x410, 1);
        m.put_u64(0x418, 0x10_0000);
        m.put_u64(0x420, 0x3ff0_0000);
        m.put_u32(0x428, 1);
        m
    }

    #[test]
    fn parses_a_version_1_start_info() {
        let info = StartInfo::parse(&image(1), 0x100).unwrap();
        assert_eq!(info.version, 1);
        assert_eq!(info.rsdp, Some(0xe0000));
        assert_eq!(info.cmdline.as_str(), "log=debug test=isolation");
        assert_eq!(
            info.modules.as_slice(),
            &[Module {
                start: 0x80_0000,
                len: 4096
            }]
        );
        assert_eq!(info.memmap.len(), 2);
        assert_eq!(info.memmap[1].kind, MemKind::Usable);
        assert_eq!(info.usable_bytes(), 0x9fc00 + 0x3ff0_0000);
    }

    #[test]
    fn version_0_has_no_memory_map() {
        assert_eq!(
            StartInfo::parse(&image(0), 0x100),
            Err(StartInfoError::NoMemoryMap)
        );
    }

    #[test]
    fn bad_magic_and_unreadable_memory_are_errors() {
        let mut m = image(1);
        m.put_u32(0x100, 0x1234);
        assert_eq!(
            StartInfo::parse(&m, 0x100),
            Err(StartInfoError::BadMagic(0x1234))
        );
        assert_eq!(
            StartInfo::parse(&image(1), 0x10_0000),
            Err(StartInfoError::Unreadable(0x10_0000))
        );
    }

    #[test]
    fn oversized_tables_are_refused() {
        let mut m = image(1);
        m.put_u32(0x130, 1000);
        assert_eq!(
            StartInfo::parse(&m, 0x100),
            Err(StartInfoError::TooManyRegions(1000))
        );
        let mut m = image(1);
        m.put_u32(0x10c, 99);
        assert_eq!(
            StartInfo::parse(&m, 0x100),
            Err(StartInfoError::TooManyModules(99))
        );
    }

    #[test]
    fn unterminated_or_invalid_cmdline_is_refused() {
        let mut m = image(1);
        m.put_u64(0x118, 0x1000);
        m.put(0x1000, &[b'a'; MAX_CMDLINE + 1]);
        assert_eq!(
            StartInfo::parse(&m, 0x100),
            Err(StartInfoError::CmdlineTooLong)
        );
        let mut m = image(1);
        let mut longest = [b'a'; MAX_CMDLINE + 1];
        longest[MAX_CMDLINE] = 0;
        m.put_u64(0x118, 0x1000);
        m.put(0x1000, &longest);
        assert_eq!(
            StartInfo::parse(&m, 0x100).unwrap().cmdline.len(),
            MAX_CMDLINE
        );
        let mut m = image(1);
        m.put(0x300, &[0xff, 0xfe, 0]);
        assert_eq!(
            StartInfo::parse(&m, 0x100),
            Err(StartInfoError::CmdlineNotUtf8)
        );
    }
}
