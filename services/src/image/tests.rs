use super::*;
use abi::cap::rights::{EXECUTE as X, READ as R, WRITE as W};

/// A segment of a test image: address, file bytes, memory size, flags.
struct Seg {
    va: u64,
    file: usize,
    mem: u64,
    flags: u32,
}

/// A static x86_64 executable with `segs`, entry `entry`, and no section
/// headers; each segment's file bytes are `0x11 * (index + 1)`.
fn elf_image(entry: u64, segs: &[Seg]) -> Vec<u8> {
    let phoff = 64usize;
    let data = phoff + 56 * segs.len();
    let mut out = alloc::vec![0u8; data];
    out[..4].copy_from_slice(b"\x7fELF");
    out[4] = 2; // 64-bit
    out[5] = 1; // little endian
    out[6] = 1; // version
    out[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[24..32].copy_from_slice(&entry.to_le_bytes());
    out[32..40].copy_from_slice(&(phoff as u64).to_le_bytes());
    out[52..54].copy_from_slice(&64u16.to_le_bytes()); // ehsize
    out[54..56].copy_from_slice(&56u16.to_le_bytes()); // phentsize
    out[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
    out[58..60].copy_from_slice(&64u16.to_le_bytes()); // shentsize
    for (i, s) in segs.iter().enumerate() {
        let offset = out.len() as u64;
        out.extend(core::iter::repeat_n(0x11 * (i as u8 + 1), s.file));
        let ph = phoff + 56 * i;
        let mut put = |at: usize, v: u64, n: usize| {
            out[ph + at..ph + at + n].copy_from_slice(&v.to_le_bytes()[..n]);
        };
        put(0, 1, 4); // PT_LOAD
        put(4, u64::from(s.flags), 4);
        put(8, offset, 8);
        put(16, s.va, 8);
        put(24, s.va, 8);
        put(32, s.file as u64, 8);
        put(40, s.mem, 8);
        put(48, 0x1000, 8);
    }
    out
}

const PF_R: u32 = 4;
const RX: u32 = PF_R | 1;
const RW: u32 = PF_R | 2;

fn probe_like() -> Vec<u8> {
    elf_image(
        0x40_0000,
        &[
            Seg {
                va: 0x40_0000,
                file: 0x26ff,
                mem: 0x26ff,
                flags: RX,
            },
            Seg {
                va: 0x40_3000,
                file: 0x884,
                mem: 0x884,
                flags: RW,
            },
            Seg {
                va: 0x40_4000,
                file: 0x30,
                mem: 0x1038,
                flags: RW,
            },
        ],
    )
}

#[test]
fn plans_text_data_and_bss_then_stack_and_heap() {
    let image = probe_like();
    let p = plan(&image, 1000).unwrap();
    assert_eq!(p.entry, 0x40_0000);
    assert_eq!(p.pages, 6 + STACK_PAGES);
    let stack = abi::STACK_TOP - STACK_PAGES * PAGE;
    assert_eq!(
        p.runs,
        alloc::vec![
            Run {
                va: 0x40_0000,
                page: 0,
                count: 3,
                rights: R | X
            },
            Run {
                va: 0x40_3000,
                page: 3,
                count: 3,
                rights: R | W
            },
            Run {
                va: stack,
                page: 6,
                count: STACK_PAGES as u32,
                rights: R | W
            },
        ]
    );
    // The file bytes land at their offsets from the lowest page; the bss
    // beyond them stays zero.
    assert_eq!(p.copies.len(), 3);
    assert_eq!(p.copies[1].1, 0x3000);
    assert_eq!(p.copies[2].0.len(), 0x30);
    assert!(p.copies.iter().all(|(r, _)| r.end <= image.len()));
    let t = p.tables();
    assert_eq!(
        t.pdpt,
        alloc::vec![0, region(abi::HEAP_BASE, 39), region(stack, 39)]
    );
    assert_eq!(t.pt.len(), 3);
}

#[test]
fn a_shared_page_gets_the_union_of_rights() {
    let image = elf_image(
        0x40_0000,
        &[
            Seg {
                va: 0x40_0000,
                file: 0x1800,
                mem: 0x1800,
                flags: RX,
            },
            Seg {
                va: 0x40_1800,
                file: 0x100,
                mem: 0x100,
                flags: RW,
            },
        ],
    );
    let p = plan(&image, 1000).unwrap();
    assert_eq!(p.runs[0], run(0x40_0000, 0, 1, R | X));
    assert_eq!(p.runs[1], run(0x40_1000, 1, 1, R | W | X));
}

#[test]
fn runs_split_at_2_mib_regions() {
    let image = one_seg(0x5f_f000, 0x5f_f000, 0x10, 0x3000, RX);
    let p = plan(&image, 1000).unwrap();
    assert_eq!(p.runs[0], run(0x5f_f000, 0, 1, R | X));
    assert_eq!(p.runs[1], run(0x60_0000, 1, 2, R | X));
    assert_eq!(p.tables().pt[..2], [0x40_0000, 0x60_0000]);
}

/// A run of `count` pages from image page `page`, mapped at `va` with
/// `rights`.
fn run(va: u64, page: u64, count: u32, rights: u8) -> Run {
    Run {
        va,
        page,
        count,
        rights,
    }
}

/// An image of one segment (address, file bytes, memory size, flags)
/// entered at `entry`.
fn one_seg(entry: u64, va: u64, file: usize, mem: u64, flags: u32) -> Vec<u8> {
    elf_image(
        entry,
        &[Seg {
            va,
            file,
            mem,
            flags,
        }],
    )
}

#[test]
fn refuses_bad_images_with_typed_errors() {
    assert_eq!(plan(&[0u8; 200], 100), Err(ImageError::NotElf));
    let mut wrong = probe_like();
    wrong[16] = 3; // ET_DYN
    assert_eq!(plan(&wrong, 100), Err(ImageError::WrongKind));
    use ImageError::{BadEntry, BadSegment};
    let high = abi::IMAGE_LIMIT - 0x1000;
    for (what, image, error) in [
        ("low", one_seg(0x1000, 0x1000, 8, 8, RX), BadSegment),
        ("high", one_seg(0x40_0000, high, 8, 0x2000, RX), BadSegment),
        (
            "bss short",
            one_seg(0x40_0000, 0x40_0000, 64, 8, RX),
            BadSegment,
        ),
        ("no x", one_seg(0x40_0000, 0x40_0000, 8, 8, RW), BadEntry),
        ("outside", one_seg(0x50_0000, 0x40_0000, 8, 8, RX), BadEntry),
    ] {
        assert_eq!(plan(&image, 100), Err(error), "{what}");
    }
    assert_eq!(
        plan(&probe_like(), 21),
        Err(ImageError::TooLarge {
            pages: 6 + STACK_PAGES,
            limit: 21
        })
    );
    let mut cut = probe_like();
    cut.truncate(cut.len() - 1);
    assert!(matches!(plan(&cut, 100), Err(ImageError::Truncated(_))));
}

#[test]
fn every_image_error_keeps_its_name() {
    let truncated = ImageError::Truncated(ElfTruncated {
        len: 10,
        part: modules::initrd::ElfPart::Header,
        needed: 64,
    });
    let errors = [
        truncated,
        ImageError::NotElf,
        ImageError::WrongKind,
        ImageError::BadSegment,
        ImageError::BadEntry,
        ImageError::TooLarge { pages: 2, limit: 1 },
    ];
    assert_eq!(
        errors.map(|e| e.name()),
        [
            "truncated",
            "not-elf",
            "wrong-kind",
            "bad-segment",
            "bad-entry",
            "too-large"
        ]
    );
}
