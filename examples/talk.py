#!/usr/bin/env python3
# Copyright (C) 2026 onvifhttps developers
# SPDX-License-Identifier: MPL-2.0
"""Plays a WAV file on a camera's speaker through the ONVIF audio backchannel, encrypted
(RTSP over TLS: streaming-method=rtsps), with the certificate checked against CA_FILE.

    GST_PLUGIN_PATH=$PWD/target/debug /usr/bin/python3 examples/talk.py LOCATION USER PASSWORD CA_FILE WAV

Needs Debian's python3-gi and gir1.2-gstreamer-1.0. The audio goes as G.711 mu-law
(PCMU, 8 kHz), the codec ONVIF devices offer for their backchannel; pushed at its own
pace. Exits 1 when the camera offers no backchannel or the stream fails.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def backchannel_id(bus):
    """The backchannel's stream id, from the element's onvif-backchannel message."""
    while True:
        msg = bus.timed_pop_filtered(
            10 * Gst.SECOND, Gst.MessageType.ELEMENT | Gst.MessageType.ERROR
        )
        if msg is None:
            print("no backchannel within 10 s", file=sys.stderr)
            return None
        if msg.type == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            print(f"error: {err.message}", file=sys.stderr)
            return None
        s = msg.get_structure()
        if s.get_name() == "onvif-backchannel":
            print(f"backchannel: stream {s.get_value('id')}, {s.get_value('caps').to_string()}")
            return s.get_value("id")


def main(argv):
    if len(argv) != 6:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    location, user, password, ca_file, wav = argv[1:]
    Gst.init(None)
    camera = Gst.parse_launch(
        "onvifhttpssrc name=cam streaming-method=rtsps backchannel=onvif ! fakesink"
    )
    src = camera.get_by_name("cam")
    if src is None:
        print("onvifhttpssrc not found: set GST_PLUGIN_PATH", file=sys.stderr)
        return 1
    for name, value in [
        ("location", location),
        ("user-id", user),
        ("user-pw", password),
        ("tls-ca-file", ca_file),
    ]:
        src.set_property(name, value)
    camera.set_state(Gst.State.PLAYING)
    stream = backchannel_id(camera.get_bus())
    if stream is None:
        camera.set_state(Gst.State.NULL)
        return 1
    # The file as RTP packets of PCMU; appsink with sync paces them in real time.
    audio = Gst.parse_launch(
        f"filesrc location={wav} ! wavparse ! audioconvert ! audioresample ! "
        "audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay ! appsink name=out sync=true"
    )
    out = audio.get_by_name("out")
    audio.set_state(Gst.State.PLAYING)
    sent = 0
    while True:
        sample = out.emit("try-pull-sample", 5 * Gst.SECOND)
        if sample is None:
            break
        # push-backchannel-sample leaves the sample ours (push-backchannel-buffer takes
        # it, as rtspsrc's does, which language bindings cannot give away).
        flow = src.emit("push-backchannel-sample", stream, sample)
        if flow != Gst.FlowReturn.OK:
            print(f"push-backchannel-sample: {flow}", file=sys.stderr)
            break
        sent += 1
    audio.set_state(Gst.State.NULL)
    camera.set_state(Gst.State.NULL)
    print(f"sent {sent} RTP packets")
    return 0 if sent > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
