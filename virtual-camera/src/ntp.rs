// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! NTP time as the recording and its metadata track stamp it (ONVIF's 0xABAC extension and
//! `tt:MetadataStream` times): nanoseconds since 1900.

/// Seconds from 1900 (NTP era 0) to 1970.
pub(crate) const NTP_UNIX_OFFSET_S: u64 = 2_208_988_800;

/// Nanoseconds since 1900 of a Unix time in seconds (times before 1970 clamp to it).
pub fn ntp_ns(unix_s: i64) -> u64 {
    (u64::try_from(unix_s).unwrap_or(0) + NTP_UNIX_OFFSET_S) * 1_000_000_000
}
