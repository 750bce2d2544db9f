//! Parsing of the ACPI System Resource Affinity Table (SRAT).
//!
//! The SRAT says which NUMA proximity domain each processor (by APIC id) and
//! each physical memory range belongs to. Flotilla uses the proximity domain
//! as the node number. The table is parsed from its raw bytes, so that the
//! parser is tested on the host and a malformed table is an error rather than
//! a wild read.

/// Byte offset of the first entry: the 36-byte SDT header and 12 reserved
/// bytes.
const ENTRIES: usize = 48;

/// One SRAT entry that Flotilla uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SratEntry {
    /// A processor, by local APIC or x2APIC id.
    Processor {
        /// The APIC id.
        apic_id: u32,
        /// The proximity domain (node).
        node: u32,
    },
    /// A memory range.
    Memory {
        /// First physical address.
        base: u64,
        /// Length in bytes.
        len: u64,
        /// The proximity domain (node).
        node: u32,
        /// Hot-pluggable memory that may be absent.
        hotplug: bool,
    },
}

/// Why a SRAT could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SratError {
    /// The table is shorter than its header or than its stated length.
    Truncated,
    /// The signature is not `SRAT`.
    Signature,
    /// An entry's length is too small for its type or runs past the table.
    BadEntry {
        /// Byte offset of the entry.
        offset: usize,
    },
}

impl core::fmt::Display for SratError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SratError::Truncated => write!(f, "SRAT is truncated"),
            SratError::Signature => write!(f, "table signature is not SRAT"),
            SratError::BadEntry { offset } => write!(f, "malformed SRAT entry at byte {offset}"),
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

/// Iterator over the enabled processor and memory entries of a SRAT.
#[derive(Clone, Debug)]
pub struct Srat<'a> {
    table: &'a [u8],
    offset: usize,
}

