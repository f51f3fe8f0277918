#!/usr/bin/env bash
# Builds what ./scripts/run.sh serves, without cargo-leptos: the browser bundle, the
# style and public files in target/site, and target/release/stook. It does what
# `cargo leptos build --release` does with Cargo.toml's [workspace.metadata.leptos]:
#   1. frontend for wasm32 with the wasm-release profile;
#   2. wasm-bindgen (the CLI at Cargo.lock's version) into target/site/pkg as stook.js and
#      stook.wasm (the server is built with LEPTOS_OUTPUT_NAME=stook, .cargo/config.toml,
#      so its pages load stook.wasm);
#   3. wasm-opt -Oz (binaryen 123 or later);
#   4. style/main.css as pkg/stook.css and public/ at the site root;
#   5. the stook binary in release.
# Sourced after scripts/tools.sh (its `step`) by run.sh and test.sh (build_site); run
# alone, it builds.
set -euo pipefail

# Rust's default wasm32 features since 1.87: wasm-opt must accept what rustc emitted.
WASM_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)

# Says, before a build from nothing, how long it will take: figures measured on a 2-core
# machine (README, "The two commands").
announce_first_build() {
  [ -x target/release/stook ] && return 0
  log "first build of this clone: $1 on 2 cores; later runs rebuild only what changed"
}

build_site() {
  local site=target/site wasm_out=target/wasm32-unknown-unknown/wasm-release/frontend.wasm
  local staging=target/site.building
  step "building the browser bundle (frontend, wasm32, wasm-release)" \
    cargo build --quiet -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
  rm -rf "$staging" && mkdir -p "$staging/pkg"
  step "generating its JavaScript bindings (wasm-bindgen)" \
    wasm-bindgen --target web --no-typescript --out-name stook --out-dir "$staging/pkg" "$wasm_out"
  step "shrinking it (wasm-opt -Oz)" \
    wasm-opt -Oz "${WASM_FEATURES[@]}" -o "$staging/pkg/stook.wasm" "$staging/pkg/stook_bg.wasm"
  rm "$staging/pkg/stook_bg.wasm"
  cp style/main.css "$staging/pkg/stook.css"
  cp -R public/. "$staging/"
  # The site is swapped whole, so a server started meanwhile never sees half of it.
  rm -rf "$site" && mv "$staging" "$site"
  step "building the server (release)" cargo build --quiet --release -p server --bin stook
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cd "$(dirname "$0")/.."
  source scripts/tools.sh
  ensure_build_tools
  build_site
fi
