//! The initrd: a `newc` cpio archive of ring-3 programs, checked whole
//! before any of it is used.
//!
//! The host packs the programs (`tools::image::write_initrd`) and QEMU loads
//! the archive as the first boot module. [`Archive::parse`] walks every
//! entry up to the closing `TRAILER!!!` and refuses anything malformed with
//! an [`InitrdError`] that says what is wrong and where: an empty archive, a
//! header with bad magic or a field that is not hexadecimal, a name without
//! its terminator, or an archive truncated at byte N. Only an archive that
//! passed is searched ([`Archive::find`]); a program it lacks is
//! [`InitrdError::Missing`].
//!
//! The parser is written here rather than taken from a crate because the
//! crate this kernel used (`cpio_reader`) stops silently at the first entry
//! it cannot read, so a truncated or corrupt archive looked like a shorter
//! good one, and a missing program could not be told from a broken archive.
//! The format is small: a 110-byte ASCII header (`070701` or `070702`, then
//! thirteen 8-digit hexadecimal fields), the NUL-terminated name, and the
//! data, each of the last two padded to a multiple of 4 bytes.
//!
//! [`check_elf_extent`] does the same for the programs themselves: an ELF
//! image shorter than its own headers say is reported as truncated, with
//! the sizes, rather than as "not an ELF file".

use core::fmt;

use crate::text::{Quoted, Short};

/// Size of a `newc` header.
pub const HEADER: usize = 110;
/// The name of the entry that ends an archive.
pub const TRAILER: &str = "TRAILER!!!";

const MAGIC_NEWC: &[u8; 6] = b"070701";
const MAGIC_CRC: &[u8; 6] = b"070702";
/// The header fields after the magic, in order.
const FIELDS: [&str; 13] = [
    "ino",
    "mode",
    "uid",
    "gid",
    "nlink",
    "mtime",
    "filesize",
    "devmajor",
    "devminor",
    "rdevmajor",
    "rdevminor",
    "namesize",
    "check",
];
const MODE: usize = 1;
const FILESIZE: usize = 6;
const NAMESIZE: usize = 11;
/// The file-type bits of `mode`, and the value for a regular file.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
/// Most names [`Names`] lists before it counts the rest.
const NAMES_LISTED: usize = 8;

/// Which part of an entry an archive ended inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part<'a> {
    /// The 110-byte header.
    Header,
    /// The name after the header.
    Name,
    /// The data of the named file.
    Data(&'a str),
    /// The archive ended after a whole entry, without its `TRAILER!!!`.
    Trailer,
}

/// Why an initrd cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitrdError<'a> {
    /// The archive has no bytes.
    Empty,
    /// The archive ends at byte `at`, inside `part` of the entry that starts
    /// at byte `entry`, which needs the archive to be `needed` bytes long.
    Truncated {
        /// The archive's length: where it was cut.
        at: u64,
        /// Where the entry that was cut starts.
        entry: u64,
        /// What was cut.
        part: Part<'a>,
        /// The length the archive needs for that part.
        needed: u64,
    },
    /// The header at byte `at` does not start with `070701` or `070702`.
    BadMagic {
        /// Where the header starts.
        at: u64,
        /// The six bytes found instead.
        found: [u8; 6],
    },
    /// A header field is not eight hexadecimal digits.
    BadField {
        /// Where the header starts.
        at: u64,
        /// The field's name.
        field: &'static str,
    },
    /// An entry's name is empty, lacks its NUL terminator, or is not UTF-8.
    BadName {
        /// Where the entry starts.
        at: u64,
    },
    /// The archive is well formed but holds no program of this name.
    Missing {
        /// The program looked for.
        name: &'a str,
    },
}

