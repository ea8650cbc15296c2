#!/usr/bin/env bash
# The demo: start the virtual camera, capture snapshots through onvifhttpssrc over HTTPS
# with certificate and hostname checks on, and show what was captured.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=out/demo
rm -rf "$OUT" && mkdir -p "$OUT"

"$CAMERA" --ca-file "$OUT/camera-ca.pem" > "$OUT/camera.json" 2> "$OUT/camera.log" &
CAM_PID=$!
trap 'kill $CAM_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -s "$OUT/camera.json" ] && break
  kill -0 $CAM_PID 2>/dev/null || { echo "virtual camera failed:"; cat "$OUT/camera.log"; exit 1; }
  sleep 0.1
done
[ -s "$OUT/camera.json" ] || { echo "virtual camera did not start in 10 s"; exit 1; }
HTTP_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http_port"])' "$OUT/camera.json")
HTTPS_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https_port"])' "$OUT/camera.json")
echo "Virtual camera: ONVIF on http://127.0.0.1:$HTTP_PORT, HTTPS on port $HTTPS_PORT, CA in $OUT/camera-ca.pem"

set -x
GST_PLUGIN_PATH="$PLUGIN_DIR" timeout -s INT 6 gst-launch-1.0 -e \
  onvifhttpssrc location="http://127.0.0.1:$HTTP_PORT" user-id=admin user-pw=password \
    tls-ca-file="$OUT/camera-ca.pem" https-validate-certificate=true https-validate-hostname=true \
    streaming-method=http-snapshot snapshot-interval=500 \
  ! multifilesink location="$OUT/snapshot-%05d.jpg" > "$OUT/gst-launch.log" 2>&1 || true
set +x

n=$(ls "$OUT"/snapshot-*.jpg 2>/dev/null | wc -l)
if [ "$n" -lt 3 ]; then
  echo "FAILED: only $n snapshots captured"; cat "$OUT/gst-launch.log"; exit 1
fi
first=$(ls "$OUT"/snapshot-*.jpg | head -1); last=$(ls "$OUT"/snapshot-*.jpg | tail -1)
echo
echo "Captured $n JPEG snapshots over HTTPS (certificate and hostname checked) in $OUT/:"
ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of default=nw=1 "$first" | sed 's/^/  /'
echo "  first: $first ($(stat -c %s "$first") bytes), last: $last ($(stat -c %s "$last") bytes)"
if cmp -s "$first" "$last"; then echo "FAILED: images do not change"; exit 1; fi
echo "  images change over time (the camera draws its clock in)"
grep -E '^(ERROR|WARNING)' "$OUT/gst-launch.log" || true
