#!/usr/bin/env bash
# Prints the S3 endpoint's performance figures, each measured in one run:
# - beside a one-node Garage: 4 KiB GET req/s (wrk through presigned URLs), 64 MiB and
#   1 GiB PUT and GET MiB/s (boto3), Stook's local and proxy backends as shares of
#   Garage's, in interleaved rounds, with a plain TCP relay (socat) to Garage as the cost
#   of any extra hop on the machine, and each server's CPU per GiB; ListObjectsV2 page times in a bucket of 100,000
#   objects; memory while 4 parallel 1 GiB uploads stream (scripts/bench_s3.py);
# - the authorization decision per request, and 4 KiB GET throughput with a scoped key as
#   a share of the same backend with no key checks, with and without key activity
#   (server/examples/bench_s3.rs).
# STOOK_BENCH_QUICK=1 runs everything with small sizes (a check that the bench works);
# scripts/bench_s3.py lists the single overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
for tool in wrk socat; do
  if ! command -v "$tool" >/dev/null; then
    log "installing $tool"
    apt_install "$tool"
  fi
done
ensure_garage
ensure_s3_clients
venv=$S3_CLIENTS_VENV

log "building stook (release)"
cargo build --release --quiet -p server --bin stook
log "Garage direct and Stook's local and proxy backends (release)"
"$venv/bin/python" scripts/bench_s3.py
log "authorization in process (release)"
cargo run --release --quiet -p server --example bench_s3
