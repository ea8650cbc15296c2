# Shared by the check scripts (sourced): `root`, `target`, a temporary `tmp` removed at
# exit, and start_camera ARGS... which starts the virtual camera (CA in $tmp/ca.pem, ports
# in $tmp/cam.json), stops it at exit, and sets `http_port` and `https_port`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
tmp="$(mktemp -d)"
cam_pid=
cleanup() { [ -n "$cam_pid" ] && kill "$cam_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
start_camera() {
  "$target/debug/onvif-virtual-camera" --ca-file "$tmp/ca.pem" "$@" >"$tmp/cam.json" 2>/dev/null &
  cam_pid=$!
  # The camera prints its ports once it listens; bounded wait for that line.
  for _ in $(seq 1 100); do [ -s "$tmp/cam.json" ] && break; sleep 0.1; done
  http_port=$(sed -n 's/.*"http_port":\([0-9]*\).*/\1/p' "$tmp/cam.json")
  https_port=$(sed -n 's/.*"https_port":\([0-9]*\).*/\1/p' "$tmp/cam.json")
  [ -n "$http_port" ] && [ -n "$https_port" ] || { echo "$(basename "$0"): the virtual camera did not start"; exit 1; }
}
