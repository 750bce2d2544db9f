//! User-level threads: cooperative threads with their own stacks inside one
//! program (one dispatcher), switched without the kernel.
//!
//! An [`Executor`] runs threads round robin; a thread gives the processor
//! up with [`Ctx::yield_now`], or waits split-phase with [`Ctx::wait_for`]
//! (it yields until a condition holds, for instance until another thread
//! has stored a reply). A switch saves and restores only the registers the
//! x86-64 System V ABI makes the callee keep (`rbx`, `rbp`, `r12`–`r15`,
//! `rsp`): it is an ordinary function call to the thread that yields.
//!
//! Hand-written, because the crates that do this (`corosensei`,
//! `context`) assume a host operating system for their stacks or their
//! unwinding, and a ring-3 program of this kernel has neither; the switch
//! is a dozen instructions. It is the same code on the host, where its
//! tests run.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::UnsafeCell;

core::arch::global_asm!(
    r#"
    .text
    .global flotilla_thread_switch
flotilla_thread_switch:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    .global flotilla_thread_start
flotilla_thread_start:
    mov %r12, %rdi
    call flotilla_thread_entry
    ud2
"#,
    options(att_syntax)
);

unsafe extern "C" {
    /// Saves the callee-saved registers on the current stack, stores the
    /// stack pointer at `save`, loads `next` and restores from there.
    fn flotilla_thread_switch(save: *mut usize, next: usize);
    /// The first return address of a new thread: calls
    /// `flotilla_thread_entry` with the executor (kept in `r12`).
    fn flotilla_thread_start();
}

/// Bytes of a thread's stack unless said otherwise.
pub const DEFAULT_STACK: usize = 32 * 1024;

/// A thread's body: it gets the handle it yields with.
type Body = Box<dyn FnOnce(&Ctx)>;

struct Thread {
    /// The saved stack pointer while it does not run.
    sp: usize,
    /// Its stack (never moved: the box's memory stays put).
    _stack: Box<[u8]>,
    body: Option<Body>,
    done: bool,
}

struct Inner {
    threads: Vec<Thread>,
    current: usize,
    /// The scheduler's stack pointer while a thread runs.
    main_sp: usize,
}

/// Round-robin cooperative threads of one program.
pub struct Executor {
    inner: UnsafeCell<Inner>,
}

/// A running thread's handle on its executor.
pub struct Ctx {
    inner: *mut Inner,
}

impl Default for Executor {
    fn default() -> Executor {
        Executor::new()
    }
}

impl Executor {
    /// No threads yet.
    pub fn new() -> Executor {
        Executor {
            inner: UnsafeCell::new(Inner {
                threads: Vec::new(),
                // The first turn goes to thread 0 (the next after this).
                current: usize::MAX,
                main_sp: 0,
            }),
        }
    }

    /// Adds a thread that runs `body` on a stack of `stack` bytes (at
    /// least 4 KiB).
    pub fn spawn(&mut self, stack: usize, body: impl FnOnce(&Ctx) + 'static) {
        let ptr = self.inner.get();
        // SAFETY: `&mut self`: nothing else uses the executor's state.
        push_thread(unsafe { &mut *ptr }, ptr, stack, Box::new(body));
    }

    /// Runs the threads round robin until every one has returned.
    pub fn run(&mut self) {
        let inner = self.inner.get();
        loop {
            // SAFETY: no thread runs while the scheduler looks; the threads
            // only touch `Inner` between switches, on this same processor.
            let next = unsafe {
                let s = &mut *inner;
                let n = s.threads.len();
                (1..=n)
                    .map(|k| s.current.wrapping_add(k) % n)
                    .find(|&i| !s.threads[i].done)
            };
            let Some(i) = next else {
                return;
            };
            // SAFETY: `i` is a live thread whose saved stack pointer came
            // from `push_thread` or from its own last switch; it switches
            // back to `main_sp` when it yields or ends.
            unsafe {
                let s = &mut *inner;
                s.current = i;
                let sp = s.threads[i].sp;
                flotilla_thread_switch(&raw mut s.main_sp, sp);
            }
        }
    }
}

/// Adds a thread to `inner` (which is at `ptr`).
fn push_thread(inner: &mut Inner, ptr: *mut Inner, stack: usize, body: Body) {
    let size = stack.max(4096) & !15;
    let mut memory = vec![0u8; size].into_boxed_slice();
    let top = (memory.as_mut_ptr() as usize + size) & !15;
    // The frame `flotilla_thread_switch` pops: r15, r14, r13, r12 (the
    // executor), rbx, rbp, then the return address. After the six pops and
    // the `ret` the stack pointer is `top`, 16-byte aligned, as the call in
    // `flotilla_thread_start` needs it.
    let frame = [
        0,
        0,
        0,
        ptr as usize,
        0,
        0,
        flotilla_thread_start as *const () as usize,
    ];
    let sp = top - frame.len() * 8;
    for (k, word) in frame.iter().enumerate() {
        // SAFETY: `sp + 8k` lies in `memory`, below `top`, 8-byte aligned.
        unsafe { ((sp + k * 8) as *mut usize).write(*word) };
    }
    inner.threads.push(Thread {
        sp,
        _stack: memory,
        body: Some(body),
        done: false,
    });
}

