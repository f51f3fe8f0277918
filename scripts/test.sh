#!/usr/bin/env bash
# Every test: unit, integration on SQLite and PostgreSQL, CLI, the browser tests in
# Chromium, and the S3 endpoint driven by real S3 clients. PostgreSQL tests run against STOOK_TEST_POSTGRES_URL (a server where the
# user may create databases); a given URL that is unreachable fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
ensure_build_tools
ensure_test_tools

if [ -n "${STOOK_TEST_POSTGRES_URL:-}" ]; then
  log "PostgreSQL tests against ${STOOK_TEST_POSTGRES_URL%%@*}@…"
else
  log "WARNING: STOOK_TEST_POSTGRES_URL is not set: the PostgreSQL tests will NOT run"
fi

log "formatting"
cargo fmt --all --check

log "lints (clippy, warnings are errors)"
cargo clippy -p migrations -p app -p server --all-targets -- -D warnings

log "unit and integration tests"
cargo test -p migrations -p app -p server

# The browser tests drive what ./scripts/run.sh serves: the release build, whose bundle
# wasm-opt has been through.
log "building the release site for the browser tests"
cargo leptos build --release

log "browser tests (Chromium)"
(cd end2end && npx playwright test)

log "S3 endpoint with real clients (boto3, AWS CLI, s3cmd, rclone)"
(cd end2end/s3 && PATH="$PWD/../../target/s3-clients-venv/bin:$PATH" pytest -q)
log "all tests passed"
