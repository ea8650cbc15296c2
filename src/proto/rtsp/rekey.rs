// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Re-keying SRTP streams while they play (ONVIF 26.06, client re-keying;
//! `docs/secure-streaming-and-discovery.md` §1.6): one `SET_PARAMETER` per stream, to the
//! URL its SETUP went to, carrying a MIKEY message with the stream's new key. Two body
//! spellings exist: the spec's `mikey: <base64>` and GStreamer's (and Axis's guide's)
//! `KeyMgmt: prot=mikey;...`. The spec's goes first; a `451 Parameter Not Understood`
//! sends the other. Whatever the answer, the session plays on: a refused re-key leaves
//! the stream under the key it has.

use std::collections::VecDeque;

use super::Response;
use super::sequence::Request;

/// The body's type (RFC 2326 §10.9's example, and the spec's).
pub const PARAMETERS: &str = "text/parameters";

/// How a `SET_PARAMETER` carries the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// `mikey: <base64>` (ONVIF 26.06).
    Mikey,
    /// `KeyMgmt: prot=mikey;uri="...";data="<base64>"` (GStreamer 1.26's
    /// `set-mikey-parameter`, Axis).
    KeyMgmt,
}

impl Spelling {
    /// How it is named in logs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Spelling::Mikey => "mikey",
            Spelling::KeyMgmt => "KeyMgmt",
        }
    }
}

/// The body of a `SET_PARAMETER` carrying `message` for the stream at `uri`.
pub fn body(spelling: Spelling, uri: &str, message: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    match spelling {
        Spelling::Mikey => format!(
            "mikey: {}\r\n",
            base64::engine::general_purpose::STANDARD.encode(message)
        ),
        Spelling::KeyMgmt => format!(
            "KeyMgmt: {}\r\n",
            crate::proto::mikey::key_mgmt_header(uri, message)
        ),
    }
    .into_bytes()
}

/// What became of one stream's new key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The device took it (a 2xx), in this spelling.
    Accepted(Spelling),
    /// The device refused it: its last answer.
    Refused { status: u16, reason: String },
}

/// A step of the re-keying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this request (its body in [`Rekey::body`]) and give its answer.
    Send(Request),
    /// The key `index` (its place in the list given) is answered.
    Done { index: usize, outcome: Outcome },
}

/// One key to give: its place in the list, the stream's URL, the MIKEY message.
#[derive(Debug, Clone)]
struct Key {
    index: usize,
    uri: String,
    message: Vec<u8>,
}

/// The re-keying of a list of streams, one `SET_PARAMETER` at a time.
#[derive(Debug)]
pub struct Rekey {
    waiting: VecDeque<Key>,
    /// The key whose answer is awaited, and the spelling it went in.
    current: Option<(Key, Spelling)>,
    steps: VecDeque<Step>,
}

impl Rekey {
    /// Re-keys each `(url, MIKEY message)` in turn.
    pub fn new(keys: Vec<(String, Vec<u8>)>) -> Rekey {
        let mut r = Rekey {
            waiting: keys
                .into_iter()
                .enumerate()
                .map(|(index, (uri, message))| Key {
                    index,
                    uri,
                    message,
                })
                .collect(),
            current: None,
            steps: VecDeque::new(),
        };
        r.next();
        r
    }

    fn next(&mut self) {
        if let Some(key) = self.waiting.pop_front() {
            self.send(key, Spelling::Mikey);
        }
    }

    fn send(&mut self, key: Key, spelling: Spelling) {
        self.steps.push_back(Step::Send(Request {
            method: "SET_PARAMETER",
            uri: key.uri.clone(),
            headers: Vec::new(),
        }));
        self.current = Some((key, spelling));
    }

    /// The body of the request of the last [`Step::Send`].
    pub fn body(&self) -> Option<Vec<u8>> {
        self.current
            .as_ref()
            .map(|(k, spelling)| body(*spelling, &k.uri, &k.message))
    }

    /// The next step; `None` while an answer is awaited, and once all are answered.
    pub fn poll(&mut self) -> Option<Step> {
        self.steps.pop_front()
    }

