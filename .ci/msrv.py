#!/usr/bin/env python3
"""Fails when a dependency needs a newer Rust than this crate's `rust-version`.

Reads `cargo metadata` (all features, every platform) from stdin: each package's
`rust_version` must be at most the root package's, so the declared MSRV stays
true as dependencies are updated. Clippy's `incompatible_msrv` lint guards the
crate's own code against the same number.
"""
import json
import sys


def version(text):
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


metadata = json.load(sys.stdin)
root_id = metadata["resolve"]["root"]
root = next(p for p in metadata["packages"] if p["id"] == root_id)
ours = root.get("rust_version")
if not ours:
    sys.exit(f"{root['name']} declares no rust-version")

too_new = [
    f"  {p['name']} {p['version']} needs Rust {p['rust_version']}"
    for p in metadata["packages"]
    if p.get("rust_version") and version(p["rust_version"]) > version(ours)
]
if too_new:
    print(f"rust-version is {ours}, but:", *too_new, sep="\n")
    print("Raise rust-version in Cargo.toml, or hold these dependencies back.")
    sys.exit(1)
print(f"every dependency builds with Rust {ours}")
