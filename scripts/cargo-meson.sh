#!/usr/bin/env bash
# meson's bridge to cargo: `build SRC TARGET_DIR PROFILE OUTPUT` or `test SRC TARGET_DIR PROFILE`.
set -euo pipefail
cmd=$1 src=$2 target=$3 profile=$4
flag=(); [ "$profile" = release ] && flag=(--release)
case "$cmd" in
  build)
    cargo build --manifest-path "$src/Cargo.toml" -p gst-plugin-onvifhttps --lib --locked \
      --target-dir "$target" "${flag[@]}"
    cp "$target/$profile/libgstonvifhttps.so" "$5" ;;
  test)
    ONVIF_SCHEMA_REQUIRED=1 cargo test --manifest-path "$src/Cargo.toml" --workspace --locked \
      --target-dir "$target" ;;
  *) echo "usage: $0 build|test SRC TARGET_DIR PROFILE [OUTPUT]" >&2; exit 2 ;;
esac
