#!/usr/bin/env bash
# Builds Stook and runs it on http://127.0.0.1:3000 with an embedded SQLite database in
# ./data, a first admin and demo data. Any `stook serve` flag can be added.
#   STOOK_ADMIN_PASSWORD=...   the first admin's password (else generated and printed)
#   STOOK_DEMO=false           skip the demo data
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
source scripts/build.sh
announce_first_build "at most about 15 minutes (13m44s on a fresh machine, tools included)"
ensure_build_tools
build_site

# Plain HTTP on localhost: a Secure cookie would never come back over http://.
export STOOK_SECURE_COOKIES="${STOOK_SECURE_COOKIES:-false}"
export STOOK_DEMO="${STOOK_DEMO:-true}"
export STOOK_DATA_DIR="${STOOK_DATA_DIR:-./data}"
exec target/release/stook serve "$@"
