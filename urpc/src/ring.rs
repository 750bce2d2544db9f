//! Setting up regions: formatting once, attaching from either side.

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use crate::FlowControl;
use crate::backend::{AtomicWord, Backend, Native, PayloadCell};
use crate::channel::{Receiver, Sender};
use crate::error::SetupError;
use crate::layout::{
    CONTROL_BYTES, Control, DuplexMem, LAYOUT_VERSION, MAGIC, MAX_SLOTS, REGION_ALIGN, RingMem,
    SETUP_MAGIC, SETUP_SLOTS, SETUP_VARIANT, SETUP_VERSION, SLOTS_OFFSET, Slot, initial_header,
    region_size,
};

/// The flow-control variant a ring was formatted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The receiver publishes its consumption count in its own line; the
    /// sender reads it only when its cached view says the ring is full.
    AckLine = 1,
    /// The receiver clears the full flag of each consumed slot; the sender
    /// checks the flag of the slot it is about to write.
    UsedBit = 2,
}

impl Variant {
    /// The word recorded in the setup line.
    pub const fn to_word(self) -> u64 {
        self as u64
    }

    /// Parses a recorded variant word.
    pub const fn from_word(word: u64) -> Option<Variant> {
        match word {
            1 => Some(Variant::AckLine),
            2 => Some(Variant::UsedBit),
            _ => None,
        }
    }
}

/// A handle on a formatted ring region: the control block and the slots.
///
/// It is `Copy`, `Send` and `Sync`; it grants nothing by itself. Endpoints
/// are made from it with [`Sender::new`] and [`Receiver::new`], each of which
/// claims its end of the ring (a second claim fails with
/// [`SetupError::AlreadyAttached`] until the first endpoint is dropped).
pub struct Ring<'a, B: Backend = Native> {
    pub(crate) control: &'a Control<B>,
    pub(crate) slots: &'a [Slot<B>],
    pub(crate) variant: Variant,
}

impl<B: Backend> Clone for Ring<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<B: Backend> Copy for Ring<'_, B> {}

impl<B: Backend> core::fmt::Debug for Ring<'_, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ring")
            .field("slots", &self.slots.len())
            .field("variant", &self.variant)
            .finish()
    }
}

fn check_slot_count(slots: usize) -> Result<(), SetupError> {
    if slots == 0 || slots > MAX_SLOTS {
        return Err(SetupError::BadSlotCount {
            slots: slots as u64,
        });
    }
    Ok(())
}

/// Writes a fresh ring into `control` and `slots`. The magic word goes last,
/// with Release, so that a peer whose Acquire load sees it sees the rest.
fn format_parts<B: Backend>(control: &Control<B>, slots: &[Slot<B>], variant: Variant) {
    let n = slots.len();
    let zero = [0u64; crate::PAYLOAD_WORDS];
    for (i, slot) in slots.iter().enumerate() {
        slot.payload.write(&zero);
        slot.header.store(initial_header(i, n), Ordering::Relaxed);
    }
    for line in [&control.sender, &control.receiver, &control.reserved] {
        for w in &line.words {
            w.store(0, Ordering::Relaxed);
        }
    }
    let setup = &control.setup.words;
    for w in setup.iter().skip(1) {
        w.store(0, Ordering::Relaxed);
    }
    setup[SETUP_VERSION].store(LAYOUT_VERSION, Ordering::Relaxed);
    setup[SETUP_SLOTS].store(n as u64, Ordering::Relaxed);
    setup[SETUP_VARIANT].store(variant.to_word(), Ordering::Relaxed);
    setup[SETUP_MAGIC].store(MAGIC, Ordering::Release);
}

/// Reads and checks the setup line; returns the slot count and variant.
/// `available` is the number of slots the memory has room for.
fn read_setup<B: Backend>(
    control: &Control<B>,
    available: usize,
) -> Result<(usize, Variant), SetupError> {
    let setup = &control.setup.words;
    let magic = setup[SETUP_MAGIC].load(Ordering::Acquire);
    if magic != MAGIC {
        return Err(SetupError::NotFormatted { found: magic });
    }
    let version = setup[SETUP_VERSION].load(Ordering::Relaxed);
    if version != LAYOUT_VERSION {
        return Err(SetupError::UnsupportedVersion { found: version });
    }
    let slots = setup[SETUP_SLOTS].load(Ordering::Relaxed);
    if slots == 0 || slots > MAX_SLOTS as u64 {
        return Err(SetupError::BadSlotCount { slots });
    }
    let slots = slots as usize;
    if slots > available {
        return Err(SetupError::TooSmall {
            needed: region_size(slots),
            actual: region_size(available),
        });
    }
    let word = setup[SETUP_VARIANT].load(Ordering::Relaxed);
    let variant = Variant::from_word(word).ok_or(SetupError::UnknownVariant { found: word })?;
    Ok((slots, variant))
}

