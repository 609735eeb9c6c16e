#!/usr/bin/env bash
# Checks that the built book reads offline: no page or stylesheet loads
# anything from the network, and every relative reference (a script, style,
# image, font or link target in HTML; a url() in CSS) resolves to a file in
# the built book. Usage: bash scripts/check-offline.sh book/book
set -euo pipefail
dir=${1:-book/book}
exec python3 - "$dir" <<'PY'
import pathlib, re, sys
from urllib.parse import unquote

root = pathlib.Path(sys.argv[1]).resolve()
html = sorted(root.rglob("*.html"))
css = sorted(root.rglob("*.css"))
if not html:
    sys.exit(f"no HTML under {root}")

external, missing = [], []
attr = re.compile(r'<(script|link|img|iframe|source|embed|object)\b[^>]*?\b(src|href|data)="([^"]*)"', re.I)
url = re.compile(r'url\(\s*["\']?([^"\')]+)["\']?\s*\)')
imports = re.compile(r'@import\s+["\']([^"\']+)["\']')

def check(ref, base, where):
    ref = ref.strip()
    if not ref or ref.startswith(("#", "data:", "mailto:", "javascript:")):
        return
    if re.match(r"^([a-z]+:)?//", ref, re.I):
        external.append(f"{where}: {ref}")
        return
    path = unquote(ref.split("#")[0].split("?")[0])
    if not path:
        return
    target = (root / path.lstrip("/")) if path.startswith("/") else (base / path)
    if not target.resolve().is_file():
        missing.append(f"{where}: {ref}")

for page in html:
    text = page.read_text(encoding="utf-8")
    for _tag, _a, ref in attr.findall(text):
        check(ref, page.parent, page.relative_to(root))
for sheet in css:
    text = sheet.read_text(encoding="utf-8")
    for ref in url.findall(text) + imports.findall(text):
        check(ref, sheet.parent, sheet.relative_to(root))

# Math left unrendered: a `$` in a page's text once code, scripts, styles
# and KaTeX's own TeX annotations are taken out.
raw_math = []
strip = re.compile(r'<(pre|code|script|style|annotation)\b.*?</\1>', re.S | re.I)
for page in html:
    text = strip.sub(' ', page.read_text(encoding="utf-8"))
    text = re.sub(r'<[^>]+>', ' ', text)
    for m in re.finditer(r'\$', text):
        raw_math.append(f"{page.relative_to(root)}: ...{text[max(0, m.start() - 40):m.start() + 40]!r}...")
if raw_math:
    print("unrendered math (a $ outside code) in the built book:")
    print("\n".join(raw_math[:20]))

if external:
    print("the built book loads these from the network:")
    print("\n".join(external))
if missing:
    print("these references do not resolve to a file in the built book:")
    print("\n".join(missing))
if external or missing or raw_math:
    sys.exit(1)
katex = sum(p.read_text(encoding="utf-8").count('class="katex"') for p in html)
fonts = sum(1 for s in css for _ in url.findall(s.read_text(encoding="utf-8")))
print(f"offline check: {len(html)} HTML files, {len(css)} stylesheets, no external loads, "
      f"every reference resolves ({fonts} url()s in CSS), {katex} KaTeX formulas rendered")
PY
