#!/usr/bin/env bash
# Prints the S3 endpoint's performance figures: the authorization decision per request,
# 4 KiB GET throughput with a scoped key as a share of the same backend with no key
# checks, and with key activity recorded as a share of recording only last use (each
# pair measured in one run, load from wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
if ! command -v wrk >/dev/null; then
  log "installing wrk"
  apt_install wrk
fi
log "S3 endpoint (release build)"
cargo run --release --quiet -p server --example bench_s3
