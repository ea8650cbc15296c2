#!/usr/bin/env bash
# The demo: start the virtual camera, record ten seconds of H.264 video and AAC audio
# through onvifhttpssrc (ONVIF over HTTPS, RTSP tunnelled over HTTPS, certificate and
# hostname checks on) into an MP4, and show what was recorded.
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
GST_PLUGIN_PATH="$PLUGIN_DIR" timeout -s INT 11 gst-launch-1.0 -e \
  onvifhttpssrc name=cam location="http://127.0.0.1:$HTTP_PORT" user-id=admin user-pw=password \
    tls-ca-file="$OUT/camera-ca.pem" https-validate-certificate=true https-validate-hostname=true \
    streaming-method=rtp-rtsp-http-tcp streams=video+audio \
  cam.video_0 ! rtph264depay ! h264parse ! queue ! mp4mux name=mux ! filesink location="$OUT/recording.mp4" \
  cam.audio_0 ! rtpmp4gdepay ! aacparse ! queue ! mux. \
  > "$OUT/gst-launch.log" 2>&1 || true
set +x

if ! ffprobe -v error "$OUT/recording.mp4" >/dev/null 2>&1; then
  echo "FAILED: no playable recording"; cat "$OUT/gst-launch.log"; exit 1
fi
echo
echo "Recorded $OUT/recording.mp4 from the virtual camera: ONVIF over HTTPS, RTSP tunnelled"
echo "over HTTPS, certificate and hostname checked:"
ffprobe -v error -show_entries format=duration,size -of default=nw=1 "$OUT/recording.mp4" | sed 's/^/  /'
ffprobe -v error -show_entries stream=codec_type,codec_name,width,height,sample_rate,channels \
  -of compact=p=0 "$OUT/recording.mp4" | sed 's/^/  /'
# Outputs are read whole first: with pipefail, `grep -q` closing the pipe early would fail
# the writer (SIGPIPE) and with it the check.
types=$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 "$OUT/recording.mp4")
for t in video audio; do
  grep -qx "$t" <<<"$types" || { echo "FAILED: no $t in the recording"; exit 1; }
done
decode_errors=$(ffmpeg -v error -i "$OUT/recording.mp4" -f null - 2>&1)
if [ -n "$decode_errors" ]; then
  echo "FAILED: the recording does not decode cleanly: $decode_errors"; exit 1
fi
echo "  decodes cleanly (ffmpeg)"
grep -E '^(ERROR|WARNING)' "$OUT/gst-launch.log" || true
