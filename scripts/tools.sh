# Installs the build and test tools Stook needs, each only when missing.
# Sourced by scripts/run.sh and scripts/test.sh.

# cargo-leptos is only for `cargo leptos watch` while developing (README); nothing a
# user runs needs it: scripts/build.sh builds the site.
CARGO_LEPTOS_VERSION=0.3.10
GARAGE_VERSION=2.5.0

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# `step TITLE COMMAND...` prints what it does and how long it took.
step() {
  local title=$1 started=$SECONDS
  shift
  printf '\033[1m==> %s …\033[0m\n' "$title" >&2
  "$@"
  printf '\033[1m    %s: %s\033[0m\n' "$title" "$(elapsed_since "$started")" >&2
}

elapsed_since() {
  local secs=$((SECONDS - $1))
  if [ "$secs" -ge 60 ]; then printf '%dm%02ds' $((secs / 60)) $((secs % 60)); else printf '%ds' "$secs"; fi
}

apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "$@" >/dev/null \
    || { $sudo apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "$@" >/dev/null; }
}

ensure_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "adding the wasm32-unknown-unknown target" rustup target add wasm32-unknown-unknown
  fi
  # The CLI must match the wasm-bindgen crate in Cargo.lock exactly. Not --locked: its
  # lockfile names a crate version the registry here lacks.
  local wb_version
  wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
    step "installing wasm-bindgen-cli $wb_version (about 2 minutes, once)" \
      cargo install --quiet wasm-bindgen-cli --version "$wb_version" --force
  fi
  ensure_binaryen
}

# wasm-opt shrinks the release bundle. Debian's binaryen (wasm-opt 108) miscompiles
# wasm-bindgen 0.2.130's output: the bundle then fails in the browser with
# "WebAssembly.Table.set(): Argument 1 is invalid". The npm package of binaryen ships a
# wasm-opt that works (cargo-leptos 0.3.10 expects 123 or later); it goes first on PATH.
BINARYEN_VERSION=132.0.0
MIN_WASM_OPT_VERSION=123
BINARYEN_DIR="$PWD/target/tools/binaryen"

ensure_binaryen() {
  if [ ! -x "$BINARYEN_DIR/node_modules/.bin/wasm-opt" ] \
    || ! grep -q "\"version\": \"$BINARYEN_VERSION\"" "$BINARYEN_DIR/node_modules/binaryen/package.json" 2>/dev/null; then
    if ! command -v npm >/dev/null; then
      step "installing Node.js and npm (for binaryen's wasm-opt)" apt_install nodejs npm
    fi
    mkdir -p "$BINARYEN_DIR"
    step "installing binaryen $BINARYEN_VERSION (wasm-opt) from npm" \
      npm install --silent --prefix "$BINARYEN_DIR" --no-audit --no-fund --no-save "binaryen@$BINARYEN_VERSION"
  fi
  export PATH="$BINARYEN_DIR/node_modules/.bin:$PATH"
  require_working_wasm_opt
}

# Refuses to go on with a wasm-opt that would produce a bundle that does not load.
require_working_wasm_opt() {
  local found version
  found=$(command -v wasm-opt || true)
  version=$(wasm-opt --version 2>/dev/null | grep -oE '[0-9]+' | head -1 || true)
  if [ -z "$found" ] || [ -z "$version" ] || [ "$version" -lt "$MIN_WASM_OPT_VERSION" ]; then
    log "wasm-opt ${version:-(none)} at ${found:-(not on PATH)} is older than $MIN_WASM_OPT_VERSION: its output of this wasm-bindgen does not load in browsers (WebAssembly.Table.set(): Argument 1 is invalid). Put binaryen $MIN_WASM_OPT_VERSION or later first on PATH (scripts/tools.sh installs $BINARYEN_VERSION from npm into target/tools)."
    exit 1
  fi
}

ensure_test_tools() {
  if [ ! -x /usr/bin/chromium ]; then
    step "installing Chromium for the browser tests" apt_install chromium
  fi
  if ! command -v rclone >/dev/null || ! command -v psql >/dev/null || ! command -v restic >/dev/null; then
    step "installing rclone, restic and psql for the S3 client tests" \
      apt_install rclone restic postgresql-client
  fi
  ensure_garage
  ensure_s3_clients
  if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    step "installing the browser-test packages" install_browser_test_packages
  fi
}

install_browser_test_packages() {
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
}

# The upstream S3 engine for the proxy backend's tests and the S3 benchmark's peer.
ensure_garage() {
  if ! garage --version 2>/dev/null | grep -q ":$GARAGE_VERSION "; then
    step "installing Garage $GARAGE_VERSION (about 8 minutes, once)" \
      cargo install --quiet garage --version "$GARAGE_VERSION" --locked
  fi
}

# boto3, the AWS CLI, s3cmd and pytest, pinned, in a venv of their own.
S3_CLIENTS_VENV=target/s3-clients-venv
ensure_s3_clients() {
  if [ ! -x "$S3_CLIENTS_VENV/bin/pytest" ] || [ end2end/s3/requirements.txt -nt "$S3_CLIENTS_VENV/.installed" ]; then
    step "installing the S3 client packages (boto3, awscli, s3cmd, pytest)" install_s3_clients
  fi
}
install_s3_clients() {
  python3 -m venv "$S3_CLIENTS_VENV"
  "$S3_CLIENTS_VENV/bin/pip" install --quiet --disable-pip-version-check -r end2end/s3/requirements.txt
  touch "$S3_CLIENTS_VENV/.installed"
}
