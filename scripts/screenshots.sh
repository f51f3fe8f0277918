#!/usr/bin/env bash
# Writes screenshots of the list, the Create Credential form, the drawer and the Buckets
# page at 1280 and 390 px wide, light and dark, from the release build, to
# target/screenshots/ for review.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
source scripts/build.sh
ensure_build_tools
ensure_test_tools
build_site
log "screenshots"
(cd end2end && npx playwright test --config screenshots.config.ts)
ls target/screenshots
