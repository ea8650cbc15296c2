// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The one authentication of every request the element makes (SOAP, the tunnel's legs,
//! RTSP): who we are ([`Credentials`]), the one nonce source, and [`HttpAuth`], the state
//! of one connection's HTTP authentication: none yet (SOAP then carries a
//! WS-UsernameToken in its body), or the Digest or Basic challenge the device answered
//! with a 401, chosen by one rule ([`HttpAuth::adopt`]).

use crate::proto::digest::{self, Challenge, DigestSession, hex};

/// Why a Basic challenge is not answered.
pub const BASIC_WITHHELD: &str = "it asks for HTTP Basic, which sends the password as it is, \
     so it only goes inside TLS to an authenticated camera (both https-validate-* checks on, \
     or its certificate pinned with tls-certificate-sha256), never over rtp-rtsp-tcp or rtp-udp";

/// Why a Digest challenge without `qop` is not answered in clear.
pub const DIGEST_WITHOUT_QOP_WITHHELD: &str = "it asks for HTTP Digest without qop over plain HTTP, whose answer could be \
     replayed, so it is not sent in clear: use an https:// location or set https-port";

/// `N` bytes from the OS random source: every nonce and client nonce the element sends.
pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS random source does not fail on supported platforms; a zero nonce would only
    // make a replay cache reject the request, never leak anything.
    let _ = getrandom::fill(&mut b);
    b
}

/// What the connection allows an answer to a challenge to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Basic is answered only inside TLS whose peer is authenticated (chain and name, or
    /// a pin).
    pub basic: bool,
    /// Digest must have `qop=auth` (a client nonce and a counter): in clear, without it
    /// the answer is a replayable function of the server's nonce.
    pub digest_needs_qop: bool,
}

impl Policy {
    /// The one rule for every exchange (SOAP, the tunnel's legs, RTSP). `tls`: the exchange
    /// is inside TLS, and whether its peer is authenticated (both checks on, or a pin);
    /// `clear_chosen`: the user chose this exchange in clear (`https-enable=false`, or RTSP
    /// with `rtp-rtsp-tcp` or `rtp-udp`, where the session and the media travel in clear
    /// anyway and a warning says so).
    ///
    /// Basic only inside TLS to an authenticated peer. Digest without qop (RFC 2069, what
    /// most cameras' RTSP servers, live555 and gst-rtsp-server offer) inside TLS or where
    /// the exchange was chosen in clear; elsewhere in clear, that is the SOAP bootstrap of
    /// an `http://` location, whose credentials could go over HTTPS instead, only Digest
    /// with qop.
    pub fn for_exchange(tls: Option<bool>, clear_chosen: bool) -> Policy {
        Policy {
            basic: tls == Some(true),
            digest_needs_qop: tls.is_none() && !clear_chosen,
        }
    }
}

/// Why a 401 was not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unanswered {
    /// A challenge this connection refuses to answer ([`BASIC_WITHHELD`],
    /// [`DIGEST_WITHOUT_QOP_WITHHELD`]).
    Withheld(&'static str),
    /// No challenge this client knows.
    NoChallenge,
}

/// The HTTP authentication of one connection (or one device's SOAP client).
#[derive(Debug, Clone, Default)]
pub enum HttpAuth {
    /// No HTTP authentication: anonymous, or SOAP's WS-UsernameToken.
    #[default]
    None,
    /// HTTP Digest, reusing the challenge (the counter grows).
    Digest(DigestSession),
    /// HTTP Basic, only where [`Policy::basic`] allows.
    Basic,
}

impl HttpAuth {
    /// The `Authorization` value of the next request, if any (none without credentials).
    pub fn authorization(
        &mut self,
        creds: Option<&Credentials>,
        method: &str,
        target: &str,
    ) -> Option<String> {
        let creds = creds?;
        match self {
            HttpAuth::None => None,
            HttpAuth::Digest(d) => Some(d.authorization(
                &creds.user,
                &creds.password,
                method,
                target,
                &hex(&random::<8>()),
            )),
            HttpAuth::Basic => Some(digest::basic_authorization(&creds.user, &creds.password)),
        }
    }

