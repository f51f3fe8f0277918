#!/usr/bin/env bash
# Prints the Credentials page's performance figures: server-side render and API list
# for a customer with 10,000 credentials, and the gzipped size of what the browser
# downloads (wasm + JS) from a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
ensure_build_tools

log "release build of the site"
cargo leptos build --release >target/bench-build.log 2>&1 || { cat target/bench-build.log; exit 1; }
wasm=target/site/pkg/stook.wasm
js=target/site/pkg/stook.js
wasm_gz=$(gzip -9 -c "$wasm" | wc -c)
js_gz=$(gzip -9 -c "$js" | wc -c)
total=$(( (wasm_gz + js_gz) / 1024 ))
verdict=met; [ "$total" -le 350 ] || verdict=MISSED
echo "browser download, gzipped: wasm $((wasm_gz / 1024)) KB + JS $((js_gz / 1024)) KB = ${total} KB (target <= 350 KB: $verdict)"

log "server timings (release)"
cargo run --release --quiet -p server --example bench_panel
