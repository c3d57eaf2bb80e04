//! Replays the saved fuzz corpora (`fuzz/corpus/<target>/`), the hand-made seeds
//! (`fuzz/seeds/<target>/`) and the crash reproducers
//! (`fuzz/regressions/<target>/`) through the same harnesses the
//! cargo-fuzz targets run (`tests/errors/fuzz_harness/mod.rs`): every input the fuzzer
//! found interesting, checked on every `cargo test`, with no fuzzer build.
//! `scripts/fuzz.sh` grows the corpora.

use crate::fuzz_harness;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every saved input of `target`; fails naming each input that fails.
fn replay(target: &str) {
    let (_, harness) = fuzz_harness::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .expect("a known target");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = inputs(&root.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "no saved corpus in fuzz/corpus/{target}/ (scripts/fuzz.sh makes one)"
    );
    let all: Vec<PathBuf> = corpus
        .into_iter()
        .chain(inputs(&root.join("seeds").join(target)))
        .chain(inputs(&root.join("regressions").join(target)))
        .collect();
    let mut failed = Vec::new();
    for path in &all {
        let data = std::fs::read(path).expect("a readable input");
        if catch_unwind(AssertUnwindSafe(|| harness(&data))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs failed (replay one with `cargo fuzz run -s none {target} FILE` \
         in fuzz/): {failed:#?}",
        failed.len(),
        all.len()
    );
}

#[test]
fn decode_stream_corpus() {
    replay("decode_stream");
}

#[test]
fn verror_json_corpus() {
    replay("verror_json");
}

#[test]
fn verror_chain_corpus() {
    replay("verror_chain");
}

/// How deep, wide and long the saved inputs go (what a fuzzing run reached, as far as
/// its minimized corpus shows):
/// `cargo test --test errors fuzz_corpus_sizes -- --ignored --nocapture`.
#[test]
#[ignore = "prints figures for RELIABILITY.md"]
fn fuzz_corpus_sizes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for target in ["verror_json", "verror_chain"] {
        for dir in ["corpus", "seeds", "regressions"] {
            let files = inputs(&root.join(dir).join(target));
            let mut largest = fuzz_harness::Size::default();
            let mut made = 0;
            for path in &files {
                let data = std::fs::read(path).expect("a readable input");
                if let Some(size) = fuzz_harness::input_size(target, &data) {
                    made += 1;
                    largest = largest.max(size);
                }
            }
            println!(
                "{target} {dir}: {} inputs, {made} errors; largest: {largest:?}",
                files.len()
            );
        }
    }
}
