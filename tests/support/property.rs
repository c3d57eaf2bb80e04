//! Property tests over pseudo-random inputs drawn through `arbitrary`, the crate the
//! fuzz targets already draw their inputs with, run by `arbtest`.
//!
//! [`check`] runs a property on a fixed number of cases, each from a fixed seed: the
//! same inputs on every run and every machine (no time budget). A failing case
//! prints its seed; `ARBTEST_SEED=<seed> cargo test --test <binary> <name>` runs that
//! case alone, and with `ARBTEST_MINIMIZE=1` as well, shrinks it to a smaller input
//! that still fails.

#![allow(dead_code)]

use std::ops::RangeInclusive;

use arbitrary::{Result, Unstructured};
use arbtest::arbtest;

/// The fewest and most random bytes a case draws from: later cases get more, so the
/// first are small and the last as large as the generators go.
const SIZES: RangeInclusive<u32> = 64..=8192;

/// Runs `property` on `cases` inputs, the same ones on every run.
pub fn check(cases: u32, mut property: impl FnMut(&mut Unstructured<'_>) -> Result<()>) {
    if std::env::var_os("ARBTEST_SEED").is_some() {
        let replay = arbtest(&mut property);
        if std::env::var_os("ARBTEST_MINIMIZE").is_some() {
            replay.minimize().run();
        } else {
            replay.run();
        }
        return;
    }
    for case in 0..cases {
        arbtest(&mut property).seed(seed(case, cases)).run();
    }
}

/// `arbtest`'s seed for one case: the size of its input in the low half, the state of
/// the generator that fills it in the high half (never zero: xorshift would stay there).
fn seed(case: u32, cases: u32) -> u64 {
    let (first, last) = (u64::from(*SIZES.start()), u64::from(*SIZES.end()));
    let size = first + (last - first) * u64::from(case) / u64::from(cases.max(2) - 1);
    let state = (splitmix64(u64::from(case)) as u32) | 1;
    (u64::from(state) << 32) | size
}

/// One step of SplitMix64: well-spread 64-bit values from consecutive integers.
fn splitmix64(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A string of up to `max` characters of any kind (controls, marks, any plane).
pub fn text(u: &mut Unstructured<'_>, max: usize) -> Result<String> {
    let len = u.int_in_range(0..=max)?;
    (0..len).map(|_| u.arbitrary::<char>()).collect()
}

/// A string of `len` characters, each one of `alphabet`.
pub fn word(
    u: &mut Unstructured<'_>,
    alphabet: &str,
    len: RangeInclusive<usize>,
) -> Result<String> {
    let chars: Vec<char> = alphabet.chars().collect();
    let len = u.int_in_range(len)?;
    (0..len).map(|_| u.choose(&chars).copied()).collect()
}

/// Up to `max` bytes (fewer when the input runs out).
pub fn bytes(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<u8>> {
    let len = u.int_in_range(0..=max)?.min(u.len());
    Ok(u.bytes(len)?.to_vec())
}

/// Up to `max` items, each drawn by `item`.
pub fn vec_of<T>(
    u: &mut Unstructured<'_>,
    max: usize,
    mut item: impl FnMut(&mut Unstructured<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let len = u.int_in_range(0..=max)?;
    (0..len).map(|_| item(u)).collect()
}

#[test]
fn the_same_cases_on_every_run_from_small_to_large() {
    let seeds: Vec<u64> = (0..100).map(|case| seed(case, 100)).collect();
    assert_eq!(
        seeds,
        (0..100).map(|case| seed(case, 100)).collect::<Vec<_>>()
    );
    assert_eq!(seeds[0] as u32, *SIZES.start());
    assert_eq!(seeds[99] as u32, *SIZES.end());
    assert!(seeds.windows(2).all(|w| w[0] as u32 <= w[1] as u32));
    assert!(seeds.iter().all(|s| s >> 32 != 0));
    let mut states: Vec<u64> = seeds.iter().map(|s| s >> 32).collect();
    states.sort_unstable();
    states.dedup();
    assert_eq!(states.len(), 100, "each case its own input");
}
