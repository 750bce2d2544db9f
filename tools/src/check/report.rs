//! What `flotilla check` prints: one verdict line per model, the rows of a
//! counterexample, and the staleness summary.
//!
//! ```text
//! check model=lin ops=6 keys=1 linearizable=no counterexample=2
//! counterexample: 2 operations on key 7 that cannot be linearized (minimal), lines 2,5
//! core,op,key,value,invoke,response
//! 0,write,7,1,0,10
//! 1,read,7,0,20,30
//! check model=seq ops=6 keys=1 sequential=yes
//! staleness reads=3 stale=1 unexplained=0 versions median=0 p99=1 max=1 lag_cycles median=0 p99=10 max=10
//! ```

use super::history::{HEADER, History};
use super::outcome::{Counterexample, Verdict};
use super::stale::{Spread, Staleness};

/// A model's name on the command line and its word in the verdict line:
/// the variant's name in lower case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "kebab-case")]
pub enum ModelName {
    /// Linearizability.
    Lin,
    /// Sequential consistency.
    Seq,
}

impl ModelName {
    /// `lin` or `seq`.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// `linearizable` or `sequential`.
    pub fn property(self) -> &'static str {
        match self {
            ModelName::Lin => "linearizable",
            ModelName::Seq => "sequential",
        }
    }

    fn failure(self) -> &'static str {
        match self {
            ModelName::Lin => "cannot be linearized",
            ModelName::Seq => "have no sequentially consistent order",
        }
    }
}

/// `check model=lin ops=N keys=K linearizable=yes|no counterexample=M|unknown`.
pub fn verdict_line(model: ModelName, history: &History, keys: usize, verdict: &Verdict) -> String {
    let answer = match verdict {
        Verdict::Holds => "yes".to_owned(),
        Verdict::Violated(c) => format!("no counterexample={}", c.ops.len()),
        Verdict::GaveUp(_) => "unknown".to_owned(),
    };
    format!(
        "check model={} ops={} keys={keys} {}={answer}",
        model.name(),
        history.ops.len(),
        model.property(),
    )
}

/// The lines after a verdict: the counterexample's rows, or why it gave up.
pub fn details(model: ModelName, history: &History, verdict: &Verdict, note: &str) -> Vec<String> {
    match verdict {
        Verdict::Holds => Vec::new(),
        Verdict::GaveUp(g) => vec![format!(
            "{}: {g} without an answer{note}; --timeout-s raises the limit",
            model.name()
        )],
        Verdict::Violated(c) => counterexample(model, history, c, note),
    }
}

fn counterexample(
    model: ModelName,
    history: &History,
    c: &Counterexample,
    note: &str,
) -> Vec<String> {
    let on = match c.key {
        Some(key) => format!(" on key {key}"),
        None => String::new(),
    };
    let minimal = if c.minimal {
        "minimal"
    } else {
        "not minimal: the time limit stopped the shrinking"
    };
    let lines: Vec<String> = c
        .ops
        .iter()
        .map(|&i| history.ops[i].line.to_string())
        .collect();
    let mut out = vec![
        format!(
            "counterexample: {} operations{on} that {} ({minimal}{note}), lines {}",
            c.ops.len(),
            model.failure(),
            lines.join(",")
        ),
        HEADER.to_owned(),
    ];
    out.extend(c.ops.iter().map(|&i| history.ops[i].row()));
    out
}

fn spread(name: &str, s: Spread) -> String {
    format!("{name} median={} p99={} max={}", s.median, s.p99, s.max)
}

/// `staleness reads=R stale=S unexplained=U versions median=.. p99=.. max=.. lag_cycles median=.. p99=.. max=..`.
pub fn staleness_line(s: &Staleness) -> String {
    format!(
        "staleness reads={} stale={} unexplained={} {} {}",
        s.reads.len(),
        s.stale(),
        s.unexplained,
        spread("versions", s.versions()),
        spread("lag_cycles", s.lag())
    )
}

/// The exit status for these verdicts: 1 if any model does not hold, else
/// 3 if any check gave up, else 0.
pub fn exit_status(verdicts: &[&Verdict]) -> u8 {
    if verdicts.iter().any(|v| matches!(v, Verdict::Violated(_))) {
        1
    } else if verdicts.iter().any(|v| matches!(v, Verdict::GaveUp(_))) {
        3
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_keep_their_names() {
        use strum::IntoEnumIterator;
        let names: Vec<_> = ModelName::iter().map(ModelName::name).collect();
        assert_eq!(names, ["lin", "seq"]);
    }
}
