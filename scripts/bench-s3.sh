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
if ! garage --version 2>/dev/null | grep -q ":$GARAGE_VERSION "; then
  log "installing Garage $GARAGE_VERSION (about 8 minutes, once)"
  cargo install garage --version "$GARAGE_VERSION" --locked
fi
venv=target/s3-clients-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import boto3' 2>/dev/null; then
  log "installing boto3 into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r end2end/s3/requirements.txt
fi

log "building stook (release)"
cargo build --release --quiet -p server --bin stook
log "Garage direct and Stook's local and proxy backends (release)"
"$venv/bin/python" scripts/bench_s3.py
log "authorization in process (release)"
cargo run --release --quiet -p server --example bench_s3
