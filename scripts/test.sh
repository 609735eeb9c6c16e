#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, and all tests
# (unit, integration, gradient checks, doctests). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# Pinned book tools, installed from crates.io when missing (the first run on a
# fresh machine spends a few minutes compiling them).
MDBOOK_VERSION=0.5.3        # the mdbook that mdbook-katex 0.10.0 is built against
MDBOOK_KATEX_VERSION=0.10.0
ensure_tool() { # name version
    if ! "$1" --version 2>/dev/null | grep -q "$2"; then
        step "installing $1 $2"
        cargo install "$1" --version "$2" --locked --force
    fi
}
ensure_tool mdbook "$MDBOOK_VERSION"
ensure_tool mdbook-katex "$MDBOOK_KATEX_VERSION"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo doc (broken links and missing docs are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "cargo test --workspace (unit, integration and doc tests)"
cargo test --workspace

step "mdbook test (every chapter's code compiles and runs)"
bash scripts/book-libs.sh
mdbook test book -L target/book-libs

step "mdbook build, and no page loads anything from the network"
mdbook build book
bash scripts/check-offline.sh book/book