/// Checks the pointer and length of a byte region.
fn check_bytes(ptr: NonNull<u8>, len: usize) -> Result<(), SetupError> {
    let addr = ptr.as_ptr() as usize;
    if !addr.is_multiple_of(REGION_ALIGN) {
        return Err(SetupError::Misaligned { addr });
    }
    if len < CONTROL_BYTES {
        return Err(SetupError::TooSmall {
            needed: CONTROL_BYTES,
            actual: len,
        });
    }
    Ok(())
}

impl<'a> Ring<'a, Native> {
    /// Formats `mem` as a ring of `slots` slots with the given flow control
    /// and returns a handle on it. `mem` must be 64-byte aligned and at least
    /// [`region_size(slots)`](crate::region_size) bytes; bytes past that are
    /// left alone.
    ///
    /// This is the one-time initialisation step. Both endpoints are then made
    /// from the returned handle (it is `Copy` and `Send`).
    pub fn format(mem: &'a mut [u8], slots: usize, variant: Variant) -> Result<Self, SetupError> {
        let len = mem.len();
        let ptr = NonNull::from(mem).cast::<u8>();
        // SAFETY: `mem` is exclusively borrowed for `'a`, so the region is
        // valid and accessed only through the returned handle for `'a`.
        unsafe { Ring::format_raw(ptr, len, slots, variant) }
    }

    /// Formats the region at `ptr` (`len` bytes) as in [`Ring::format`].
    ///
    /// # Safety
    ///
    /// `ptr..ptr + len` must be valid for reads and writes for `'a`, and for
    /// `'a` no code in this address space may access it except through this
    /// crate (another core or address space may access it in any way: all
    /// accesses made here are atomic).
    pub unsafe fn format_raw(
        ptr: NonNull<u8>,
        len: usize,
        slots: usize,
        variant: Variant,
    ) -> Result<Self, SetupError> {
        check_bytes(ptr, len)?;
        check_slot_count(slots)?;
        let needed = region_size(slots);
        if len < needed {
            return Err(SetupError::TooSmall {
                needed,
                actual: len,
            });
        }
        // SAFETY: the region is aligned and long enough for the control block
        // and `slots` slots (checked above); it is valid for `'a` and only
        // accessed atomically (caller's contract); every bit pattern is a
        // valid `AtomicU64`.
        let (control, slot_refs) = unsafe { Self::view(ptr, slots) };
        format_parts(control, slot_refs, variant);
        Ok(Ring {
            control,
            slots: slot_refs,
            variant,
        })
    }

    /// Attaches to a region that has already been formatted (by this or by
    /// another party), checking its magic, version, slot count and variant.
    ///
    /// # Safety
    ///
    /// As for [`Ring::format_raw`].
    pub unsafe fn attach_raw(ptr: NonNull<u8>, len: usize) -> Result<Self, SetupError> {
        check_bytes(ptr, len)?;
        // SAFETY: aligned and at least `CONTROL_BYTES` long (checked above),
        // valid for `'a` and only accessed atomically (caller's contract).
        let (control, _) = unsafe { Self::view(ptr, 0) };
        let available = (len - SLOTS_OFFSET) / crate::SLOT_BYTES;
        let (slots, variant) = read_setup(control, available)?;
        // SAFETY: as above; `read_setup` checked that `slots` slots fit.
        let (control, slot_refs) = unsafe { Self::view(ptr, slots) };
        Ok(Ring {
            control,
            slots: slot_refs,
            variant,
        })
    }

    /// The typed view of a byte region.
    ///
    /// # Safety
    ///
    /// `ptr` must be 64-byte aligned and valid for reads and writes of
    /// `region_size(slots)` bytes for `'a`, and only accessed atomically
    /// during `'a`.
    unsafe fn view(ptr: NonNull<u8>, slots: usize) -> (&'a Control<Native>, &'a [Slot<Native>]) {
        let control = ptr.cast::<Control<Native>>();
        // SAFETY: in bounds of the region (caller's contract).
        let first = unsafe { ptr.add(SLOTS_OFFSET) }.cast::<Slot<Native>>();
        // SAFETY: `Control` and `Slot` with the native backend are made of
        // `AtomicU64` only, have no padding, and accept any bit pattern; the
        // memory is aligned, large enough, valid for `'a` and only accessed
        // atomically (caller's contract), so shared references are sound.
        unsafe {
            (
                control.as_ref(),
                core::slice::from_raw_parts(first.as_ptr(), slots),
            )
        }
    }
}

impl<'a, B: Backend> Ring<'a, B> {
    /// Attaches to a typed ring value (made by [`RingMem::new`]).
    pub fn attach<const N: usize>(mem: &'a RingMem<N, B>) -> Result<Self, SetupError> {
        let (slots, variant) = read_setup(&mem.control, N)?;
        Ok(Ring {
            control: &mem.control,
            slots: &mem.slots[..slots],
            variant,
        })
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// The flow-control variant the ring was formatted with.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// Claims the sending end. Same as [`Sender::new`].
    pub fn sender<F: FlowControl>(self) -> Result<Sender<'a, F, B>, SetupError> {
        Sender::new(self)
    }

