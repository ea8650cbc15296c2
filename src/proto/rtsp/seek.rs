// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! A replay seek without I/O (ONVIF Streaming §6.3; spec §7): PAUSE, then PLAY from the
//! new time. Packets that come between the PAUSE's answer and the PLAY's are held by the
//! driver ([`Step::Hold`]): some servers still send the old position's packets after the
//! PAUSE answer (gst-rtsp-server's send queue does), and the PLAY answer's `RTP-Info` says
//! where the new position starts in each stream ([`Step::Landed`]).

use super::Response;
use super::sequence::Request;
use super::url::{self, Presentation, RtpInfo};

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this request and give its answer to [`Seek::answer`]. Packets read while the
    /// PAUSE is answered are of the old position; while the PLAY is, they are held.
    Send(Request),
    /// The PAUSE is answered: hold every stream's packets until the PLAY's answer.
    Hold,
    /// The PLAY is answered: the first sequence number of the new position, per stream
    /// in SETUP order (`None`: the answer does not say), and the `RTP-Info` entries.
    Landed {
        first_seq: Vec<Option<u16>>,
        rtp_info: Vec<RtpInfo>,
    },
}

/// Why the seek cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A refusal (not 2xx) of `method`.
    Refused {
        method: &'static str,
        resp: Box<Response>,
    },
    /// An answer when none was asked for: a driver's mistake.
    OutOfTurn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pause,
    Play,
    Done,
}

/// One seek of a playing replay.
#[derive(Debug)]
pub struct Seek {
    aggregate: String,
    play: Vec<(String, String)>,
    urls: Presentation,
    /// The URL each stream was SET UP on, in SETUP order.
    setup_urls: Vec<String>,
    state: State,
    awaiting: Option<&'static str>,
    events: Vec<Step>,
}

impl Seek {
    /// A seek of the presentation `urls` (streams SET UP at `setup_urls`) whose PLAY
    /// carries `play` (the new `Range`, and the replay's headers).
    pub fn new(urls: Presentation, setup_urls: Vec<String>, play: Vec<(String, String)>) -> Self {
        Seek {
            aggregate: urls.aggregate.clone(),
            play,
            urls,
            setup_urls,
            state: State::Pause,
            awaiting: None,
            events: Vec::new(),
        }
    }

    /// The next step, or `None` while an answer is awaited and once landed.
    pub fn poll(&mut self) -> Option<Step> {
        if !self.events.is_empty() {
            return Some(self.events.remove(0));
        }
        if self.awaiting.is_some() {
            return None;
        }
        let (method, headers) = match self.state {
            State::Pause => ("PAUSE", Vec::new()),
            State::Play => ("PLAY", self.play.clone()),
            State::Done => return None,
        };
        self.awaiting = Some(method);
        Some(Step::Send(Request {
            method,
            uri: self.aggregate.clone(),
            headers,
        }))
    }

    /// The answer to the request last asked for.
    pub fn answer(&mut self, resp: Response) -> Result<(), Fault> {
        let method = self.awaiting.take().ok_or(Fault::OutOfTurn)?;
        if !(200..=299).contains(&resp.status) {
            self.state = State::Done;
            return Err(Fault::Refused {
                method,
                resp: Box::new(resp),
            });
        }
        match self.state {
            State::Pause => {
                self.events.push(Step::Hold);
                self.state = State::Play;
            }
            State::Play => {
                let rtp_info = url::parse_rtp_info(resp.header("rtp-info").unwrap_or(""));
                let n = self.setup_urls.len();
                let first_seq = self
                    .setup_urls
                    .iter()
                    .map(|setup| {
                        rtp_info
                            .iter()
                            .find(|info| self.urls.rtp_info_matches(&info.url, setup, n))
                            .and_then(|info| info.seq)
                    })
                    .collect();
                self.events.push(Step::Landed {
                    first_seq,
                    rtp_info,
                });
                self.state = State::Done;
            }
            State::Done => return Err(Fault::OutOfTurn),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::rtsp::framing::{self, Frame};

    fn resp(wire: &str) -> Response {
        match framing::next(wire.as_bytes()) {
            Ok(Some((Frame::Response(r), _))) => r,
            other => panic!("{other:?}"),
        }
    }

    /// Dahua's shapes: Content-Base after the query, relative `RTP-Info` URLs.
    fn dahua() -> Seek {
        let base = "rtsp://10.0.0.6/cam/playback?channel=1&starttime=x/";
        let urls = Presentation::new(base, Some(base), None, Some("*"));
        Seek::new(
            urls,
            vec![format!("{base}trackID=0"), format!("{base}trackID=1")],
            vec![("Range".into(), "clock=20261205T100000Z-".into())],
        )
    }

    #[test]
    fn test_pause_hold_play_landed() {
        let mut seek = dahua();
        let Some(Step::Send(pause)) = seek.poll() else {
            panic!("PAUSE first")
        };
        assert_eq!(pause.method, "PAUSE");
        assert_eq!(
            pause.uri,
            "rtsp://10.0.0.6/cam/playback?channel=1&starttime=x/"
        );
        assert!(pause.headers.is_empty());
        assert_eq!(seek.poll(), None, "its answer is awaited");
        seek.answer(resp("RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n"))
            .expect("paused");
        assert_eq!(seek.poll(), Some(Step::Hold));
        let Some(Step::Send(play)) = seek.poll() else {
            panic!("then PLAY")
        };
        assert_eq!(play.method, "PLAY");
        assert_eq!(play.header_refs(), [("Range", "clock=20261205T100000Z-")]);
        seek.answer(resp(
            "RTSP/1.0 200 OK\r\nCSeq: 6\r\nRTP-Info: url=trackID=1;seq=900;rtptime=1,\
             url=trackID=0;seq=17;rtptime=2\r\n\r\n",
        ))
        .expect("played");
        let Some(Step::Landed {
            first_seq,
            rtp_info,
        }) = seek.poll()
        else {
            panic!("landed")
        };
        assert_eq!(
            first_seq,
            [Some(17), Some(900)],
            "matched by URL, not order"
        );
        assert_eq!(rtp_info.len(), 2);
        assert_eq!(seek.poll(), None);
        assert_eq!(
            seek.answer(resp("RTSP/1.0 200 OK\r\n\r\n")),
            Err(Fault::OutOfTurn)
        );
    }

    /// A PLAY answer without RTP-Info: nothing says where the new position starts.
    #[test]
    fn test_no_rtp_info() {
        let mut seek = dahua();
        seek.poll();
        seek.answer(resp("RTSP/1.0 200 OK\r\n\r\n"))
            .expect("paused");
        seek.poll();
        seek.poll();
        seek.answer(resp("RTSP/1.0 200 OK\r\n\r\n"))
            .expect("played");
        assert!(matches!(
            seek.poll(),
            Some(Step::Landed { first_seq, .. }) if first_seq == [None, None]
        ));
    }

    #[test]
    fn test_a_refused_pause_ends_the_seek() {
        let mut seek = dahua();
        seek.poll();
        assert!(matches!(
            seek.answer(resp("RTSP/1.0 455 Method Not Valid in This State\r\n\r\n")),
            Err(Fault::Refused { method: "PAUSE", resp }) if resp.status == 455
        ));
        assert_eq!(seek.poll(), None);
    }
}