impl fmt::Display for InitrdError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InitrdError::Empty => f.write_str("the initrd is empty (0 bytes)"),
            InitrdError::Truncated {
                at,
                entry,
                part,
                needed,
            } => {
                write!(f, "the initrd is truncated at byte {at}: ")?;
                match part {
                    Part::Header => write!(
                        f,
                        "the entry header at byte {entry} needs {HEADER} bytes, up to byte {needed}"
                    ),
                    Part::Name => {
                        write!(
                            f,
                            "the name of the entry at byte {entry} runs to byte {needed}"
                        )
                    }
                    Part::Data(name) => write!(
                        f,
                        "the data of {} (entry at byte {entry}) runs to byte {needed}",
                        Quoted(name)
                    ),
                    Part::Trailer => write!(
                        f,
                        "it ends after the entry at byte {entry} without its closing {TRAILER} entry"
                    ),
                }
            }
            InitrdError::BadMagic { at, found } => write!(
                f,
                "the initrd has bad magic at byte {at}: '{}' is not a newc cpio header (070701 or 070702)",
                found.escape_ascii()
            ),
            InitrdError::BadField { at, field } => write!(
                f,
                "the initrd's entry at byte {at} has a bad '{field}' field (not 8 hexadecimal digits)"
            ),
            InitrdError::BadName { at } => write!(
                f,
                "the initrd's entry at byte {at} has a bad name (empty, not NUL-terminated, or not UTF-8)"
            ),
            InitrdError::Missing { name } => {
                write!(f, "the initrd holds no program {}", Quoted(name))
            }
        }
    }
}

/// One file of an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its mode bits (type and permissions).
    pub mode: u32,
    /// Its contents.
    pub data: &'a [u8],
    /// Where its header starts in the archive.
    pub offset: usize,
}

impl Entry<'_> {
    /// Whether it is a regular file (not a directory, link or device).
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
}

fn align4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

fn hex_field(header: &[u8], index: usize) -> Option<u32> {
    let start = 6 + 8 * index;
    let digits = header.get(start..start + 8)?;
    let mut value = 0u32;
    for &d in digits {
        value = value << 4 | char::from(d).to_digit(16)?;
    }
    Some(value)
}

/// Reads the entry at `at`: `Ok(None)` for the trailer, else the entry and
/// the offset of the next one.
fn entry_at(bytes: &[u8], at: usize) -> Result<Option<(Entry<'_>, usize)>, InitrdError<'_>> {
    let len = bytes.len();
    let truncated = |part, needed: usize| InitrdError::Truncated {
        at: len as u64,
        entry: at as u64,
        part,
        needed: needed as u64,
    };
    let header_end = at + HEADER;
    // The magic, or as much of it as there is: a cut inside a good magic is
    // truncation, anything else is bad magic.
    let magic = &bytes[at..len.min(at + 6)];
    if !MAGIC_NEWC.starts_with(magic) && !MAGIC_CRC.starts_with(magic) {
        let mut found = [0u8; 6];
        found[..magic.len()].copy_from_slice(magic);
        return Err(InitrdError::BadMagic {
            at: at as u64,
            found,
        });
    }
    let header = bytes
        .get(at..header_end)
        .ok_or(truncated(Part::Header, header_end))?;
    let mut fields = [0u32; FIELDS.len()];
    for (i, field) in fields.iter_mut().enumerate() {
        *field = hex_field(header, i).ok_or(InitrdError::BadField {
            at: at as u64,
            field: FIELDS[i],
        })?;
    }
    let bad_name = InitrdError::BadName { at: at as u64 };
    let namesize = fields[NAMESIZE] as usize;
    if namesize == 0 {
        return Err(bad_name);
    }
    let name_end = header_end + namesize;
    let raw = bytes
        .get(header_end..name_end)
        .ok_or(truncated(Part::Name, name_end))?;
    let (&nul, name) = raw.split_last().ok_or(bad_name)?;
    if nul != 0 || name.is_empty() {
        return Err(bad_name);
    }
    let name = core::str::from_utf8(name).map_err(|_| bad_name)?;
    if name == TRAILER {
        return Ok(None);
    }
    let data_start = align4(name_end);
    let data_end = data_start + fields[FILESIZE] as usize;
    let data = bytes
        .get(data_start..data_end)
        .ok_or(truncated(Part::Data(name), data_end))?;
    let entry = Entry {
        name,
        mode: fields[MODE],
        data,
        offset: at,
    };
    Ok(Some((entry, align4(data_end))))
}

/// A `newc` archive that has been checked from its first entry to its
/// trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Archive<'a> {
    bytes: &'a [u8],
}