    /// Whether every key is answered.
    pub fn is_done(&self) -> bool {
        self.current.is_none() && self.waiting.is_empty() && self.steps.is_empty()
    }

    /// The answer to the last request.
    pub fn answer(&mut self, resp: &Response) {
        let Some((key, spelling)) = self.current.take() else {
            return;
        };
        let outcome = match resp.status {
            200..=299 => Outcome::Accepted(spelling),
            // The parameter's name not understood: the other spelling.
            451 if spelling == Spelling::Mikey => {
                self.send(key, Spelling::KeyMgmt);
                return;
            }
            status => Outcome::Refused {
                status,
                reason: resp.reason.clone(),
            },
        };
        self.steps.push_back(Step::Done {
            index: key.index,
            outcome,
        });
        self.next();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, reason: &str) -> Response {
        Response {
            status,
            reason: reason.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn sent(r: &mut Rekey) -> (String, String) {
        match r.poll() {
            Some(Step::Send(req)) => {
                assert_eq!(req.method, "SET_PARAMETER");
                (req.uri, String::from_utf8(r.body().unwrap()).unwrap())
            }
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn test_each_stream_in_turn_in_the_specs_spelling() {
        let mut r = Rekey::new(vec![
            ("rtsps://cam/s/stream=0".into(), vec![1, 2, 3]),
            ("rtsps://cam/s/stream=1".into(), vec![4, 5, 6]),
        ]);
        assert_eq!(
            sent(&mut r),
            ("rtsps://cam/s/stream=0".into(), "mikey: AQID\r\n".into())
        );
        assert_eq!(r.poll(), None);
        r.answer(&resp(200, "OK"));
        assert_eq!(
            r.poll(),
            Some(Step::Done {
                index: 0,
                outcome: Outcome::Accepted(Spelling::Mikey)
            })
        );
        assert_eq!(
            sent(&mut r),
            ("rtsps://cam/s/stream=1".into(), "mikey: BAUG\r\n".into())
        );
        assert!(!r.is_done());
        r.answer(&resp(200, "OK"));
        assert!(matches!(r.poll(), Some(Step::Done { index: 1, .. })));
        assert_eq!(r.poll(), None);
        assert!(r.is_done());
    }

    /// gst-rtsp-server's default answer to a body it does not know is 451: the other
    /// spelling goes once; a second 451 (or any refusal) is the stream's outcome.
    #[test]
    fn test_451_sends_the_keymgmt_spelling_once() {
        let mut r = Rekey::new(vec![("rtsps://cam/s/stream=0".into(), vec![1, 2, 3])]);
        sent(&mut r);
        r.answer(&resp(451, "Parameter Not Understood"));
        assert_eq!(
            sent(&mut r),
            (
                "rtsps://cam/s/stream=0".into(),
                "KeyMgmt: prot=mikey;uri=\"rtsps://cam/s/stream=0\";data=\"AQID\"\r\n".into()
            )
        );
        r.answer(&resp(200, "OK"));
        assert_eq!(
            r.poll(),
            Some(Step::Done {
                index: 0,
                outcome: Outcome::Accepted(Spelling::KeyMgmt)
            })
        );

        let mut r = Rekey::new(vec![("u".into(), vec![1])]);
        sent(&mut r);
        r.answer(&resp(451, "Parameter Not Understood"));
        sent(&mut r);
        r.answer(&resp(451, "Parameter Not Understood"));
        assert_eq!(
            r.poll(),
            Some(Step::Done {
                index: 0,
                outcome: Outcome::Refused {
                    status: 451,
                    reason: "Parameter Not Understood".into()
                }
            })
        );
        assert!(r.is_done());
    }

    /// 463 (RFC 4567's key management failure) is not a spelling matter: no second try.
    #[test]
    fn test_463_is_refused_without_another_spelling() {
        let mut r = Rekey::new(vec![("u".into(), vec![1])]);
        sent(&mut r);
        r.answer(&resp(463, "Key Management Failure"));
        assert!(matches!(
            r.poll(),
            Some(Step::Done {
                outcome: Outcome::Refused { status: 463, .. },
                ..
            })
        ));
        assert!(r.is_done());
    }
}
