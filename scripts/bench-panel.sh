#!/usr/bin/env bash
# Prints the Credentials page's performance figures: server-side render and API list
# for a customer with 10,000 credentials, and the gzipped size of the wasm and JS that
# the browser really downloaded and hydrated from the release build (the browser test
# that checks every island records it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
source scripts/build.sh
ensure_build_tools
ensure_test_tools
build_site >target/bench-build.log 2>&1 || { cat target/bench-build.log; exit 1; }

log "loading every page in Chromium (the islands test)"
rm -f target/e2e-bundle.json
(cd end2end && npx playwright test islands --project hydrated >../target/bench-e2e.log 2>&1) \
  || { cat target/bench-e2e.log; exit 1; }
node -e '
  const files = require("./target/e2e-bundle.json");
  let total = 0;
  for (const [path, size] of Object.entries(files)) {
    total += size.gzipped;
    console.log(`  ${path}: ${(size.bytes / 1024).toFixed(0)} KB, ${(size.gzipped / 1024).toFixed(0)} KB gzipped`);
  }
  const kb = Math.round(total / 1024);
  console.log(`browser download as loaded by the test, gzipped: ${kb} KB (target <= 300 KB: ${kb <= 300 ? "met" : "MISSED"})`);
'

log "server timings (release)"
cargo run --release --quiet -p server --example bench_panel