impl<'a> Archive<'a> {
    /// Checks `bytes` as a whole archive. Bytes after the trailer (the
    /// padding `cpio` adds) are ignored.
    pub fn parse(bytes: &'a [u8]) -> Result<Archive<'a>, InitrdError<'a>> {
        if bytes.is_empty() {
            return Err(InitrdError::Empty);
        }
        let mut at = 0;
        loop {
            if at >= bytes.len() && at > 0 {
                let last = Archive { bytes }
                    .raw_entries()
                    .last()
                    .map_or(0, |e| e.offset);
                return Err(InitrdError::Truncated {
                    at: bytes.len() as u64,
                    entry: last as u64,
                    part: Part::Trailer,
                    needed: (at + HEADER) as u64,
                });
            }
            match entry_at(bytes, at)? {
                Some((_, next)) => at = next,
                None => return Ok(Archive { bytes }),
            }
        }
    }

    /// Every entry before the trailer, in order. Stops at the first entry
    /// that does not parse, which [`Archive::parse`] has ruled out.
    fn raw_entries(&self) -> impl Iterator<Item = Entry<'a>> + 'a {
        let bytes = self.bytes;
        let mut at = Some(0);
        core::iter::from_fn(move || {
            let (entry, next) = entry_at(bytes, at?).ok().flatten()?;
            at = Some(next);
            Some(entry)
        })
    }

    /// Every entry, in order.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'a>> + 'a {
        self.raw_entries()
    }

    /// The contents of the regular file `name`.
    pub fn find<'n>(&self, name: &'n str) -> Result<&'a [u8], InitrdError<'n>> {
        self.entries()
            .find(|e| e.name == name && e.is_file())
            .map(|e| e.data)
            .ok_or(InitrdError::Missing { name })
    }

    /// The names of the regular files, for messages.
    pub fn names(&self) -> Names<'a> {
        Names(*self)
    }
}

/// The names of an archive's regular files, comma separated, each
/// shortened; after [`NAMES_LISTED`] names, how many more there are.
#[derive(Clone, Copy, Debug)]
pub struct Names<'a>(Archive<'a>);

impl fmt::Display for Names<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut files = self.0.entries().filter(Entry::is_file);
        let mut shown = 0;
        for e in files.by_ref().take(NAMES_LISTED) {
            let sep = if shown == 0 { "" } else { ", " };
            write!(f, "{sep}{}", Short(e.name))?;
            shown += 1;
        }
        let more = files.count();
        match (shown, more) {
            (0, _) => f.write_str("no files"),
            (_, 0) => Ok(()),
            (_, more) => write!(f, " and {more} more"),
        }
    }
}

/// What part of an ELF image lies past its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfPart {
    /// The 64-byte ELF header.
    Header,
    /// The program header table.
    ProgramHeaders,
    /// The section header table.
    SectionHeaders,
    /// The file contents of loadable segment `n` (counting program headers
    /// from 0).
    Segment(u16),
}

/// An ELF image shorter than its headers say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfTruncated {
    /// The image's length.
    pub len: u64,
    /// What lies past it.
    pub part: ElfPart,
    /// The length that part needs.
    pub needed: u64,
}

impl fmt::Display for ElfTruncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "truncated: the image is {} bytes, but ", self.len)?;
        match self.part {
            ElfPart::Header => write!(f, "an ELF header needs {}", self.needed),
            ElfPart::ProgramHeaders => {
                write!(f, "its program headers run to byte {}", self.needed)
            }
            ElfPart::SectionHeaders => {
                write!(f, "its section headers run to byte {}", self.needed)
            }
            ElfPart::Segment(n) => {
                write!(f, "its loadable segment {n} runs to byte {}", self.needed)
            }
        }
    }
}

/// Size of an ELF64 header.
const ELF64_HEADER: u64 = 64;
/// Size of an ELF64 program header.
const ELF64_PHDR: u64 = 56;
/// Size of an ELF64 section header.
const ELF64_SHDR: u64 = 64;
const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const PT_LOAD: u32 = 1;

