// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! SRTP re-keying while playing (`rekey-srtp`, `srtp-rekey-interval`): the driver's side
//! of `proto::rtsp::rekey`. A fresh key per SRTP stream and for the backchannel, each
//! with the next MKI; the receiver takes the device's packets under it from the first
//! that carries its MKI; our reports and Audio OUT move to it once the device accepts it.
//! A refusal leaves each stream under its key, said in a warning.

use crate::proto::mikey::SrtpKey;
use crate::proto::rtsp::rekey::Outcome;
use crate::proto::rtsp::session::Command as RtspCommand;
use crate::proto::srtp;

use super::live::Backchannel;
use super::*;

/// What a new key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The SRTP stream of this index (a pad's).
    Stream(usize),
    /// Audio OUT.
    Backchannel,
}

/// Each stream's URL and the MIKEY message of its new key, for `SET_PARAMETER`.
type Requests = Vec<(String, Vec<u8>)>;

/// New keys sent, their answers awaited.
pub(super) struct Rekeying {
    keys: Vec<(Target, SrtpKey)>,
}

/// New keys for every SRTP stream and the backchannel, each with its stream's URL and
/// the MIKEY message for its `SET_PARAMETER`; `None` when nothing can be re-keyed (not
/// SRTP, or keys without an MKI: said in a debug line).
pub(super) fn start<O: Output>(
    legs: &[Option<UdpLeg>],
    backchannel: Option<&Backchannel>,
    out: &O,
) -> Option<(Rekeying, Requests)> {
    use crate::proto::auth::random;
    let mut keys = Vec::new();
    let mut requests = Vec::new();
    let no_mki = |what: &str| {
        out.debug(format_args!(
            "{what}: not re-keyed: its key has no MKI (the device's SDP keys have none), \
             and without one the device could not tell the new key from the old"
        ))
    };
    for (i, leg) in legs.iter().enumerate() {
        let Some(keys_of) = leg.as_ref().and_then(|l| l.srtp.as_ref()) else {
            continue;
        };
        let Some(sender) = &keys_of.sender else {
            out.debug(format_args!(
                "stream {i}: not re-keyed: the device refused the element's KeyMgmt"
            ));
            continue;
        };
        let mut receiver = keys_of
            .receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if receiver.rekey_pending() {
            out.debug(format_args!(
                "stream {i}: not re-keyed: the device has not used its last new key yet"
            ));
            continue;
        }
        let next = sender
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next_key(&random::<{ srtp::KEY_RANDOM }>());
        let Some(key) = next else {
            no_mki(&format!("stream {i}"));
            continue;
        };
        receiver.rekey(&key);
        drop(receiver);
        requests.push((keys_of.url.clone(), mikey_message(&key)));
        keys.push((Target::Stream(i), key));
    }
    if let Some(b) = backchannel
        && let Some(outgoing) = &b.srtp
    {
        match outgoing.next_key(&random::<{ srtp::KEY_RANDOM }>()) {
            Some(key) => {
                requests.push((b.url.clone(), mikey_message(&key)));
                keys.push((Target::Backchannel, key));
            }
            None => no_mki("backchannel"),
        }
    }
    if keys.is_empty() {
        out.debug(format_args!(
            "re-keying: no SRTP key of the element to replace"
        ));
        return None;
    }
    Some((Rekeying { keys }, requests))
}

/// Starts replacing the SRTP keys; `None` when there is nothing to re-key.
pub(super) fn rekey<O: Output>(
    rtsp: &mut Rtsp,
    legs: &[Option<UdpLeg>],
    backchannel: Option<&Backchannel>,
    out: &O,
) -> Option<Rekeying> {
    let (rekeying, keys) = start(legs, backchannel, out)?;
    match rtsp
        .session
        .command(RtspCommand::Rekey { keys }, std::time::Instant::now())
    {
        Ok(()) => Some(rekeying),
        // Cannot happen (taken only when the session takes commands).
        Err(_) => {
            rekeying.cancel(legs);
            None
        }
    }
}