    /// Takes the strongest challenge of a 401's `WWW-Authenticate` values that `policy`
    /// allows (SHA-256 Digest over MD5 over Basic); otherwise says why none is answered.
    pub fn adopt<'a>(
        &mut self,
        challenges: impl IntoIterator<Item = &'a str>,
        policy: Policy,
    ) -> Result<(), Unanswered> {
        let values: Vec<&str> = challenges.into_iter().collect();
        // What the policy refuses is out before the strongest is chosen: a device that
        // offers Digest with and without qop gets the one with.
        let allowed = values.iter().copied().filter(|v| {
            !(policy.digest_needs_qop
                && matches!(digest::parse_challenge(v), Some(Challenge::Digest(d)) if !d.qop_auth))
        });
        match digest::choose(allowed, policy.basic) {
            Some(Challenge::Digest(d)) => {
                *self = HttpAuth::Digest(DigestSession::new(d));
                return Ok(());
            }
            Some(Challenge::Basic { .. }) => {
                *self = HttpAuth::Basic;
                return Ok(());
            }
            None => {}
        }
        let offered: Vec<Challenge> = values
            .into_iter()
            .filter_map(digest::parse_challenge)
            .collect();
        if !policy.basic && offered.iter().any(|c| matches!(c, Challenge::Basic { .. })) {
            Err(Unanswered::Withheld(BASIC_WITHHELD))
        } else if policy.digest_needs_qop
            && offered
                .iter()
                .any(|c| matches!(c, Challenge::Digest(d) if !d.qop_auth))
        {
            Err(Unanswered::Withheld(DIGEST_WITHOUT_QOP_WITHHELD))
        } else {
            Err(Unanswered::NoChallenge)
        }
    }

    /// For messages: what the next request carries at the HTTP level.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            HttpAuth::None => None,
            HttpAuth::Digest(_) => Some("HTTP Digest"),
            HttpAuth::Basic => Some("HTTP Basic"),
        }
    }
}

/// What a 401 means for one request ([`Attempt::on_401`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Send the request again: the challenge is adopted, and
    /// [`HttpAuth::authorization`] answers it.
    Again,
    /// No credentials are set: the refusal is the answer.
    NoCredentials,
    /// The challenge is one this exchange withholds credentials from (the reason).
    Withheld(&'static str),
    /// No challenge this client knows.
    NoChallenge,
    /// A challenge was answered for this request already: the credentials are refused.
    Refused,
}

/// One request's way through authentication challenges, the same for SOAP, the snapshot
/// GET, the tunnel's GET and RTSP: at most one challenge answered per request, chosen by
/// the exchange's [`Policy`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Attempt {
    answered: bool,
}

impl Attempt {
    /// What a 401 with these `WWW-Authenticate` values means; on [`Verdict::Again`] `auth`
    /// holds the challenge to answer.
    pub fn on_401<'a>(
        &mut self,
        auth: &mut HttpAuth,
        have_creds: bool,
        challenges: impl IntoIterator<Item = &'a str>,
        policy: Policy,
    ) -> Verdict {
        if !have_creds {
            return Verdict::NoCredentials;
        }
        if self.answered {
            return Verdict::Refused;
        }
        match auth.adopt(challenges, policy) {
            Ok(()) => {
                self.answered = true;
                Verdict::Again
            }
            Err(Unanswered::Withheld(reason)) => Verdict::Withheld(reason),
            Err(Unanswered::NoChallenge) => Verdict::NoChallenge,
        }
    }

    /// Whether a challenge was answered for this request.
    pub fn answered(&self) -> bool {
        self.answered
    }
}

/// Credentials; `Debug` never shows the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"***")
            .finish()
    }
}

#[cfg(test)]
mod tests {

    /// One challenge answered per request; without credentials, or a second time, the
    /// refusal is the answer; what the policy withholds says why.
    #[test]
    fn test_an_attempt_answers_one_challenge() {
        let digest = ["Digest realm=\"cam\", nonce=\"n\", qop=\"auth\""];
        let clear = Policy::for_exchange(None, false);
        let mut auth = HttpAuth::None;
        let mut a = Attempt::default();
        assert_eq!(
            a.on_401(&mut auth, false, digest, clear),
            Verdict::NoCredentials
        );
        assert_eq!(a.on_401(&mut auth, true, digest, clear), Verdict::Again);
        assert!(a.answered() && matches!(auth, HttpAuth::Digest(_)));
        assert_eq!(a.on_401(&mut auth, true, digest, clear), Verdict::Refused);
        let mut a = Attempt::default();
        assert_eq!(
            a.on_401(&mut HttpAuth::None, true, ["Basic realm=\"cam\""], clear),
            Verdict::Withheld(BASIC_WITHHELD)
        );
        assert_eq!(
            a.on_401(&mut HttpAuth::None, true, ["Negotiate"], clear),
            Verdict::NoChallenge
        );
        assert!(!a.answered());
    }

