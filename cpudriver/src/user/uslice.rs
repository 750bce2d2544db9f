//! The one way the CPU driver reaches a program's memory during its calls.
//!
//! A pointer a program passes is only a number until it is checked, and a
//! check that is repeated at every call site is one that some site gets
//! wrong. A [`USlice`] is a range of the running program's memory that has
//! been checked once, when it is made: the range does not overflow, lies in
//! the user half, is mapped user-accessible in the live address space and,
//! for [`UAccess::Write`], writable. Its methods are the only places that
//! copy to or from a program's memory, so the unsafe copies live here and
//! nowhere else.
//!
//! A slice is read once, into kernel memory, and only that copy is used:
//! the kernel never fetches the same user bytes twice, so nothing the
//! program changes between two reads can make a checked value differ from
//! the one acted upon.

use abi::SysError;
use abi::cap::CapIdentity;
use abi::disp::DispatcherParams;
use abi::{FRAME, ProgramInfo};
use x86_64::structures::paging::PageTableFlags as F;

use super::space::{AddressSpace, USER_END};

/// Whether the kernel reads a range or writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UAccess {
    /// The kernel reads it: it must be mapped user-accessible.
    Read,
    /// The kernel writes it: it must also be writable.
    Write,
}

/// Plain data: `repr(C)` integers (or arrays of them) with no padding, so
/// that every byte of a value is initialised and every bit pattern is a
/// value.
///
/// # Safety
///
/// Only for types of which both hold: their bytes can be copied out to a
/// program without leaking uninitialised memory, and any bytes a program
/// wrote can be copied in as a value.
pub unsafe trait Plain: Copy + Default {}

// SAFETY: bytes.
unsafe impl<const N: usize> Plain for [u8; N] where [u8; N]: Default {}
// SAFETY: `repr(C)`: five u64 and a byte array of `MAX_NAME` (a multiple
// of 8, asserted below), no padding.
unsafe impl Plain for DispatcherParams {}
const _: () = assert!(core::mem::size_of::<DispatcherParams>() == 5 * 8 + abi::disp::MAX_NAME);
// SAFETY: `repr(C)`: two u32, four u64, two u32, two u64, in that order, no
// padding (asserted below).
unsafe impl Plain for ProgramInfo {}
const _: () = assert!(core::mem::size_of::<ProgramInfo>() == 2 * 4 + 4 * 8 + 2 * 4 + 2 * 8);
// SAFETY: `repr(C)`: two u8, six reserved bytes, three u64, no padding
// (asserted below).
unsafe impl Plain for CapIdentity {}
const _: () = assert!(core::mem::size_of::<CapIdentity>() == 2 + 6 + 3 * 8);

/// A checked range of the running program's memory.
///
/// It borrows the address space, so that the space cannot be dropped or
/// changed through its owner while the slice is in use. (The tables of a
/// domain built from user level are also VNode objects of the capability
/// database; a slice is made and used within one call, with no capability
/// operation in between.)
pub struct USlice<'a> {
    _space: &'a AddressSpace,
    ptr: u64,
    len: usize,
    access: UAccess,
}

impl<'a> USlice<'a> {
    /// Checks `len` bytes at `ptr` in `space`, which must be the live
    /// address space (the caller's, during its call): the range must not
    /// overflow or reach past the user half, and every page of it must be
    /// mapped user-accessible (and writable for [`UAccess::Write`]).
    /// Anything else, or a `space` that is not live, is
    /// [`SysError::BadPointer`]. An empty range is only checked to lie at or
    /// below the end of the user half.
    pub fn new(
        space: &'a AddressSpace,
        ptr: u64,
        len: u64,
        access: UAccess,
    ) -> Result<USlice<'a>, SysError> {
        let end = ptr.checked_add(len).ok_or(SysError::BadPointer)?;
        if end > USER_END || !space.is_live() {
            return Err(SysError::BadPointer);
        }
        let write = access == UAccess::Write;
        let mut page = ptr & !(FRAME - 1);
        while page < end {
            let (_, flags) = space.lookup(page).ok_or(SysError::BadPointer)?;
            if !flags.contains(F::USER_ACCESSIBLE) || (write && !flags.contains(F::WRITABLE)) {
                return Err(SysError::BadPointer);
            }
            page += FRAME;
        }
        Ok(USlice {
            _space: space,
            ptr,
            // The range lies below `USER_END`, so its length fits.
            len: len as usize,
            access,
        })
    }

    /// Copies the whole range into `buf`, whose length must be the range's.
    pub fn read_into(&self, buf: &mut [u8]) {
        assert_eq!(
            buf.len(),
            self.len,
            "user slice read into a buffer of another length"
        );
        // SAFETY: `[ptr, ptr + len)` was checked to be mapped and
        // user-accessible in the live address space, which the borrow of
        // the space keeps as it was; `buf` is kernel memory of the same
        // length, so the two do not overlap. Plain bytes are copied.
        unsafe {
            core::ptr::copy_nonoverlapping(self.ptr as *const u8, buf.as_mut_ptr(), self.len)
        };
    }

    /// Copies the range, which must be one `T` long, out as a `T`.
    pub fn read<T: Plain>(&self) -> T {
        let mut value = T::default();
        // SAFETY: `T` is `Plain`: every byte of `value` is initialised, and
        // any bytes written over them form a `T`.
        let bytes = unsafe {
            core::slice::from_raw_parts_mut((&raw mut value).cast::<u8>(), size_of::<T>())
        };
        self.read_into(bytes);
        value
    }

    /// Copies `bytes`, which must be as long as the range, over it. Only
    /// for a slice made with [`UAccess::Write`].
    pub fn write(&self, bytes: &[u8]) {
        assert_eq!(
            self.access,
            UAccess::Write,
            "user slice written but checked for reading"
        );
        assert_eq!(
            bytes.len(),
            self.len,
            "user slice written with bytes of another length"
        );
        // SAFETY: `[ptr, ptr + len)` was checked to be mapped,
        // user-accessible and writable in the live address space, which the borrow of the space
        // keeps as it was; no Rust object of the kernel's lives in the user
        // half, so the copy aliases nothing. Plain bytes are copied.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr as *mut u8, self.len) };
    }

    /// Copies `value` over the range, which must be one `T` long.
    pub fn write_value<T: Plain>(&self, value: &T) {
        // SAFETY: `T` is `Plain`: all of its bytes are initialised.
        let bytes = unsafe {
            core::slice::from_raw_parts((&raw const *value).cast::<u8>(), size_of::<T>())
        };
        self.write(bytes);
    }
}
