//! `uthreads`: user-level threads in ring 3 (`services::platforms::threads`).
//! Three threads take turns at each yield, and a fourth waits split-phase
//! for a reply the third stores; a `uthreads` record gives the order of
//! turns and whether the wait ended with the reply.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::rc::Rc;
use alloc::string::String;
use core::cell::{Cell, RefCell};

use services::platforms::ring3::record;
use services::platforms::threads::{DEFAULT_STACK, Executor};

#[unsafe(no_mangle)]
extern "C" fn program_main(_core: u32, _cores: u32) -> u64 {
    let order = Rc::new(RefCell::new(String::new()));
    let reply = Rc::new(Cell::new(0u64));
    let mut ex = Executor::new();
    for t in 0..3u8 {
        let (order, reply) = (Rc::clone(&order), Rc::clone(&reply));
        ex.spawn(DEFAULT_STACK, move |ctx| {
            for _ in 0..3 {
                order.borrow_mut().push(char::from(b'0' + t));
                ctx.yield_now();
            }
            if t == 2 {
                reply.set(42);
            }
        });
    }
    let waited = Rc::new(Cell::new(false));
    {
        let (reply, waited) = (Rc::clone(&reply), Rc::clone(&waited));
        ex.spawn(DEFAULT_STACK, move |ctx| {
            ctx.wait_for(|| reply.get() != 0);
            waited.set(reply.get() == 42);
        });
    }
    ex.run();
    let order = order.borrow();
    record(
        "uthreads",
        format_args!("order={} waited={}", order.as_str(), u8::from(waited.get())),
    );
    u64::from(order.as_str() != "012012012" || !waited.get())
}
