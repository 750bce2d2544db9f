//! An experiment's type declared in a few lines: [`experiment!`] writes
//! the unit struct and the [`Experiment`](super::Experiment) impl that
//! every experiment shares, from its name, arguments, plan and run.

/// Declares an experiment: `Name = "name"(Args) run_fn;` then
/// `plan(req, args, cores) expr;` (the plan, a `Result`), then any
/// overrides of the trait's provided items.
///
/// The caller's module holds `args::KEYS`, a `Plan`, and a `Layout` with
/// `Layout::new(&plan, cores)` and an `end` (bytes of the arena); `Args`
/// has `parse_key(key, value)` and `write(f)`; `run_fn(p, run)` runs it.
macro_rules! experiment {
    (
        $(#[$m:meta])* $name:ident = $exp:literal($args:ty) $run:ident;
        plan($req:ident, $a:ident, $cores:ident) $plan:expr;
        $($extra:tt)*
    ) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name;

        impl $crate::exp::Experiment for $name {
            const NAME: &'static str = $exp;
            const KEYS: &'static [&'static str] = &args::KEYS;
            type Args = $args;
            type Plan = Plan;
            type Layout = Layout;

            fn parse_key(
                args: &mut $args,
                key: &str,
                value: &str,
            ) -> Result<bool, $crate::exp::ArgsError> {
                args.parse_key(key, value)
            }

            fn write_args(args: &$args, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                args.write(f)
            }

            fn plan(
                $req: &$crate::exp::Request,
                $a: &$args,
                $cores: u32,
            ) -> Result<Plan, $crate::exp::ExpError> {
                $plan
            }

            fn layout(plan: &Plan, cores: u32) -> Layout {
                Layout::new(plan, cores)
            }

            fn arena_bytes(lay: &Layout) -> usize {
                lay.end
            }

            fn run<P: $crate::platform::Platform>(
                p: &mut P,
                run: $crate::exp::Run<'_, $name>,
            ) -> Result<(), $crate::exp::ExpError> {
                $run(p, run)
            }

            $($extra)*
        }
    };
}

pub(crate) use experiment;

/// Numbers the slots of a core's result block: `slots! { A B C }` makes
/// `mod slot` with `A = 0`, `B = 1`, `C = 2`; `slots! { step 8: A B }`
/// with `A = 0`, `B = 8`.
macro_rules! slots {
    ($(#[$m:meta])* step $step:literal: $($name:ident)*) => {
        $(#[$m])*
        mod slot {
            $crate::exp::declare_exp::slots!(@each 0, $step; $($name)*);
        }
    };
    ($(#[$m:meta])* $($name:ident)*) => {
        $crate::exp::declare_exp::slots!($(#[$m])* step 1: $($name)*);
    };
    (@each $at:expr, $step:literal; $name:ident $($rest:ident)*) => {
        pub const $name: usize = $at;
        $crate::exp::declare_exp::slots!(@each $at + $step, $step; $($rest)*);
    };
    (@each $at:expr, $step:literal;) => {};
}

pub(crate) use slots;
