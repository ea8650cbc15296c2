/* Copyright (C) 2026 onvifhttps developers
 * SPDX-License-Identifier: MPL-2.0
 *
 * Records a camera's video to an MP4 file for SECONDS seconds and prints each ONVIF event
 * (onvif-event element message) as it comes.
 *
 *   cc examples/record_events.c -o record_events $(pkg-config --cflags --libs gstreamer-1.0)
 *   GST_PLUGIN_PATH=$PWD/target/debug ./record_events LOCATION USER PASSWORD CA_FILE OUT.mp4 SECONDS
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  if (argc != 7) {
    fprintf (stderr,
        "usage: %s LOCATION USER PASSWORD CA_FILE OUT.mp4 SECONDS\n", argv[0]);
    return 2;
  }
  gst_init (&argc, &argv);

  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch ("onvifhttpssrc name=cam events=true "
      "! rtph264depay ! h264parse ! mp4mux ! filesink name=file", &error);
  if (pipeline == NULL) {
    fprintf (stderr, "pipeline: %s\n", error->message);
    return 1;
  }
  GstElement *cam = gst_bin_get_by_name (GST_BIN (pipeline), "cam");
  GstElement *file = gst_bin_get_by_name (GST_BIN (pipeline), "file");
  if (cam == NULL || file == NULL) {
    fprintf (stderr, "onvifhttpssrc not found: set GST_PLUGIN_PATH\n");
    return 1;
  }
  g_object_set (cam, "location", argv[1], "user-id", argv[2], "user-pw", argv[3],
      "tls-ca-file", argv[4], NULL);
  g_object_set (file, "location", argv[5], NULL);
  gst_object_unref (cam);
  gst_object_unref (file);

  gint64 seconds = g_ascii_strtoll (argv[6], NULL, 10);
  GstBus *bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  int rc = 0, events = 0;
  gboolean eos_sent = FALSE;
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 100 * GST_MSECOND);
    if (!eos_sent && g_get_monotonic_time () >= end) {
      /* Finish the file: EOS through the pipeline, then wait for it on the bus. */
      gst_element_send_event (pipeline, gst_event_new_eos ());
      eos_sent = TRUE;
    }
    if (msg == NULL)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
        && gst_message_has_name (msg, "onvif-event")) {
      const GstStructure *s = gst_message_get_structure (msg);
      printf ("event %s at %s\n", gst_structure_get_string (s, "topic"),
          gst_structure_get_string (s, "utc-time"));
      events++;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      fprintf (stderr, "error: %s\n", err->message);
      g_error_free (err);
      rc = 1;
      gst_message_unref (msg);
      break;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      gst_message_unref (msg);
      break;
    }
    gst_message_unref (msg);
  }
  printf ("%d event(s); recording in %s\n", events, argv[5]);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return rc;
}
