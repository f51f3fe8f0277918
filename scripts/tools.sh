# Installs the build and test tools Stook needs, each only when missing.
# Sourced by scripts/run.sh and scripts/test.sh.

CARGO_LEPTOS_VERSION=0.3.10
GARAGE_VERSION=2.5.0

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "$@" >/dev/null \
    || { $sudo apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "$@" >/dev/null; }
}

ensure_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 20 minutes, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  # The CLI must match the wasm-bindgen crate in Cargo.lock exactly. Not --locked: its
  # lockfile names a crate version the registry here lacks.
  local wb_version
  wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
    log "installing wasm-bindgen-cli $wb_version"
    cargo install wasm-bindgen-cli --version "$wb_version" --force
  fi
  if ! command -v wasm-opt >/dev/null; then
    log "installing binaryen (wasm-opt) for release builds"
    apt_install binaryen
  fi
}

ensure_test_tools() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Chromium for the browser tests"
    apt_install chromium
  fi
  if ! command -v rclone >/dev/null || ! command -v psql >/dev/null; then
    log "installing rclone and psql for the S3 client tests"
    apt_install rclone postgresql-client
  fi
  # The upstream S3 engine for the proxy backend's tests.
  if ! garage --version 2>/dev/null | grep -q ":$GARAGE_VERSION "; then
    log "installing Garage $GARAGE_VERSION (about 8 minutes, once)"
    cargo install garage --version "$GARAGE_VERSION" --locked
  fi
  # boto3, the AWS CLI and pytest, pinned, in a venv of their own.
  local venv=target/s3-clients-venv
  if [ ! -x "$venv/bin/pytest" ] || [ end2end/s3/requirements.txt -nt "$venv/.installed" ]; then
    log "installing the S3 client test packages (boto3, awscli, pytest)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r end2end/s3/requirements.txt
    touch "$venv/.installed"
  fi
  if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    log "installing the browser-test packages"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}