impl Rekeying {
    /// The re-keying did not go out: the receivers stop waiting for the new keys.
    pub(super) fn cancel(&self, legs: &[Option<UdpLeg>]) {
        for (target, _) in &self.keys {
            if let Target::Stream(i) = target
                && let Some(k) = legs
                    .get(*i)
                    .and_then(Option::as_ref)
                    .and_then(|l| l.srtp.as_ref())
            {
                k.receiver
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .cancel_rekey();
            }
        }
    }

    /// The answer to key `index`: accepted, our reports (or Audio OUT) go under it from
    /// now on; refused, the stream stays under its key (a warning; `periodic`: it says
    /// that `srtp-rekey-interval` stops for this session). True when refused.
    pub(super) fn done<O: Output>(
        &self,
        (index, outcome): (usize, Outcome),
        (legs, backchannel): (&[Option<UdpLeg>], Option<&mut Backchannel>),
        periodic: bool,
        out: &O,
    ) -> bool {
        let Some((target, key)) = self.keys.get(index) else {
            return false;
        };
        let (what, stream) = match target {
            Target::Stream(i) => (format!("stream {i}"), *i),
            Target::Backchannel => ("backchannel".to_string(), 0),
        };
        let keys_of = match target {
            Target::Stream(i) => legs
                .get(*i)
                .and_then(Option::as_ref)
                .and_then(|l| l.srtp.as_ref()),
            Target::Backchannel => None,
        };
        let mut report = Rekeyed {
            stream: u32::try_from(stream).unwrap_or(u32::MAX),
            backchannel: *target == Target::Backchannel,
            mki: key.mki_number().unwrap_or(0),
            accepted: false,
            status: 0,
            reason: String::new(),
            spelling: "",
        };
        match outcome {
            Outcome::Accepted(spelling) => {
                let switched = match (target, keys_of, backchannel) {
                    (Target::Stream(_), Some(k), _) => k.sender.as_ref().map(|s| {
                        s.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .rekey(key)
                    }),
                    (Target::Backchannel, _, Some(b)) => b.srtp.as_mut().map(|o| o.rekey(key)),
                    _ => None,
                };
                report.status = 200;
                report.spelling = spelling.name();
                if let Some(Err(e)) = switched {
                    // Cannot happen with a key of ours (same suite, same MKI length).
                    out.warning(&format!(
                        "{what}: the device accepted the new SRTP key, but the element \
                         cannot send under it ({e}); it sends under the old one"
                    ));
                    report.reason = e;
                } else {
                    out.debug(format_args!(
                        "{what}: the device accepted the new SRTP key (MKI {}, SET_PARAMETER \
                         with {}); what the element sends goes under it",
                        report.mki,
                        spelling.name()
                    ));
                    report.accepted = true;
                }
            }
            Outcome::Refused { status, reason } => {
                if let Some(k) = keys_of {
                    k.receiver
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .cancel_rekey();
                }
                out.warning(&format!(
                    "{what}: the device refused the new SRTP key (SET_PARAMETER: {status} \
                     {}); the stream goes on under its key{}",
                    crate::error::printable(&reason),
                    if periodic {
                        " (srtp-rekey-interval stops until the session starts again)"
                    } else {
                        ""
                    }
                ));
                report.status = u32::from(status);
                report.reason = crate::error::printable(&reason).into_owned();
            }
        }
        out.rekeyed(&report);
        !report.accepted
    }
}

/// A stream's re-keying, answered (the `onvif-srtp-rekeyed` element message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rekeyed {
    /// The stream's index (0 for the backchannel).
    pub stream: u32,
    pub backchannel: bool,
    /// The new key's MKI.
    pub mki: u32,
    pub accepted: bool,
    /// The device's answer (200 when accepted).
    pub status: u32,
    /// Its reason phrase, when refused.
    pub reason: String,
    /// The body's spelling the device took (`mikey`, `KeyMgmt`); empty when refused.
    pub spelling: &'static str,
}
