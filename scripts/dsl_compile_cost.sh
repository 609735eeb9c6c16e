#!/usr/bin/env bash
# Measures what a 10-layer `network!` declaration adds to a release build of
# a small crate: median of 5 rebuilds of the crate (dependencies prebuilt) for
# (a) an empty main, (b) the declaration, (c) the declaration trained with
# `fit`, (d) a hand-built 2-layer network trained with `fit`.
# Usage: bash scripts/dsl_compile_cost.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "dsl-compile-cost"
version = "0.0.0"
edition = "2024"
[dependencies]
mlp = { path = "$repo" }
ndarray = "0.17"
[workspace]
TOML
cd "$dir"
median() {
    for _ in 1 2 3 4 5; do
        touch src/main.rs
        s=$(date +%s.%N); cargo build -q --release; e=$(date +%s.%N)
        echo "$e - $s" | bc
    done | sort -n | sed -n 3p
}
echo 'fn main() { println!("hello"); }' > src/main.rs
cargo build -q --release
printf 'empty main:                          %6.2f s\n' "$(median)"
decl='mlp::network! {
    Deep: input 64 => dense 64 relu => dense 64 relu => dense 64 relu => dense 64 relu => dense 64 relu
        => dense 64 relu => dense 64 relu => dense 64 relu => dense 64 relu => dense 10 softmax;
    loss cross_entropy; init he; seed 1
}'
printf '%s\nfn main() { println!("{}", Deep::PARAMS); }\n' "$decl" > src/main.rs
printf '10-layer declaration:                %6.2f s\n' "$(median)"
printf 'use mlp::prelude::*;\n%s\n%s\n' "$decl" 'fn main() {
    let mut net = Deep::new(1);
    let x = ndarray::Array2::<f32>::zeros((8, 64));
    let y = mlp::data::one_hot::<f32>(&[0; 8], 10).unwrap();
    net.fit(x.view(), y.view(), &TrainConfig::new().epochs(1)).unwrap();
    println!("{:?}", net.predict(&[0.0; 64])[0]);
}' > src/main.rs
printf '10-layer declaration, trained:       %6.2f s\n' "$(median)"
cat > src/main.rs <<'RS'
use mlp::prelude::*;
fn main() {
    let mut r = mlp::rng(1);
    let h = Dense::<64, 64, _>::new(Relu, Init::HeNormal, &mut r);
    let o = Dense::<64, 10, _>::new(Softmax, Init::HeNormal, &mut r);
    let mut net = Network::new(h, o, CrossEntropy, r);
    let x = ndarray::Array2::<f32>::zeros((8, 64));
    let y = mlp::data::one_hot::<f32>(&[0; 8], 10).unwrap();
    net.fit(x.view(), y.view(), &TrainConfig::new().epochs(1)).unwrap();
    println!("{:?}", net.predict(&[0.0; 64])[0]);
}
RS
printf 'hand-built 2-layer, trained:         %6.2f s\n' "$(median)"
