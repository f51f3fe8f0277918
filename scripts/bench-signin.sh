#!/usr/bin/env bash
# Prints the peak memory of the panel through 200 sign-ins at once (release build, in
# process): argon2 holds 19 MiB per check, so the checks run one per core at a time and
# the rest wait (or are answered 429 with Retry-After after a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -p server --example bench_signin