    /// Claims the receiving end. Same as [`Receiver::new`].
    pub fn receiver<F: FlowControl>(self) -> Result<Receiver<'a, F, B>, SetupError> {
        Receiver::new(self)
    }
}

impl<const N: usize, B: Backend> RingMem<N, B> {
    /// A formatted ring of `N` slots (`1 <= N <= MAX_SLOTS`, checked at
    /// compile time).
    pub fn new(variant: Variant) -> Self {
        const { assert!(N >= 1 && N <= MAX_SLOTS, "slot count out of range") };
        let mem = RingMem {
            control: Control::new(),
            slots: core::array::from_fn(|_| Slot::new()),
        };
        format_parts(&mem.control, &mem.slots, variant);
        mem
    }
}

impl<const N: usize, B: Backend> DuplexMem<N, B> {
    /// A formatted duplex region: two rings of `N` slots.
    pub fn new(variant: Variant) -> Self {
        DuplexMem {
            a_to_b: RingMem::new(variant),
            b_to_a: RingMem::new(variant),
        }
    }
}

/// Which side of a duplex channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Sends on the first ring, receives on the second.
    A,
    /// Sends on the second ring, receives on the first.
    B,
}

/// A duplex channel region: two rings, A-to-B at offset 0 and B-to-A right
/// after it (at `region_size(slots)`).
pub struct Duplex<'a, B: Backend = Native> {
    /// The ring side A sends on.
    pub a_to_b: Ring<'a, B>,
    /// The ring side B sends on.
    pub b_to_a: Ring<'a, B>,
}

impl<B: Backend> Clone for Duplex<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<B: Backend> Copy for Duplex<'_, B> {}

impl<B: Backend> core::fmt::Debug for Duplex<'_, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Duplex")
            .field("a_to_b", &self.a_to_b)
            .field("b_to_a", &self.b_to_a)
            .finish()
    }
}

impl<'a> Duplex<'a, Native> {
    /// Formats `mem` as two rings of `slots` slots each. `mem` must be
    /// 64-byte aligned and at least
    /// [`duplex_region_size(slots)`](crate::duplex_region_size) bytes.
    pub fn format(mem: &'a mut [u8], slots: usize, variant: Variant) -> Result<Self, SetupError> {
        check_slot_count(slots)?;
        let one = region_size(slots);
        if mem.len() < 2 * one {
            return Err(SetupError::TooSmall {
                needed: 2 * one,
                actual: mem.len(),
            });
        }
        let (first, second) = mem.split_at_mut(one);
        Ok(Duplex {
            a_to_b: Ring::format(first, slots, variant)?,
            b_to_a: Ring::format(second, slots, variant)?,
        })
    }

    /// Attaches to a formatted duplex region.
    ///
    /// # Safety
    ///
    /// As for [`Ring::format_raw`].
    pub unsafe fn attach_raw(ptr: NonNull<u8>, len: usize) -> Result<Self, SetupError> {
        // SAFETY: forwarded caller contract.
        let a_to_b = unsafe { Ring::attach_raw(ptr, len) }?;
        let one = region_size(a_to_b.slots());
        // `one <= len` was checked by the first attach.
        // SAFETY: `one <= len`, so the offset stays within the region.
        let second = unsafe { ptr.add(one) };
        // SAFETY: the rest of the caller's region, same contract.
        let b_to_a = unsafe { Ring::attach_raw(second, len - one) }?;
        Ok(Duplex { a_to_b, b_to_a })
    }
}

impl<'a, B: Backend> Duplex<'a, B> {
    /// Attaches to a typed duplex value (made by [`DuplexMem::new`]).
    pub fn attach<const N: usize>(mem: &'a DuplexMem<N, B>) -> Result<Self, SetupError> {
        Ok(Duplex {
            a_to_b: Ring::attach(&mem.a_to_b)?,
            b_to_a: Ring::attach(&mem.b_to_a)?,
        })
    }

    /// Claims one side: its sender and its receiver.
    pub fn endpoint<F: FlowControl>(self, side: Side) -> Result<Endpoint<'a, F, B>, SetupError> {
        let (out, inn) = match side {
            Side::A => (self.a_to_b, self.b_to_a),
            Side::B => (self.b_to_a, self.a_to_b),
        };
        Ok(Endpoint {
            tx: Sender::new(out)?,
            rx: Receiver::new(inn)?,
        })
    }
}

/// One side of a duplex channel.
#[derive(Debug)]
pub struct Endpoint<'a, F: FlowControl = crate::AckLine, B: Backend = Native> {
    /// Sends to the other side.
    pub tx: Sender<'a, F, B>,
    /// Receives from the other side.
    pub rx: Receiver<'a, F, B>,
}
