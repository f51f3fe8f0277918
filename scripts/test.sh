#!/usr/bin/env bash
# Every test: unit, integration on SQLite and PostgreSQL, CLI, the browser tests in
# Chromium, and the S3 endpoint driven by real S3 clients. PostgreSQL tests run against
# STOOK_TEST_POSTGRES_URL (a server where the user may create databases); a given URL
# that is unreachable fails the run. Each stage prints how long it took, and the end a
# table of them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
source scripts/build.sh

timings=()
current_stage=""
# `stage TITLE COMMAND...`: `step`, and the time kept for the table at the end. A failing
# command ends the script (set -e); the table then names the stage that failed.
stage() {
  current_stage=$1
  stage_started=$SECONDS
  step "$@"
  timings+=("$(printf '%-44s %s' "$1" "$(elapsed_since "$stage_started")")")
  current_stage=""
}
print_timings() {
  if [ -n "$current_stage" ]; then
    timings+=("$(printf '%-44s %s FAILED' "$current_stage" "$(elapsed_since "$stage_started")")")
  fi
  log "time per stage"
  printf '    %s\n' "${timings[@]}" >&2
  printf '    %-44s %s\n' "total" "$(elapsed_since 0)" >&2
}
trap print_timings EXIT

install_tools() {
  ensure_build_tools
  ensure_test_tools
}
browser_tests() { (cd end2end && npx playwright test); }
s3_client_tests() { (cd end2end/s3 && PATH="$PWD/../../target/s3-clients-venv/bin:$PATH" pytest -q); }

announce_first_build "at most about 40 minutes on a fresh machine (37m25s, tool installs included), 26 once the tools are installed"
stage "tools (installed once)" install_tools

if [ -n "${STOOK_TEST_POSTGRES_URL:-}" ]; then
  log "PostgreSQL tests against ${STOOK_TEST_POSTGRES_URL%%@*}@…"
else
  log "WARNING: STOOK_TEST_POSTGRES_URL is not set: the PostgreSQL tests will NOT run"
fi

stage "formatting" cargo fmt --all --check
stage "lints (clippy, warnings are errors)" \
  cargo clippy --quiet -p migrations -p app -p server --all-targets -- -D warnings
stage "unit and integration tests" cargo test --quiet -p migrations -p app -p server

# The browser tests drive what ./scripts/run.sh serves: the release build, whose bundle
# wasm-opt has been through.
stage "release build (what run.sh serves)" build_site
stage "browser tests (Chromium)" browser_tests
stage "S3 endpoint with real clients (boto3, AWS CLI, s3cmd, rclone)" s3_client_tests
log "all tests passed"
