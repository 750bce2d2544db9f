//! The ownership table lists every record kind that the kernel and the
//! ring-3 programs print: a kind missing from it would fail every run that
//! prints it.

use std::path::{Path, PathBuf};

use qemu::ownership::owners;

/// The string literal right after `call` at each place `call` is made in
/// `text` (the kind of `record("kind", ...)`, `Checks::new("kind")`).
fn kinds_after(text: &str, call: &str) -> Vec<String> {
    text.match_indices(call)
        .filter_map(|(at, _)| {
            let rest = text[at + call.len()..].trim_start();
            let rest = rest.strip_prefix('"')?;
            let (kind, _) = rest.split_once('"')?;
            Some(kind.to_owned())
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_record_kind_printed_has_an_owner() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in [
        "cpudriver/src",
        "monitor/src",
        "programs/src",
        "services/src",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut seen = 0;
    let mut missing = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a source file");
        let mut kinds = kinds_after(&text, "record(");
        kinds.extend(kinds_after(&text, "Checks::new("));
        for kind in kinds {
            seen += 1;
            // The hosted runtime's own unit test prints a kind of its own.
            let test_only = file.ends_with("hosted/platform.rs") && kind == "x";
            if owners(&kind).is_empty() && !test_only {
                missing.push(format!("{kind} ({})", file.display()));
            }
        }
    }
    assert!(
        seen > 50,
        "only {seen} records found under {}",
        root.display()
    );
    assert!(missing.is_empty(), "kinds without an owner: {missing:#?}");
}

#[test]
fn the_scan_finds_kinds() {
    let text = r#"record(
        "cap-check", format_args!("a=1")); p.record(kind, x); Checks::new("lmp-check")"#;
    assert_eq!(kinds_after(text, "record("), ["cap-check"]);
    assert_eq!(kinds_after(text, "Checks::new("), ["lmp-check"]);
}
