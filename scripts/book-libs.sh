#!/usr/bin/env bash
# Prepares target/book-libs: exactly one rlib per crate that the book's code
# blocks use (mlp, ndarray) and their dependencies, and the proc-macro
# library behind `network!` (mlp-macros-impl), for `mdbook test -L`.
# `mdbook test` passes only -L, and a plain target/debug/deps soon holds
# several candidates per crate (E0464), so the artifacts cargo reports for
# this build are hard-linked into a fresh folder.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/book-libs
rm -rf "$out" && mkdir -p "$out"
cargo build --quiet --message-format=json -p mlp --lib --examples |
    python3 -c '
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact":
        for f in msg["filenames"]:
            # A proc-macro crate is built as a shared library.
            if f.endswith(".rlib") or (msg["target"]["kind"] == ["proc-macro"] and f.endswith((".so", ".dylib", ".dll"))):
                print(f)
' | while read -r lib; do ln -f "$lib" "$out/"; done
ls "$out" | wc -l | xargs echo "book-libs: libraries prepared:"
