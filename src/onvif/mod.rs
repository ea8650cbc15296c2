// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! ONVIF without I/O: XML reading, SOAP envelopes and faults, the operations the element
//! uses, and address rewriting.

pub mod addr;
pub mod events;
pub mod ops;
pub mod soap;
pub mod xml;