fn read<const N: usize>(image: &[u8], at: u64) -> Option<[u8; N]> {
    let at = usize::try_from(at).ok()?;
    image.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn read_u16(image: &[u8], at: u64) -> Option<u64> {
    read::<2>(image, at).map(|b| u64::from(u16::from_le_bytes(b)))
}

fn read_u32(image: &[u8], at: u64) -> Option<u32> {
    read::<4>(image, at).map(u32::from_le_bytes)
}

fn read_u64(image: &[u8], at: u64) -> Option<u64> {
    read::<8>(image, at).map(u64::from_le_bytes)
}

/// Checks that a little-endian ELF64 image holds every byte its headers
/// refer to: the header itself, the program and section header tables, and
/// the file contents of every loadable segment.
///
/// Only truncation is reported. An image that is not a little-endian ELF64
/// file (wrong magic, class or byte order), or whose headers are malformed
/// in another way (an overflowing range, an unusual program-header size),
/// passes, and the loader's own parser refuses it with its own reason. An
/// image shorter than an ELF header whose bytes agree with the ELF magic
/// (including the empty image) is truncated.
pub fn check_elf_extent(image: &[u8]) -> Result<(), ElfTruncated> {
    let len = image.len() as u64;
    let cut = |part, needed| Err(ElfTruncated { len, part, needed });
    let magic_len = image.len().min(ELF_MAGIC.len());
    if image[..magic_len] != ELF_MAGIC[..magic_len] {
        return Ok(());
    }
    if len < ELF64_HEADER {
        // Class and byte order, where present, must say ELF64 LE.
        if image.get(4).is_some_and(|&c| c != 2) || image.get(5).is_some_and(|&d| d != 1) {
            return Ok(());
        }
        return cut(ElfPart::Header, ELF64_HEADER);
    }
    if image[4] != 2 || image[5] != 1 {
        return Ok(());
    }
    let table_end = |off: u64, size: u64, count: u64| {
        count
            .checked_mul(size)
            .and_then(|bytes| off.checked_add(bytes))
    };
    // The section header table (an ELF parser reads it, the loader does
    // not use it).
    if let (Some(shoff), Some(shentsize), Some(shnum)) = (
        read_u64(image, 0x28),
        read_u16(image, 0x3a),
        read_u16(image, 0x3c),
    ) && shoff != 0
        && shnum > 0
        && shentsize >= ELF64_SHDR
        && let Some(end) = table_end(shoff, shentsize, shnum)
        && end > len
    {
        return cut(ElfPart::SectionHeaders, end);
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (
        read_u64(image, 0x20),
        read_u16(image, 0x36),
        read_u16(image, 0x38),
    ) else {
        return Ok(());
    };
    if phnum == 0 || phentsize < ELF64_PHDR {
        return Ok(());
    }
    let Some(end) = table_end(phoff, phentsize, phnum) else {
        return Ok(());
    };
    if end > len {
        return cut(ElfPart::ProgramHeaders, end);
    }
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let (Some(kind), Some(offset), Some(filesz)) = (
            read_u32(image, at),
            read_u64(image, at + 8),
            read_u64(image, at + 32),
        ) else {
            return Ok(());
        };
        if kind != PT_LOAD {
            continue;
        }
        match offset.checked_add(filesz) {
            Some(end) if end > len => return cut(ElfPart::Segment(i as u16), end),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::{String, ToString};
    use std::vec::Vec;

    /// One `newc` entry, as `cpio -o -H newc` writes it.
    fn entry(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
        let fields = [
            1,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0,
        ];
        out.extend_from_slice(MAGIC_NEWC);
        for f in fields {
            out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out.extend_from_slice(data);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in files {
            entry(&mut out, name, 0o100_755, data);
        }
        entry(&mut out, TRAILER, 0, &[]);
        // cpio pads the archive to a 512-byte block.
        while !out.len().is_multiple_of(512) {
            out.push(0);
        }
        out
    }

    #[test]
    fn reads_a_well_formed_archive() {
        let bytes = archive(&[("monitor", b"hello"), ("probe", &[7u8; 5000])]);
        let a = Archive::parse(&bytes).unwrap();
        assert_eq!(a.find("monitor"), Ok(&b"hello"[..]));
        assert_eq!(a.find("probe").unwrap().len(), 5000);
        assert_eq!(a.entries().count(), 2);
        assert_eq!(a.names().to_string(), "monitor, probe");
        assert_eq!(
            Archive::parse(&archive(&[])).unwrap().names().to_string(),
            "no files"
        );
    }

    #[test]
    fn an_empty_archive_is_refused() {
        assert_eq!(Archive::parse(&[]), Err(InitrdError::Empty));
        assert_eq!(
            InitrdError::Empty.to_string(),
            "the initrd is empty (0 bytes)"
        );
    }

    #[test]
    fn a_truncated_archive_says_where() {
        let bytes = archive(&[("monitor", &[1u8; 1000]), ("probe", &[2u8; 300])]);
        // Inside monitor's data.
        let e = Archive::parse(&bytes[..500]).unwrap_err();
        assert_eq!(
            e,
            InitrdError::Truncated {
                at: 500,
                entry: 0,
                part: Part::Data("monitor"),
                needed: 120 + 1000,
            }
        );
        assert_eq!(
            e.to_string(),
            "the initrd is truncated at byte 500: the data of 'monitor' (entry at byte 0) runs to byte 1120"
        );
        // Inside the second header.
        let e = Archive::parse(&bytes[..1150]).unwrap_err();
        assert!(
            matches!(
                e,
                InitrdError::Truncated {
                    at: 1150,
                    entry: 1120,
                    part: Part::Header,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with("the initrd is truncated at byte 1150")
        );
        // Inside a name.
        let e = Archive::parse(&bytes[..HEADER + 3]).unwrap_err();
        assert!(
            matches!(
                e,
                InitrdError::Truncated {
                    part: Part::Name,
                    ..
                }
            ),
            "{e:?}"
        );
        // After a whole entry, before the trailer.
        let e = Archive::parse(&bytes[..1120]).unwrap_err();
        assert_eq!(
            e,
            InitrdError::Truncated {
                at: 1120,
                entry: 0,
                part: Part::Trailer,
                needed: 1120 + HEADER as u64,
            }
        );
        assert!(
            e.to_string()
                .contains("without its closing TRAILER!!! entry")
        );
        // Every cut before the trailer is refused; none panics.
        let trailer_at = 1120 + align4(HEADER + 6) + 300;
        for cut in 1..trailer_at + HEADER {
            assert!(Archive::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn bad_magic_and_bad_fields_are_refused() {
        let mut bytes = archive(&[("monitor", b"x")]);
        bytes[..6].copy_from_slice(b"\x7fELF\x02\x01");
        let e = Archive::parse(&bytes).unwrap_err();
        assert_eq!(
            e,
            InitrdError::BadMagic {
                at: 0,
                found: *b"\x7fELF\x02\x01"
            }
        );
        assert_eq!(
            e.to_string(),
            "the initrd has bad magic at byte 0: '\\x7fELF\\x02\\x01' is not a newc cpio header (070701 or 070702)"
        );
        // A short archive of junk is bad magic, not truncation.
        assert!(matches!(
            Archive::parse(b"hello world"),
            Err(InitrdError::BadMagic { at: 0, .. })
        ));
        let mut bytes = archive(&[("monitor", b"x")]);
        bytes[6 + 8 * FILESIZE] = b'g';
        assert_eq!(
            Archive::parse(&bytes),
            Err(InitrdError::BadField {
                at: 0,
                field: "filesize"
            })
        );
        let mut bytes = archive(&[("monitor", b"x")]);
        bytes[HEADER + 7] = b'!';
        assert_eq!(Archive::parse(&bytes), Err(InitrdError::BadName { at: 0 }));
        let mut crc = archive(&[("monitor", b"x")]);
        crc[..6].copy_from_slice(MAGIC_CRC);
        assert!(Archive::parse(&crc).is_ok());
    }

    #[test]
    fn a_missing_program_is_named() {
        let bytes = archive(&[("probe", b"x")]);
        let a = Archive::parse(&bytes).unwrap();
        let e = a.find("monitor").unwrap_err();
        assert_eq!(e, InitrdError::Missing { name: "monitor" });
        assert_eq!(e.to_string(), "the initrd holds no program 'monitor'");
        // Only regular files are programs.
        let mut dir = Vec::new();
        entry(&mut dir, "monitor", 0o040_755, &[]);
        entry(&mut dir, TRAILER, 0, &[]);
        assert!(Archive::parse(&dir).unwrap().find("monitor").is_err());
    }

    #[test]
    fn long_lists_of_names_are_bounded() {
        let names: Vec<String> = (0..20).map(|i| format!("{}{i}", "n".repeat(100))).collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let bytes = archive(&files);
        let shown = Archive::parse(&bytes).unwrap().names().to_string();
        assert!(shown.ends_with(" and 12 more"), "{shown}");
        assert!(shown.len() < 8 * 72, "{}", shown.len());
    }

    /// A minimal ELF64 header with one PT_LOAD program header right after
    /// it, whose file contents are `filesz` bytes at offset 0x1000.
    fn elf(filesz: u64) -> Vec<u8> {
        let mut image = std::vec![0u8; 0x1000 + filesz as usize];
        image[..4].copy_from_slice(ELF_MAGIC);
        image[4] = 2;
        image[5] = 1;
        image[6] = 1;
        image[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        image[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        image[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        let ph = 64;
        image[ph..ph + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
        image[ph + 8..ph + 16].copy_from_slice(&0x1000u64.to_le_bytes());
        image[ph + 32..ph + 40].copy_from_slice(&filesz.to_le_bytes());
        image
    }

    #[test]
    fn a_truncated_elf_says_truncated() {
        let image = elf(0x800);
        assert_eq!(check_elf_extent(&image), Ok(()));
        let e = check_elf_extent(&image[..0x1200]).unwrap_err();
        assert_eq!(
            e,
            ElfTruncated {
                len: 0x1200,
                part: ElfPart::Segment(0),
                needed: 0x1800
            }
        );
        assert_eq!(
            e.to_string(),
            "truncated: the image is 4608 bytes, but its loadable segment 0 runs to byte 6144"
        );
        let e = check_elf_extent(&image[..100]).unwrap_err();
        assert_eq!(e.part, ElfPart::ProgramHeaders);
        assert_eq!(e.needed, 120);
        let e = check_elf_extent(&image[..20]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "truncated: the image is 20 bytes, but an ELF header needs 64"
        );
        assert_eq!(check_elf_extent(&[]).unwrap_err().part, ElfPart::Header);
        assert_eq!(
            check_elf_extent(b"\x7fE").unwrap_err().part,
            ElfPart::Header
        );
    }

    #[test]
    fn a_cut_section_header_table_is_truncation() {
        let mut image = elf(0x800);
        // Sections at 0x1780: 4 headers, past the end.
        image[0x28..0x30].copy_from_slice(&0x1780u64.to_le_bytes());
        image[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        image[0x3c..0x3e].copy_from_slice(&4u16.to_le_bytes());
        let e = check_elf_extent(&image).unwrap_err();
        assert_eq!(
            e,
            ElfTruncated {
                len: 0x1800,
                part: ElfPart::SectionHeaders,
                needed: 0x1880
            }
        );
        assert!(
            e.to_string()
                .ends_with("its section headers run to byte 6272")
        );
        image.resize(0x1880, 0);
        assert_eq!(check_elf_extent(&image), Ok(()));
    }

    #[test]
    fn other_malformed_images_are_left_to_the_loader() {
        assert_eq!(check_elf_extent(b"#!/bin/sh\n"), Ok(()));
        let mut image = elf(0x10);
        image[4] = 1; // ELF32
        assert_eq!(check_elf_extent(&image[..40]), Ok(()));
        assert_eq!(check_elf_extent(&image), Ok(()));
        let mut image = elf(0x10);
        image[64 + 8..64 + 16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(check_elf_extent(&image), Ok(()));
        let mut image = elf(0x10);
        image[0x38..0x3a].copy_from_slice(&0xffffu16.to_le_bytes());
        assert_eq!(
            check_elf_extent(&image).unwrap_err().part,
            ElfPart::ProgramHeaders
        );
    }
}
