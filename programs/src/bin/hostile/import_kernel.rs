//! `import-kernel`: with the Kernel capability, import bytes that name
//! memory no core hands out: this core's own kernel frames (just below
//! the RAM it hands out), the kernel image's first megabytes, and this
//! core's own RAM claimed for another core. Each must be
//! `NotImportable`; a Frame over the shared pool, which core 0 hands out,
//! still imports. Then the Kernel capability itself must not be copied on:
//! it comes without GRANT, so a copy or a mint of it is `MissingRight`.

use abi::cap::{CPtr, CapIdentity, WIRE_LEN, rights, slot, ty};
use abi::user as sys;
use abi::{CapError, Error};

use services::platforms::ring3::Ring3;
use services::platforms::ring3::checks::Checks;

/// A root slot of the first cspace that the monitor leaves free.
const SPARE: u32 = 200;

fn l1(i: u32) -> CPtr {
    CPtr::l1(i)
}

/// The wire bytes of a capability of type `ty` over `[base, base + size)`.
fn bytes(ty: u8, rights: u8, base: u64, size: u64) -> [u8; WIRE_LEN] {
    let mut b = [0u8; WIRE_LEN];
    b[0] = 1;
    b[1] = ty;
    b[2] = rights;
    b[8..16].copy_from_slice(&base.to_le_bytes());
    b[16..24].copy_from_slice(&size.to_le_bytes());
    b
}

fn id(c: CPtr) -> Result<CapIdentity, Error> {
    sys::cap_identify(c)
}

/// Runs the attack on a core other than 0 (the owner it names is core 0).
pub fn run(p: &mut Ring3, c: &mut Checks) {
    let core = p.info().core;
    let refused = Some(Error::Cap(CapError::NotImportable));
    let kernel = l1(slot::KERNEL);
    let root = l1(slot::ROOT_CNODE);
    let Some(ram) = c.check("identify-the-ram", None, id(l1(slot::RAM))) else {
        return;
    };
    c.holds("not-on-core-0", core != 0);
    let all = rights::ALL;
    let page = 4096;
    let huge = 2 << 20;
    let attacks: [(&str, [u8; WIRE_LEN]); 6] = [
        (
            "import-a-frame-over-this-kernels-frames",
            bytes(ty::FRAME, all, ram.base - page, page),
        ),
        (
            "import-2-mib-of-this-kernels-frames",
            bytes(ty::FRAME, all, ram.base - huge, huge),
        ),
        (
            "import-ram-over-this-kernels-frames",
            bytes(ty::RAM, all, ram.base - huge, huge),
        ),
        (
            "import-a-frame-over-the-kernel-image",
            bytes(ty::FRAME, all, 0x10_0000, huge),
        ),
        (
            "import-a-frame-across-the-ram-start",
            bytes(ty::FRAME, all, ram.base - page, 2 * page),
        ),
        (
            "import-this-cores-ram-as-core-0s",
            bytes(ty::FRAME, all, ram.base, page),
        ),
    ];
    for (name, b) in attacks {
        let got = sys::cap_import(kernel, &b, root, SPARE, 0);
        let taken = got.is_ok();
        c.check(name, refused, got);
        if taken {
            // The attack worked: drop what it got, and go on.
            let _ = sys::cap_delete(l1(SPARE));
        }
    }
    c.check(
        "nothing-was-imported",
        Some(Error::Cap(CapError::EmptySlot)),
        id(l1(SPARE)),
    );
    // The shared pool is core 0's to hand out: a copy of its first Frame
    // imports, with the rights this core's copy has.
    if let Some(pool) = CPtr::l2(slot::POOL, 1).and_then(|f| id(f).ok()) {
        let b = bytes(ty::FRAME, pool.rights, pool.base, pool.size);
        c.check(
            "import-a-frame-of-the-pool",
            None,
            sys::cap_import(kernel, &b, root, SPARE, 0),
        );
        c.check("drop-it", None, sys::cap_delete(l1(SPARE)));
    }

    // The Kernel capability is not to be copied on.
    let k = c.check("identify-the-kernel-cap", None, id(kernel));
    c.holds(
        "the-kernel-cap-has-no-grant",
        k.is_some_and(|k| k.ty == ty::KERNEL && k.rights & rights::GRANT == 0),
    );
    let missing = Some(Error::Cap(CapError::MissingRight));
    let got = sys::cap_copy(kernel, root, SPARE);
    let copied = got.is_ok();
    c.check("copy-the-kernel-cap", missing, got);
    if copied {
        let _ = sys::cap_delete(l1(SPARE));
    }
    let got = sys::cap_mint(kernel, root, SPARE, rights::READ, 0);
    let minted = got.is_ok();
    c.check("mint-the-kernel-cap", missing, got);
    if minted {
        let _ = sys::cap_delete(l1(SPARE));
    }
    c.check("the-kernel-cap-stays", None, id(kernel));
    c.check("the-ram-stays", None, id(l1(slot::RAM)));
}
