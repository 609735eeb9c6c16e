#!/usr/bin/env bash
# Fails if the built book loads anything from the network: a script, style,
# font or image with an absolute URL, or a CSS url() pointing off the site.
# Usage: bash scripts/check-offline.sh book/book
set -euo pipefail
dir=${1:-book/book}
html=$(grep -rlE '.' --include='*.html' "$dir" | wc -l)
[ "$html" -gt 0 ] || { echo "no HTML under $dir"; exit 1; }
loads=$(grep -rnoE '<(script|link|img|iframe|source)[^>]*(src|href)="(https?:)?//[^"]*"' --include='*.html' "$dir" || true)
css=$(grep -rnoE 'url\(["'"'"']?(https?:)?//[^)]*\)' --include='*.css' "$dir" || true)
imports=$(grep -rnoE '@import[^;]*(https?:)?//' --include='*.css' "$dir" || true)
if [ -n "$loads$css$imports" ]; then
    echo "external resources found in the built book:"
    printf '%s\n' "$loads" "$css" "$imports" | sed '/^$/d'
    exit 1
fi
katex=$(grep -rhoc 'class="katex"' --include='*.html' "$dir" | paste -sd+ | bc)
echo "offline check: $html HTML files, no external loads, $katex KaTeX formulas rendered"
