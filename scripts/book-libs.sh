#!/usr/bin/env bash
# Prepares target/book-libs: exactly one rlib per crate that the book's code
# blocks use (mlp, ndarray) and their dependencies, for `mdbook test -L`.
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
            if f.endswith(".rlib"):
                print(f)
' | while read -r rlib; do ln -f "$rlib" "$out/"; done
ls "$out" | wc -l | xargs echo "book-libs: rlibs prepared:"
