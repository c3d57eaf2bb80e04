//! The README's marked blocks are what the code makes them. Before a fenced
//! block, `<!-- code: PATH -->` says the block is the file `PATH`, and
//! `<!-- output: PATH -->` that it is what the example `PATH` prints (run with
//! backtraces off; source paths as `cargo run --example` shows them).
//!
//! When the code changes, `UPDATE_README=1 cargo test --test errors readme`
//! rewrites the marked blocks instead of comparing them; review the diff.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::wait_bounded;

#[path = "../../examples/quick_start.rs"]
mod quick_start;

/// The examples whose output the README may show, by path, with their `main`.
const EXAMPLES: &[(&str, fn())] = &[("examples/quick_start.rs", quick_start::main)];

/// Tells a re-run of this test binary which example to run.
const CHILD_VAR: &str = "VERROR_README_EXAMPLE";
/// Around the example's output in the child's stdout (the test harness writes there too).
const BEGIN: &str = "@@readme-output-begin";
const END: &str = "@@readme-output-end";
/// This test's name, for the re-run.
const TEST: &str = "readme::the_readme_blocks_are_what_the_code_makes";

#[test]
fn the_readme_blocks_are_what_the_code_makes() {
    if let Ok(path) = std::env::var(CHILD_VAR) {
        return run_example(&path);
    }
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let mut updated = String::new();
    let mut stale = Vec::new();
    let mut marked = 0;
    let mut lines = readme.split_inclusive('\n');
    while let Some(line) = lines.next() {
        updated.push_str(line);
        let Some((kind, path)) = marker(line) else {
            continue;
        };
        marked += 1;
        let fence = lines.next().expect("a fenced block after the marker");
        assert!(fence.starts_with("```"), "a fence after {line:?}");
        updated.push_str(fence);
        let mut block = String::new();
        for line in lines.by_ref() {
            if line.trim_end() == "```" {
                break;
            }
            block.push_str(line);
        }
        let expected = match kind {
            "code" => std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
                .unwrap_or_else(|e| panic!("{path}: {e}")),
            "output" => example_output(path),
            other => panic!("unknown README marker {other:?}"),
        };
        if block != expected {
            stale.push(format!(
                "the {kind} of {path}:\n--- README\n{block}--- now\n{expected}"
            ));
        }
        updated.push_str(&expected);
        updated.push_str("```\n");
    }
    assert!(marked >= 2, "the README's marked blocks were not found");
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(&readme_path, updated).unwrap();
    } else {
        assert!(
            stale.is_empty(),
            "README.md is out of date (rerun with UPDATE_README=1 to rewrite it):\n{}",
            stale.join("\n")
        );
    }
}

/// `<!-- code: PATH -->` or `<!-- output: PATH -->`.
fn marker(line: &str) -> Option<(&str, &str)> {
    let inner = line.trim().strip_prefix("<!-- ")?.strip_suffix(" -->")?;
    let (kind, path) = inner.split_once(": ")?;
    Some((kind, path.trim()))
}

/// In the child: the example's `main`, its output between markers.
fn run_example(path: &str) {
    let (_, main) = EXAMPLES
        .iter()
        .find(|(known, _)| *known == path)
        .unwrap_or_else(|| panic!("{path} is not in EXAMPLES"));
    println!("\n{BEGIN}");
    main();
    println!("{END}");
}

/// What the example at `path` prints: this test binary re-run (bounded in
/// time) to run its `main` with backtraces off.
fn example_output(path: &str) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, path)
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(
        &mut child,
        Duration::from_secs(60),
        &format!("the example {path}"),
    );
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(status.success(), "the example {path} failed:\n{stdout}");
    let (_, rest) = stdout
        .split_once(&format!("{BEGIN}\n"))
        .expect("the begin marker");
    let (output, _) = rest
        .split_once(&format!("{END}\n"))
        .expect("the end marker");
    // Compiled here through `#[path]`, its locations name the file from this
    // directory: show them as `cargo run --example` does.
    let from_here = format!("{}/../../", Path::new(file!()).parent().unwrap().display());
    output.replace(&from_here, "")
}
