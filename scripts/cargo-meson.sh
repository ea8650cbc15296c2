#!/usr/bin/env bash
# meson's bridge to cargo: `build SRC TARGET_DIR PROFILE OUTPUT` (the plugin),
# `build-bin SRC TARGET_DIR PROFILE OUTPUT` (gst-onvif) or `test SRC TARGET_DIR PROFILE`.
set -euo pipefail
# ONVIFHTTPS_TARGET_DIR, when set, replaces TARGET_DIR: builds share cargo's target dir
# (make install and make test set it) instead of compiling everything a second time.
cmd=$1 src=$2 target=${ONVIFHTTPS_TARGET_DIR:-$3} profile=$4
flag=(); [ "$profile" = release ] && flag=(--release)
case "$cmd" in
  build)
    # In a shared target dir, build what `make build` builds (same feature set, so
    # nothing is compiled again); alone, just the plugin.
    what=(-p gst-plugin-onvifhttps --lib); [ -n "${ONVIFHTTPS_TARGET_DIR:-}" ] && what=(--workspace)
    cargo build --manifest-path "$src/Cargo.toml" "${what[@]}" --locked \
      --target-dir "$target" "${flag[@]}"
    cp "$target/$profile/libgstonvifhttps.so" "$5" ;;
  build-bin)
    what=(-p gst-plugin-onvifhttps --bin gst-onvif); [ -n "${ONVIFHTTPS_TARGET_DIR:-}" ] && what=(--workspace)
    cargo build --manifest-path "$src/Cargo.toml" "${what[@]}" --locked \
      --target-dir "$target" "${flag[@]}"
    cp "$target/$profile/gst-onvif" "$5" ;;
  test)
    ONVIF_SCHEMA_REQUIRED=1 cargo test --manifest-path "$src/Cargo.toml" --workspace --locked \
      --target-dir "$target" ;;
  *) echo "usage: $0 build|build-bin|test SRC TARGET_DIR PROFILE [OUTPUT]" >&2; exit 2 ;;
esac
