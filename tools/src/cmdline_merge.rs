//! The kernel command line a command passes to QEMU: the options the command
//! adds itself, merged with what the user gave with `--append`.
//!
//! The kernel refuses an option given twice, so every option appears once.
//! The user's options win: an option the command adds only as its own
//! default (such as `log=warn` for an experiment) is dropped when `--append`
//! gives it. An option that comes from another flag the user gave (such as
//! `--log debug` or `--test isolation`) must agree with `--append`: the same
//! value is passed once, and a different one is refused, naming both. The
//! merged line is then checked with the kernel's own parser
//! ([`boot::kernel_cmdline::Config::parse`]), so that a line the kernel would refuse
//! is refused on the host, before anything boots.

use boot::kernel_cmdline::Config;

/// Where an option the command adds comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The command's own default: `--append` replaces it.
    Default,
    /// A flag the user gave, named as the user would write it (`--log`):
    /// `--append` may repeat its value but not contradict it.
    Flag(&'static str),
}

/// One `key=value` option that a command adds to the kernel command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    /// The option's name, such as `log`.
    pub key: &'static str,
    /// Its value.
    pub value: String,
    /// Where it comes from.
    pub source: Source,
}

impl Added {
    /// The command's own default for `key`.
    pub fn default(key: &'static str, value: impl Into<String>) -> Added {
        Added {
            key,
            value: value.into(),
            source: Source::Default,
        }
    }

    /// `key=value`, asked for with the flag `flag`.
    pub fn flag(key: &'static str, value: impl Into<String>, flag: &'static str) -> Added {
        Added {
            key,
            value: value.into(),
            source: Source::Flag(flag),
        }
    }
}

/// Why the kernel command line cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CmdlineError {
    /// A flag and `--append` give the same option different values.
    #[error(
        "{flag} {flag_value} conflicts with --append {key}={append_value}: give {key} once, \
         with one of the two"
    )]
    Conflict {
        /// The flag, such as `--log`.
        flag: &'static str,
        /// The flag's value.
        flag_value: String,
        /// The kernel option both set.
        key: &'static str,
        /// The value `--append` gives it.
        append_value: String,
    },
    /// The merged command line is longer than the kernel reads.
    #[error(
        "the kernel command line would be {len} bytes, but the kernel reads at most {max} \
         (user= takes at most {user_max})",
        max = boot::pvh::MAX_CMDLINE,
        user_max = boot::kernel_cmdline::UserArgs::CAPACITY
    )]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The kernel would refuse the merged command line.
    #[error("the kernel would refuse the command line `{cmdline}`: {reason}")]
    Refused {
        /// The merged command line.
        cmdline: String,
        /// The kernel parser's reason.
        reason: String,
    },
}

/// The kernel command line: the options in `added`, in order, except those
/// `append` gives itself, followed by the words of `append` as given.
pub fn merge(added: &[Added], append: &str) -> Result<String, CmdlineError> {
    let user: Vec<(&str, &str)> = append
        .split_whitespace()
        .filter_map(|word| word.split_once('='))
        .collect();
    let mut words = Vec::new();
    for option in added {
        let given = user.iter().find(|(key, _)| *key == option.key);
        match (given, option.source) {
            (None, _) => words.push(format!("{}={}", option.key, option.value)),
            (Some(_), Source::Default) => {}
            (Some((_, value)), Source::Flag(_)) if *value == option.value => {}
            (Some((_, value)), Source::Flag(flag)) => {
                return Err(CmdlineError::Conflict {
                    flag,
                    flag_value: option.value.clone(),
                    key: option.key,
                    append_value: (*value).to_owned(),
                });
            }
        }
    }
    words.extend(append.split_whitespace().map(str::to_owned));
    let cmdline = words.join(" ");
    if cmdline.len() > boot::pvh::MAX_CMDLINE {
        return Err(CmdlineError::TooLong { len: cmdline.len() });
    }
    if let Err(err) = Config::parse(&cmdline) {
        return Err(CmdlineError::Refused {
            reason: err.to_string(),
            cmdline,
        });
    }
    Ok(cmdline)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_default() -> Added {
        Added::default("log", "warn")
    }

    #[test]
    fn without_append_the_added_options_are_the_line() {
        let added = [log_default(), Added::flag("test", "isolation", "--test")];
        assert_eq!(merge(&added, ""), Ok("log=warn test=isolation".to_owned()));
        assert_eq!(merge(&[], "  "), Ok(String::new()));
    }

    #[test]
    fn append_replaces_a_default_once() {
        assert_eq!(
            merge(&[log_default()], "log=debug"),
            Ok("log=debug".to_owned())
        );
        let added = [log_default(), Added::default("user", "exp=urpc")];
        assert_eq!(
            merge(&added, "user=exp=urpc,quick  ap-timeout-ms=500"),
            Ok("log=warn user=exp=urpc,quick ap-timeout-ms=500".to_owned())
        );
    }

    #[test]
    fn append_keeps_other_options_after_the_added_ones() {
        assert_eq!(
            merge(&[log_default()], "ap-timeout-ms=250"),
            Ok("log=warn ap-timeout-ms=250".to_owned())
        );
    }

    #[test]
    fn a_flag_and_append_that_agree_give_the_option_once() {
        let added = [Added::flag("log", "debug", "--log")];
        assert_eq!(merge(&added, "log=debug"), Ok("log=debug".to_owned()));
        let added = [Added::flag("test", "isolation", "--test")];
        assert_eq!(
            merge(&added, "test=isolation"),
            Ok("test=isolation".to_owned())
        );
    }

    #[test]
    fn a_flag_and_append_that_disagree_are_refused_naming_both() {
        let added = [Added::flag("log", "info", "--log")];
        let err = merge(&added, "log=debug").unwrap_err();
        assert_eq!(
            err,
            CmdlineError::Conflict {
                flag: "--log",
                flag_value: "info".into(),
                key: "log",
                append_value: "debug".into(),
            }
        );
        let text = err.to_string();
        assert!(text.starts_with("--log info conflicts with --append log=debug"));
        let added = [Added::flag("test", "isolation", "--test")];
        assert!(matches!(
            merge(&added, "test=page-fault"),
            Err(CmdlineError::Conflict { key: "test", .. })
        ));
    }

    #[test]
    fn what_the_kernel_would_refuse_is_refused_here() {
        let err = merge(&[log_default()], "log=debug log=info").unwrap_err();
        assert_eq!(
            err,
            CmdlineError::Refused {
                cmdline: "log=debug log=info".into(),
                reason: "option 'log' is given twice".into(),
            }
        );
        let err = merge(&[log_default()], "colour=red").unwrap_err();
        assert!(err.to_string().contains("unknown option 'colour'"), "{err}");
        let err = merge(&[Added::default("log", "loud")], "").unwrap_err();
        assert!(err.to_string().contains("cannot take 'loud'"), "{err}");
        let err = merge(&[], "quiet").unwrap_err();
        assert!(err.to_string().contains("needs a value"), "{err}");
    }
}