    use super::*;

    #[test]
    fn test_debug_hides_the_password() {
        let c = Credentials {
            user: "admin".into(),
            password: "s3cret".into(),
        };
        let shown = format!("{c:?}");
        assert!(shown.contains("admin"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    const TLS: Policy = Policy {
        basic: true,
        digest_needs_qop: false,
    };
    const CLEAR: Policy = Policy {
        basic: false,
        digest_needs_qop: true,
    };
    /// Issue 23 point 11: one rule for every exchange.
    #[test]
    fn test_one_policy_for_soap_and_rtsp() {
        // Inside TLS: Digest without qop; Basic only to an authenticated peer.
        assert_eq!(Policy::for_exchange(Some(true), false), TLS);
        assert_eq!(
            Policy::for_exchange(Some(false), false),
            Policy {
                basic: false,
                digest_needs_qop: false
            }
        );
        // In clear, not chosen (the SOAP bootstrap of an http:// location): qop only.
        assert_eq!(Policy::for_exchange(None, false), CLEAR);
        // In clear, chosen (rtp-rtsp-tcp, rtp-udp, https-enable=false): no Basic ever.
        assert_eq!(
            Policy::for_exchange(None, true),
            Policy {
                basic: false,
                digest_needs_qop: false
            }
        );
    }

    const MD5: &str = r#"Digest realm="r", nonce="n1", qop="auth""#;
    const SHA256: &str = r#"Digest realm="r", nonce="n2", qop="auth", algorithm=SHA-256"#;
    const NO_QOP: &str = r#"Digest realm="r", nonce="n3""#;
    const BASIC: &str = r#"Basic realm="r""#;

    fn creds() -> Credentials {
        Credentials {
            user: "admin".into(),
            password: "pw".into(),
        }
    }

    #[test]
    fn test_the_strongest_allowed_challenge_is_taken() {
        let mut a = HttpAuth::default();
        assert_eq!(a.authorization(Some(&creds()), "GET", "/"), None);
        a.adopt([BASIC, MD5, SHA256], TLS).expect("answered");
        let h = a
            .authorization(Some(&creds()), "GET", "/x")
            .expect("an Authorization");
        assert!(
            h.starts_with("Digest ") && h.contains("algorithm=SHA-256"),
            "{h}"
        );
        assert!(h.contains("nc=00000001"), "{h}");
        let h = a.authorization(Some(&creds()), "GET", "/x").expect("again");
        assert!(h.contains("nc=00000002"), "the counter grows: {h}");
        a.adopt([BASIC], TLS).expect("Basic inside verified TLS");
        assert_eq!(
            a.authorization(Some(&creds()), "GET", "/").as_deref(),
            Some("Basic YWRtaW46cHc=")
        );
        assert_eq!(a.name(), Some("HTTP Basic"));
        assert_eq!(a.authorization(None, "GET", "/"), None, "no credentials");
    }

    #[test]
    fn test_a_refused_challenge_says_why() {
        let mut a = HttpAuth::default();
        assert_eq!(
            a.adopt([BASIC], CLEAR),
            Err(Unanswered::Withheld(BASIC_WITHHELD))
        );
        assert_eq!(
            a.adopt([NO_QOP], CLEAR),
            Err(Unanswered::Withheld(DIGEST_WITHOUT_QOP_WITHHELD))
        );
        assert_eq!(a.adopt(["Bearer x"], CLEAR), Err(Unanswered::NoChallenge));
        assert_eq!(
            a.adopt(std::iter::empty(), TLS),
            Err(Unanswered::NoChallenge)
        );
        assert!(matches!(a, HttpAuth::None), "nothing adopted: {a:?}");
        // With qop on offer too, that one is answered.
        a.adopt([NO_QOP, MD5], CLEAR).expect("the qop challenge");
        // The no-qop Digest is answered where the policy allows it (inside TLS).
        let mut b = HttpAuth::default();
        b.adopt([NO_QOP], TLS).expect("inside TLS");
        assert_eq!(b.name(), Some("HTTP Digest"));
    }

    #[test]
    fn test_nonces_are_random() {
        assert_ne!(random::<16>(), random::<16>());
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
    }
}