/// The first thing a new thread runs: its body, then back to the scheduler
/// for good.
#[unsafe(no_mangle)]
extern "C" fn flotilla_thread_entry(inner: *mut Inner) -> ! {
    // SAFETY: the executor put its own address in the new thread's frame,
    // and it outlives its threads (`run` returns only when all are done).
    let body = unsafe {
        let s = &mut *inner;
        s.threads[s.current].body.take()
    };
    if let Some(body) = body {
        body(&Ctx { inner });
    }
    // SAFETY: as above; a done thread is never switched to again, so the
    // stack pointer saved here is never used.
    unsafe {
        let s = &mut *inner;
        let i = s.current;
        s.threads[i].done = true;
        let mut dead = 0usize;
        flotilla_thread_switch(&raw mut dead, s.main_sp);
    }
    unreachable!("a finished thread ran again")
}

impl Ctx {
    /// Lets the executor's other threads run; returns on this thread's
    /// next turn.
    pub fn yield_now(&self) {
        // SAFETY: this thread is the executor's current one; the scheduler
        // switches back to the stack pointer saved here.
        unsafe {
            let s = &mut *self.inner;
            let i = s.current;
            let main = s.main_sp;
            flotilla_thread_switch(&raw mut s.threads[i].sp, main);
        }
    }

    /// Yields until `ready()` holds: a split-phase wait.
    pub fn wait_for(&self, mut ready: impl FnMut() -> bool) {
        while !ready() {
            self.yield_now();
        }
    }

    /// Adds a thread from inside one.
    pub fn spawn(&self, stack: usize, body: impl FnOnce(&Ctx) + 'static) {
        // SAFETY: the scheduler does not run while this thread does; the
        // list may grow, but no reference into it is held across the call.
        unsafe { push_thread(&mut *self.inner, self.inner, stack, Box::new(body)) };
    }

    /// The index of the running thread, in spawn order.
    pub fn id(&self) -> usize {
        // SAFETY: a read of the executor this thread runs on.
        unsafe { (*self.inner).current }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use core::cell::{Cell, RefCell};

    #[test]
    fn threads_take_turns_at_each_yield() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut ex = Executor::new();
        for t in 0..3usize {
            let log = Rc::clone(&log);
            ex.spawn(DEFAULT_STACK, move |ctx| {
                for step in 0..3 {
                    log.borrow_mut().push((t, step, ctx.id()));
                    ctx.yield_now();
                }
            });
        }
        ex.run();
        let got: Vec<(usize, usize)> = log.borrow().iter().map(|&(t, s, _)| (t, s)).collect();
        let want: Vec<(usize, usize)> = (0..3).flat_map(|s| (0..3).map(move |t| (t, s))).collect();
        assert_eq!(got, want);
        assert!(log.borrow().iter().all(|&(t, _, id)| t == id));
    }

    #[test]
    fn a_thread_waits_split_phase_for_another_s_reply() {
        let reply = Rc::new(Cell::new(None));
        let order = Rc::new(RefCell::new(Vec::new()));
        let mut ex = Executor::new();
        {
            let (reply, order) = (Rc::clone(&reply), Rc::clone(&order));
            ex.spawn(DEFAULT_STACK, move |ctx| {
                order.borrow_mut().push("ask");
                ctx.wait_for(|| reply.get().is_some());
                order.borrow_mut().push("got");
                assert_eq!(reply.get(), Some(42));
            });
        }
        {
            let (reply, order) = (Rc::clone(&reply), Rc::clone(&order));
            ex.spawn(DEFAULT_STACK, move |ctx| {
                for _ in 0..5 {
                    order.borrow_mut().push("serve");
                    ctx.yield_now();
                }
                reply.set(Some(42));
            });
        }
        ex.run();
        let o = order.borrow();
        assert_eq!(o.first(), Some(&"ask"));
        assert_eq!(o.last(), Some(&"got"));
        assert_eq!(o.iter().filter(|s| **s == "serve").count(), 5);
    }

    #[test]
    fn threads_spawn_threads_and_keep_their_registers_and_deep_stacks() {
        let sum = Rc::new(Cell::new(0u64));
        let mut ex = Executor::new();
        let s = Rc::clone(&sum);
        ex.spawn(DEFAULT_STACK, move |ctx| {
            for k in 1..=4u64 {
                let s = Rc::clone(&s);
                ctx.spawn(DEFAULT_STACK, move |ctx| {
                    // Locals live across switches, and recursion uses the
                    // thread's own stack.
                    fn depth(n: u64, ctx: &Ctx) -> u64 {
                        if n == 0 {
                            ctx.yield_now();
                            return 0;
                        }
                        let local = [n; 16];
                        depth(n - 1, ctx) + local.iter().sum::<u64>() / 16
                    }
                    let d = depth(20 * k, ctx);
                    s.set(s.get() + d);
                });
            }
        });
        ex.run();
        let want: u64 = (1..=4u64).map(|k| (1..=20 * k).sum::<u64>()).sum();
        assert_eq!(sum.get(), want);
    }
}
