#!/usr/bin/env bash
# Installs the plugin with meson into a temporary prefix (sharing cargo's target dir), then,
# with only GST_PLUGIN_PATH pointing at the installed directory and a registry of its own,
# runs gst-inspect-1.0 and a pipeline against the virtual camera. Part of make test.
. "$(dirname "$0")/check-lib.sh"
export ONVIFHTTPS_TARGET_DIR="$target"
meson setup "$tmp/build" "$root" --prefix="$tmp/prefix" --buildtype=debug >"$tmp/meson.log" 2>&1 \
  || { cat "$tmp/meson.log"; exit 1; }
meson compile -C "$tmp/build" >>"$tmp/meson.log" 2>&1 || { cat "$tmp/meson.log"; exit 1; }
meson install -C "$tmp/build" >>"$tmp/meson.log" 2>&1 || { cat "$tmp/meson.log"; exit 1; }
plugin="$(find "$tmp/prefix" -name libgstonvifhttps.so)"
[ -n "$plugin" ] || { echo "install-check: libgstonvifhttps.so was not installed"; exit 1; }
dir="$(dirname "$plugin")"
case "$dir" in */gstreamer-1.0) ;; *) echo "install-check: installed in $dir, not libdir/gstreamer-1.0"; exit 1 ;; esac
export GST_PLUGIN_PATH="$dir" GST_REGISTRY="$tmp/registry.bin"
# To a file first: grep -q closing the pipe early would kill gst-inspect with SIGPIPE.
gst-inspect-1.0 onvifhttpssrc >"$tmp/inspect.txt" 2>&1 || true
grep -q "onvifs" "$tmp/inspect.txt" \
  || { echo "install-check: gst-inspect from $dir failed:"; cat "$tmp/inspect.txt"; exit 1; }
start_camera
timeout 60 gst-launch-1.0 -q onvifhttpssrc "location=https://127.0.0.1:$https_port" user-id=admin \
  user-pw=password "tls-ca-file=$tmp/ca.pem" ! fakesink num-buffers=50 \
  || { echo "install-check: the pipeline from the installed plugin failed"; exit 1; }
# gst-onvif, installed beside, inspects the camera.
[ -x "$tmp/prefix/bin/gst-onvif" ] || { echo "install-check: gst-onvif was not installed in bin"; exit 1; }
timeout 60 "$tmp/prefix/bin/gst-onvif" --no-play "https://127.0.0.1:$https_port" user-id=admin \
  user-pw=password "tls-ca-file=$tmp/ca.pem" >"$tmp/gst-onvif.txt" 2>&1 \
  && grep -q "^  chain: passes" "$tmp/gst-onvif.txt" \
  || { echo "install-check: the installed gst-onvif failed:"; cat "$tmp/gst-onvif.txt"; exit 1; }
echo "install-check: installed to $dir and gst-onvif to $tmp/prefix/bin; gst-inspect-1.0, a pipeline and gst-onvif work from there"