impl<'a> Srat<'a> {
    /// Checks the header of `table` (the whole SRAT, header included).
    pub fn new(table: &'a [u8]) -> Result<Srat<'a>, SratError> {
        if table.len() < ENTRIES {
            return Err(SratError::Truncated);
        }
        if &table[0..4] != b"SRAT" {
            return Err(SratError::Signature);
        }
        let len = u32_at(table, 4) as usize;
        if len < ENTRIES || len > table.len() {
            return Err(SratError::Truncated);
        }
        Ok(Srat {
            table: &table[..len],
            offset: ENTRIES,
        })
    }

    /// The table's length in bytes, from its header.
    pub fn table_len(header: &[u8]) -> Option<usize> {
        (header.len() >= 8).then(|| u32_at(header, 4) as usize)
    }
}

impl Iterator for Srat<'_> {
    type Item = Result<SratEntry, SratError>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.table;
        loop {
            let at = self.offset;
            if at >= b.len() {
                return None;
            }
            let bad = SratError::BadEntry { offset: at };
            if at + 2 > b.len() {
                self.offset = b.len();
                return Some(Err(bad));
            }
            let (kind, len) = (b[at], b[at + 1] as usize);
            let need = match kind {
                0 => 16,
                1 => 40,
                2 => 24,
                _ => 2,
            };
            if len < need || at + len > b.len() {
                self.offset = b.len();
                return Some(Err(bad));
            }
            self.offset = at + len;
            let e = &b[at..at + len];
            match kind {
                0 if u32_at(e, 4) & 1 != 0 => {
                    let node = u32::from(e[2])
                        | (u32::from(e[9]) << 8)
                        | (u32::from(e[10]) << 16)
                        | (u32::from(e[11]) << 24);
                    return Some(Ok(SratEntry::Processor {
                        apic_id: u32::from(e[3]),
                        node,
                    }));
                }
                1 if u32_at(e, 28) & 1 != 0 => {
                    let _reserved = u16_at(e, 6);
                    return Some(Ok(SratEntry::Memory {
                        base: u64_at(e, 8),
                        len: u64_at(e, 16),
                        node: u32_at(e, 2),
                        hotplug: u32_at(e, 28) & 2 != 0,
                    }));
                }
                2 if u32_at(e, 12) & 1 != 0 => {
                    return Some(Ok(SratEntry::Processor {
                        apic_id: u32_at(e, 8),
                        node: u32_at(e, 4),
                    }));
                }
                _ => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn table(entries: &[&[u8]]) -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(b"SRAT");
        t.extend_from_slice(&[0; 4]);
        t.resize(ENTRIES, 0);
        for e in entries {
            t.extend_from_slice(e);
        }
        let len = t.len() as u32;
        t[4..8].copy_from_slice(&len.to_le_bytes());
        t
    }

    fn lapic(apic: u8, node: u32, enabled: bool) -> Vec<u8> {
        let mut e = std::vec![0u8; 16];
        e[0] = 0;
        e[1] = 16;
        e[2] = node as u8;
        e[3] = apic;
        e[4] = enabled as u8;
        e[9..12].copy_from_slice(&node.to_le_bytes()[1..4]);
        e
    }

    fn memory(base: u64, len: u64, node: u32, flags: u32) -> Vec<u8> {
        let mut e = std::vec![0u8; 40];
        e[1] = 40;
        e[0] = 1;
        e[2..6].copy_from_slice(&node.to_le_bytes());
        e[8..16].copy_from_slice(&base.to_le_bytes());
        e[16..24].copy_from_slice(&len.to_le_bytes());
        e[28..32].copy_from_slice(&flags.to_le_bytes());
        e
    }

    fn x2apic(id: u32, node: u32) -> Vec<u8> {
        let mut e = std::vec![0u8; 24];
        e[0] = 2;
        e[1] = 24;
        e[4..8].copy_from_slice(&node.to_le_bytes());
        e[8..12].copy_from_slice(&id.to_le_bytes());
        e[12] = 1;
        e
    }

    #[test]
    fn reads_processors_and_memory() {
        let t = table(&[
            &lapic(0, 0, true),
            &lapic(1, 0x0102_0301, true),
            &lapic(2, 1, false),
            &memory(0, 0x8000_0000, 0, 1),
            &memory(0x1_0000_0000, 0x1_4000_0000, 1, 3),
            &memory(0x9_0000_0000, 1 << 30, 1, 0),
            &[9, 4, 0, 0],
            &x2apic(300, 1),
        ]);
        let entries: Vec<_> = Srat::new(&t).unwrap().map(Result::unwrap).collect();
        assert_eq!(
            entries,
            [
                SratEntry::Processor {
                    apic_id: 0,
                    node: 0
                },
                SratEntry::Processor {
                    apic_id: 1,
                    node: 0x0102_0301
                },
                SratEntry::Memory {
                    base: 0,
                    len: 0x8000_0000,
                    node: 0,
                    hotplug: false
                },
                SratEntry::Memory {
                    base: 0x1_0000_0000,
                    len: 0x1_4000_0000,
                    node: 1,
                    hotplug: true
                },
                SratEntry::Processor {
                    apic_id: 300,
                    node: 1
                },
            ]
        );
    }

    #[test]
    fn malformed_tables_are_errors() {
        assert_eq!(Srat::new(b"SRAT").unwrap_err(), SratError::Truncated);
        let mut t = table(&[]);
        t[0] = b'X';
        assert_eq!(Srat::new(&t).unwrap_err(), SratError::Signature);
        let mut t = table(&[]);
        t[4] = 200;
        assert_eq!(Srat::new(&t).unwrap_err(), SratError::Truncated);

        let mut short = lapic(0, 0, true);
        short[1] = 8;
        let t = table(&[&short]);
        let mut it = Srat::new(&t).unwrap();
        assert_eq!(
            it.next(),
            Some(Err(SratError::BadEntry { offset: ENTRIES }))
        );
        assert_eq!(it.next(), None);

        let mut long = memory(0, 1, 0, 1);
        long[1] = 200;
        let t = table(&[&long]);
        assert!(Srat::new(&t).unwrap().next().unwrap().is_err());

        let t = table(&[&[7]]);
        assert!(Srat::new(&t).unwrap().next().unwrap().is_err());
    }
}
