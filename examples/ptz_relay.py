#!/usr/bin/env python3
# Copyright (C) 2026 onvifhttps developers
# SPDX-License-Identifier: MPL-2.0
"""Moves a camera's PTZ head and pulses a relay through onvifhttpssrc's action signals.

    GST_PLUGIN_PATH=$PWD/target/debug /usr/bin/python3 examples/ptz_relay.py LOCATION USER PASSWORD CA_FILE

Needs Debian's python3-gi and gir1.2-gstreamer-1.0. Exits 1 when a signal fails (the
element also posts a warning with the SOAP fault).
"""
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    location, user, password, ca_file = argv[1:]
    Gst.init(None)
    src = Gst.ElementFactory.make("onvifhttpssrc")
    if src is None:
        print("onvifhttpssrc not found: set GST_PLUGIN_PATH", file=sys.stderr)
        return 1
    src.set_property("location", location)
    src.set_property("user-id", user)
    src.set_property("user-pw", password)
    src.set_property("tls-ca-file", ca_file)
    src.set_state(Gst.State.READY)  # the action signals work from READY on
    try:
        before = src.emit("ptz-get-status")
        if before is None:
            return 1
        print("before:", before.to_string())
        # Pan right at half speed for 300 ms, then stop.
        if not src.emit("ptz-continuous-move", 0.5, 0.0, 0.0, 300):
            return 1
        time.sleep(0.3)
        if not src.emit("ptz-stop"):
            return 1
        after = src.emit("ptz-get-status")
        print("after:", after.to_string())
        if not after.get_value("pan") > before.get_value("pan"):
            print("the head did not move", file=sys.stderr)
            return 1
        # Pulse the first relay: on, then off again.
        relays = src.emit("get-relay-outputs")
        print("relays:", relays.to_string())
        token = "RelayOutput_1"
        for state in (True, False):
            if not src.emit("set-relay-output-state", token, state):
                return 1
            print(f"{token} -> {'active' if state else 'inactive'}")
        return 0
    finally:
        src.set_state(Gst.State.NULL)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
