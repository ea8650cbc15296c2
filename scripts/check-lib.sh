# Shared by the check scripts (sourced): `root`, `target`, a temporary `tmp` removed at
# exit, and start_camera ARGS... which starts the virtual camera (CA in $tmp/ca.pem, ports
# in $tmp/cam.json), stops it at exit, and sets `http_port` and `https_port`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
tmp="$(mktemp -d)"
cam_pids=()
cleanup() { for p in "${cam_pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
# CAM=NAME start_camera ... starts another one: CA in $tmp/NAME-ca.pem, ports in
# $tmp/NAME.json (the first is "cam", CA in $tmp/ca.pem).
start_camera() {
  local name="${CAM:-cam}" ca="$tmp/ca.pem"
  [ "$name" = cam ] || ca="$tmp/$name-ca.pem"
  "$target/debug/onvif-virtual-camera" --ca-file "$ca" "$@" >"$tmp/$name.json" 2>"$tmp/$name.err" &
  cam_pids+=($!)
  # The camera prints its ports once it listens; bounded wait for that line.
  for _ in $(seq 1 100); do [ -s "$tmp/$name.json" ] && break; sleep 0.1; done
  http_port=$(sed -n 's/.*"http_port":\([0-9]*\).*/\1/p' "$tmp/$name.json")
  https_port=$(sed -n 's/.*"https_port":\([0-9]*\).*/\1/p' "$tmp/$name.json")
  [ -n "$http_port" ] && [ -n "$https_port" ] || { echo "$(basename "$0"): the virtual camera did not start"; exit 1; }
}
