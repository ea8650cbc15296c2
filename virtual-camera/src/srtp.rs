// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! What the camera's SRTP does beyond gst-rtsp-server's own (device keys in the SDP):
//! encrypting with the key a client sent in its SETUP's `KeyMgmt`, as Axis and
//! Genetec-style devices do (`docs/secure-streaming-and-discovery.md` §1.3 mode B),
//! re-keying by `SET_PARAMETER` (§1.6, accepted or refused per `--srtp-rekey`), and
//! damaging packets on the way out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gst::glib;
use gst::prelude::*;
use gst_rtsp_server::prelude::*;

/// Each stream's `srtpenc`, by the path of its SETUP (`/media/Profile_1/stream=0`).
pub type Encoders = Arc<Mutex<HashMap<String, gst::Element>>>;

/// Keeps the `srtpenc` of each stream of `media` (served at `path`) in `encoders`.
pub fn keep_encoders(media: &gst_rtsp_server::RTSPMedia, path: &str, encoders: &Encoders) {
    for i in 0..media.n_streams() {
        let Some(stream) = media.stream(i) else {
            continue;
        };
        let key = format!("{path}/stream={i}");
        if let Some(enc) = stream.srtp_encoder() {
            encoders.lock().unwrap().insert(key.clone(), enc);
        }
        let encoders = encoders.clone();
        stream.connect_new_rtp_encoder(move |_, enc| {
            encoders.lock().unwrap().insert(key.clone(), enc.clone());
        });
    }
}

/// A SETUP's `KeyMgmt` key, read as a device does: the suite from the policy, the key and
/// salt from the first Key Data (a TEK of key and salt, or TEK+SALT), the MKI from its
/// SPI. Only what the camera needs: a message it cannot read is ignored (the SDP's key
/// stays in use, as a device that does not take client keys would do).
#[derive(Debug, PartialEq, Eq)]
struct ClientKey {
    cipher: &'static str,
    auth: &'static str,
    key_and_salt: Vec<u8>,
    mki: Option<Vec<u8>>,
}

/// A byte reader over a MIKEY message that says `None` past its end.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
}

fn client_key(message: &[u8]) -> Option<ClientKey> {
    let mut m = Bytes(message);
    // Common header: version, data type, next payload, V/PRF, CSB id, #CS, map type.
    let head = m.take(10)?;
    let mut next = head[2];
    m.take(9 * usize::from(head[8]))?;
    let (mut enc, mut key_len) = (1u8, 16u8);
    while next != 0 {
        let kind = next;
        next = m.u8()?;
        match kind {
            // T: NTP-UTC and NTP are 8 bytes, a counter 4.
            5 => {
                let n = if m.u8()? == 2 { 4 } else { 8 };
                m.take(n)?;
            }
            // RAND.
            11 => {
                let n = usize::from(m.u8()?);
                m.take(n)?;
            }
            // SP: policy, protocol, parameters.
            10 => {
                m.take(2)?;
                let n = m.u16()?;
                let mut params = Bytes(m.take(n)?);
                while let Some(t) = params.u8() {
                    let len = usize::from(params.u8()?);
                    let v = params.take(len)?.first().copied().unwrap_or(0);
                    match t {
                        0 => enc = v,
                        1 => key_len = v,
                        _ => {}
                    }
                }
            }
            // KEMAC: NULL encryption, its Key Data, NULL MAC.
            1 => {
                m.u8()?;
                let n = m.u16()?;
                let mut kd = Bytes(m.take(n)?);
                kd.u8()?;
                let type_kv = kd.u8()?;
                let len = kd.u16()?;
                let mut key_and_salt = kd.take(len)?.to_vec();
                if matches!(type_kv >> 4, 1 | 3) {
                    let salt_len = kd.u16()?;
                    key_and_salt.extend_from_slice(kd.take(salt_len)?);
                }
                let mki = if type_kv & 0x0F == 1 {
                    let n = usize::from(kd.u8()?);
                    Some(kd.take(n)?.to_vec())
                } else {
                    None
                };
                // The MAC algorithm closes the payload.
                m.u8()?;
                let (cipher, auth) = match (enc, key_len) {
                    (6, 32) => ("aes-256-gcm", "null"),
                    (6, _) => ("aes-128-gcm", "null"),
                    _ => ("aes-128-icm", "hmac-sha1-80"),
                };
                return Some(ClientKey {
                    cipher,
                    auth,
                    key_and_salt,
                    mki,
                });
            }
            _ => return None,
        }
    }
    None
}

/// The `data` of a `KeyMgmt` header (`prot=mikey;uri="...";data="..."`), decoded.
fn key_mgmt_data(header: &str) -> Option<Vec<u8>> {
    let data = header
        .split(';')
        .find_map(|p| p.trim().strip_prefix("data="))?
        .trim_matches('"');
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}

/// The `KeyMgmt` header of a request.
fn key_mgmt_header(request: &gst_rtsp::rtsp_message::RTSPMessage) -> Option<String> {
    use glib::translate::ToGlibPtr;
    let mut value: *mut std::ffi::c_char = std::ptr::null_mut();
    let msg: *const gst_rtsp::ffi::GstRTSPMessage = request.to_glib_none().0;
    // SAFETY: `msg` is a valid message for the call; the value it sets points into the
    // message (not ours to free) and is copied before the message can go.
    let found = unsafe {
        gst_rtsp::ffi::gst_rtsp_message_get_header(
            msg,
            gst_rtsp::ffi::GST_RTSP_HDR_KEYMGMT,
            &mut value,
            0,
        )
    };
    if found != gst_rtsp::ffi::GST_RTSP_OK || value.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string the message owns, checked non-null above.
    let text = unsafe { std::ffi::CStr::from_ptr(value) };
    Some(text.to_string_lossy().into_owned())
}

/// How the camera answers a re-keying `SET_PARAMETER` (`--srtp-rekey`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Rekey {
    /// gst-rtsp-server's own answer to a body: 451 Parameter Not Understood.
    #[default]
    Refuse,
    /// Either spelling (`mikey:`, ONVIF 26.06; `KeyMgmt:`, GStreamer and Axis).
    Accept,
    /// Only `KeyMgmt:`; `mikey:` gets 451.
    KeyMgmtOnly,
}

impl Rekey {
    pub fn parse(name: &str) -> Option<Rekey> {
        match name {
            "refuse" => Some(Rekey::Refuse),
            "accept" => Some(Rekey::Accept),
            "keymgmt" => Some(Rekey::KeyMgmtOnly),
            _ => None,
        }
    }
}

/// Whether a re-keying body came as `KeyMgmt:` (else `mikey:`), and its MIKEY message
/// (`None`: not base64).
fn rekey_body(body: &str) -> Option<(bool, Option<Vec<u8>>)> {
    use base64::Engine;
    body.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "mikey" => Some((
                false,
                base64::engine::general_purpose::STANDARD
                    .decode(value.trim())
                    .ok(),
            )),
            "keymgmt" => Some((true, key_mgmt_data(value))),
            _ => None,
        }
    })
}

/// The body of a request, as text.
fn body_of(request: &gst_rtsp::rtsp_message::RTSPMessage) -> String {
    use glib::translate::ToGlibPtr;
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: u32 = 0;
    let msg: *const gst_rtsp::ffi::GstRTSPMessage = request.to_glib_none().0;
    // SAFETY: `msg` is valid for the call; the data it sets points into the message (not
    // ours to free) and is copied before the message can go.
    let ok = unsafe { gst_rtsp::ffi::gst_rtsp_message_get_body(msg, &mut data, &mut size) };
    if ok != gst_rtsp::ffi::GST_RTSP_OK || data.is_null() {
        return String::new();
    }
    // SAFETY: `size` bytes at `data`, checked non-null above.
    let bytes = unsafe { std::slice::from_raw_parts(data, size as usize) };
    String::from_utf8_lossy(bytes).into_owned()
}

/// A re-keying `SET_PARAMETER` as `shape` says: the stream's `srtpenc` takes the new
/// key and MKI (its cipher stays), and the answer is 200; or 451 for a spelling not
/// taken (and where the camera encrypts with its own keys: the client's key is only for
/// what the client sends, which this camera does not re-key), 463 for a MIKEY it cannot
/// read. `None`: not a re-keying, gst-rtsp-server answers.
fn params_set(
    ctx: &gst_rtsp_server::RTSPContext,
    shape: &ClientShape,
) -> Option<gst_rtsp::RTSPStatusCode> {
    let request = ctx.request()?;
    let (keymgmt, message) = rekey_body(&body_of(request))?;
    let mode = shape.rekey;
    if mode == Rekey::Refuse || (mode == Rekey::KeyMgmtOnly && !keymgmt) || !shape.client_keys {
        return Some(gst_rtsp::RTSPStatusCode::ParameterNotUnderstood);
    }
    let Some(key) = message.and_then(|m| client_key(&m)) else {
        return Some(gst_rtsp::RTSPStatusCode::KeyManagementFailure);
    };
    let path = ctx
        .uri()
        .and_then(|u| url::Url::parse(&u.request_uri()).ok())
        .map(|u| u.path().to_string())?;
    let Some(enc) = shape.encoders.lock().unwrap().get(&path).cloned() else {
        return Some(gst_rtsp::RTSPStatusCode::KeyManagementFailure);
    };
    // The MKI and the key are two properties: set apart while packets flow, a packet
    // between them would go with the new MKI under the old key. Both are set in the
    // streaming thread, before its next packet (a device switches at once).
    let Some(pad) = enc
        .sink_pads()
        .into_iter()
        .find(|p| p.name().starts_with("rtp_sink"))
    else {
        return Some(gst_rtsp::RTSPStatusCode::KeyManagementFailure);
    };
    let weak = enc.downgrade();
    let key = Mutex::new(Some(key));
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
        move |_, _| {
            if let (Some(enc), Some(key)) = (weak.upgrade(), key.lock().unwrap().take()) {
                enc.set_property("mki", key.mki.map(gst::Buffer::from_mut_slice));
                enc.set_property("key", gst::Buffer::from_mut_slice(key.key_and_salt));
            }
            gst::PadProbeReturn::Remove
        },
    );
    eprintln!("virtual camera: {path} re-keyed");
    Some(gst_rtsp::RTSPStatusCode::Ok)
}

/// On a SETUP carrying `KeyMgmt`: its stream's `srtpenc` encrypts with that key (and MKI)
/// from now on.
pub fn use_client_key(ctx: &gst_rtsp_server::RTSPContext, encoders: &Encoders) {
    let (Some(request), Some(uri)) = (ctx.request(), ctx.uri()) else {
        return;
    };
    let Some(key) = key_mgmt_header(request)
        .and_then(|h| key_mgmt_data(&h))
        .and_then(|m| client_key(&m))
    else {
        return;
    };
    let Some(path) = url::Url::parse(&uri.request_uri())
        .ok()
        .map(|u| u.path().to_string())
    else {
        return;
    };
    let Some(enc) = encoders.lock().unwrap().get(&path).cloned() else {
        return;
    };
    enc.set_property("random-key", false);
    enc.set_property_from_str("rtp-cipher", key.cipher);
    enc.set_property_from_str("rtcp-cipher", key.cipher);
    enc.set_property_from_str("rtp-auth", key.auth);
    enc.set_property_from_str(
        "rtcp-auth",
        if key.auth == "null" {
            "null"
        } else {
            "hmac-sha1-80"
        },
    );
    enc.set_property("mki", key.mki.map(gst::Buffer::from_mut_slice));
    enc.set_property("key", gst::Buffer::from_mut_slice(key.key_and_salt));
}

/// Each stream of `media` encrypts with `suite` (ONVIF's name) under a fresh key of its
/// length, which gst-rtsp-server then writes into the SDP (its own `srtpenc` would use
/// AES-CM with a random key).
pub fn use_suite(media: &gst_rtsp_server::RTSPMedia, suite: &'static str) {
    let (cipher, auth, len) = match suite {
        "AEAD_AES_128_GCM" => ("aes-128-gcm", "null", 28),
        "AEAD_AES_256_GCM" => ("aes-256-gcm", "null", 44),
        _ => ("aes-128-icm", "hmac-sha1-80", 30),
    };
    for i in 0..media.n_streams() {
        let Some(stream) = media.stream(i) else {
            continue;
        };
        stream.connect_new_rtp_encoder(move |_, enc| {
            let mut key = vec![0u8; len];
            let _ = getrandom::fill(&mut key);
            enc.set_property("random-key", false);
            enc.set_property("key", gst::Buffer::from_mut_slice(key));
            for p in ["rtp-cipher", "rtcp-cipher"] {
                enc.set_property_from_str(p, cipher);
            }
            enc.set_property_from_str("rtp-auth", auth);
            enc.set_property_from_str("rtcp-auth", auth);
        });
    }
}

/// The SDP's `a=key-mgmt:mikey` value of a device key (mode A) for AES_CM_128_HMAC_SHA1_80
/// without an MKI, shaped as gst-rtsp-server writes it: pre-shared key init, one crypto
/// session (`ssrc`, ROC 0), an NTP timestamp, 16 random bytes, GStreamer's policy
/// parameters and a NULL-encrypted KEMAC with one TEK of key and salt.
pub fn device_key_mgmt(key_and_salt: &[u8; 30], ssrc: u32) -> String {
    let mut m = vec![1, 0, 5, 0];
    m.extend_from_slice(&ssrc.rotate_left(7).to_be_bytes());
    m.extend_from_slice(&[1, 0, 0]);
    m.extend_from_slice(&ssrc.to_be_bytes());
    m.extend_from_slice(&0u32.to_be_bytes());
    // T (NTP-UTC, any time: clients do not check it), then RAND.
    m.extend_from_slice(&[11, 0]);
    m.extend_from_slice(&0xE9A0_0000_0000_0000u64.to_be_bytes());
    m.extend_from_slice(&[10, 16]);
    let mut rand = [0u8; 16];
    let _ = getrandom::fill(&mut rand);
    m.extend_from_slice(&rand);
    // SP: policy 0, SRTP; AES-CM, 16-byte key, HMAC-SHA1, the tag length 10 (as
    // GStreamer writes parameter 3), SRTP and SRTCP encryption and SRTP authentication on.
    let params = [
        0, 1, 1, 1, 1, 16, 2, 1, 1, 3, 1, 10, 7, 1, 1, 8, 1, 1, 10, 1, 1,
    ];
    m.extend_from_slice(&[1, 0, 0, 0, params.len() as u8]);
    m.extend_from_slice(&params);
    // KEMAC: NULL encryption, one Key Data (TEK, no KV) of 30 bytes, NULL MAC.
    m.extend_from_slice(&[0, 0, 0, 34, 0, 0x20, 0, 30]);
    m.extend_from_slice(key_and_salt);
    m.push(0);
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(m)
}

/// Damages the SRTP authentication tag (its last byte) of every packet of the media's
/// audio stream (`pay1`) as its `srtpenc` sends it.
pub fn damage_audio_tags(media: &gst_rtsp_server::RTSPMedia) {
    fn damage(pad: &gst::Pad) {
        if !pad.name().starts_with("rtp_src") {
            return;
        }
        pad.add_probe(gst::PadProbeType::BUFFER, |_, info| {
            if let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_mut() {
                let buffer = buffer.make_mut();
                if let Ok(mut map) = buffer.map_writable()
                    && let Some(last) = map.last_mut()
                {
                    *last ^= 0x5A;
                }
            }
            gst::PadProbeReturn::Ok
        });
    }
    let Some(stream) = media.stream(1) else {
        return;
    };
    // The RTP pads may be there already when the encoder is announced.
    stream.connect_new_rtp_encoder(|_, encoder| {
        encoder.src_pads().iter().for_each(damage);
        encoder.connect_pad_added(|_, pad| damage(pad));
    });
}

/// What the camera's SRTP clients do beyond gst-rtsp-server's ONVIF clients.
#[derive(Debug, Clone, Default)]
pub struct ClientShape {
    /// SDPs without `a=key-mgmt` (an Axis-shaped device: the client provides every key).
    pub no_sdp_keys: bool,
    /// How a re-keying `SET_PARAMETER` is answered.
    pub rekey: Rekey,
    /// The camera encrypts with the client's `KeyMgmt` keys (only then are they
    /// re-keyed).
    pub client_keys: bool,
    /// Each stream's `srtpenc`, for re-keying.
    pub encoders: Encoders,
}

/// An ONVIF RTSP server whose clients have `shape`.
pub fn server_with(shape: ClientShape) -> gst_rtsp_server::RTSPServer {
    use glib::subclass::prelude::ObjectSubclassIsExt;
    let server = glib::Object::new::<SrtpServer>();
    let _ = server.imp().shape.set(shape);
    server.upcast()
}

mod imp {
    use super::*;
    use gst_rtsp_server::subclass::prelude::*;

    #[derive(Default)]
    pub struct SrtpServer {
        pub shape: std::sync::OnceLock<ClientShape>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SrtpServer {
        const NAME: &'static str = "OnvifVirtualCameraSrtpServer";
        type Type = super::SrtpServer;
        type ParentType = gst_rtsp_server::RTSPOnvifServer;
    }

    impl ObjectImpl for SrtpServer {}

    impl RTSPServerImpl for SrtpServer {
        /// What gst-rtsp-server's server does for its clients, with our client type.
        fn create_client(&self) -> Option<gst_rtsp_server::RTSPClient> {
            let server = self.obj();
            let ours = glib::Object::new::<super::SrtpClient>();
            let _ = ours
                .imp()
                .shape
                .set(self.shape.get().cloned().unwrap_or_default());
            let client: gst_rtsp_server::RTSPClient = ours.upcast();
            client.set_session_pool(server.session_pool().as_ref());
            client.set_mount_points(server.mount_points().as_ref());
            client.set_auth(server.auth().as_ref());
            client.set_thread_pool(server.thread_pool().as_ref());
            client.set_content_length_limit(server.content_length_limit());
            Some(client)
        }
    }

    impl RTSPOnvifServerImpl for SrtpServer {}

    #[derive(Default)]
    pub struct SrtpClient {
        pub shape: std::sync::OnceLock<ClientShape>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SrtpClient {
        const NAME: &'static str = "OnvifVirtualCameraSrtpClient";
        type Type = super::SrtpClient;
        type ParentType = gst_rtsp_server::RTSPOnvifClient;
    }

    impl ObjectImpl for SrtpClient {}

    impl RTSPClientImpl for SrtpClient {
        fn create_sdp(
            &self,
            media: &gst_rtsp_server::RTSPMedia,
        ) -> Option<gst_rtsp_server::gst_sdp::SDPMessage> {
            let mut sdp = self.parent_create_sdp(media)?;
            if !self.shape.get().is_some_and(|s| s.no_sdp_keys) {
                return Some(sdp);
            }
            for m in 0..sdp.medias_len() {
                let Some(media) = sdp.media_mut(m) else {
                    continue;
                };
                while let Some(i) = (0..media.attributes_len())
                    .find(|&i| media.attribute(i).is_some_and(|a| a.key() == "key-mgmt"))
                {
                    if media.remove_attribute(i).is_err() {
                        break;
                    }
                }
            }
            Some(sdp)
        }

        fn params_set(&self, ctx: &gst_rtsp_server::RTSPContext) -> gst_rtsp::RTSPResult {
            let Some(shape) = self.shape.get() else {
                return self.parent_params_set(ctx);
            };
            match (params_set(ctx, shape), ctx.response()) {
                (Some(code), Some(response)) => {
                    response.init_response(code, ctx.request());
                    gst_rtsp::RTSPResult::Ok
                }
                _ => self.parent_params_set(ctx),
            }
        }
    }

    impl RTSPOnvifClientImpl for SrtpClient {}
}

glib::wrapper! {
    /// [`server_with`]'s server.
    pub struct SrtpServer(ObjectSubclass<imp::SrtpServer>)
        @extends gst_rtsp_server::RTSPOnvifServer, gst_rtsp_server::RTSPServer;
}

glib::wrapper! {
    /// Its clients: gst-rtsp-server's ONVIF client, the SDP's keys taken out, re-keying
    /// answered, per their [`ClientShape`].
    pub struct SrtpClient(ObjectSubclass<imp::SrtpClient>)
        @extends gst_rtsp_server::RTSPOnvifClient, gst_rtsp_server::RTSPClient;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ONVIF 26.06's SETUP example (the Genetec flavour) and a GStreamer-written message
    /// read as the device needs them.
    #[test]
    fn test_client_keys_are_read() {
        let onvif = key_mgmt_data(
            "prot=mikey;uri=\"\";data=\"AQAFAP1td9ABAADCD1UcAAAAAAoAAdOOGc75XD0BAAAAGAABAQEBEAIBAQMBFAcBAQgBAQoBAQsBCgAAACcAIQAe30C59UrClE0e27UP5h/Wty9UL8+dfzg+2ttmmo3kBAAAAC8A\"",
        )
        .unwrap();
        let k = client_key(&onvif).unwrap();
        assert_eq!((k.cipher, k.auth), ("aes-128-icm", "hmac-sha1-80"));
        assert_eq!(k.key_and_salt.len(), 30);
        assert_eq!(k.mki, Some(vec![0, 0, 0, 0x2f]));
        let gst = key_mgmt_data("prot=mikey;data=\"AQAFABPGq/wBAACN19ggAAAAAAsA7r4aNQDrNW0KEBfA7z2oSHoVauI5caw9VJEBAAAAFQABAQEBEAIBAQMBCgcBAQgBAQoBAQAAACIAIAAesiwOw1cFIHnp8zMoII6LFtn9vYnn3/X0+ydEDNR2AA==\"").unwrap();
        let k = client_key(&gst).unwrap();
        assert_eq!(k.key_and_salt.len(), 30);
        assert_eq!(k.mki, None);
        // The camera's own device key reads back.
        let key: [u8; 30] = std::array::from_fn(|i| i as u8);
        let own = key_mgmt_data(&format!("data=\"{}\"", device_key_mgmt(&key, 7))).unwrap();
        let k = client_key(&own).unwrap();
        assert_eq!((k.key_and_salt, k.mki), (key.to_vec(), None));
        // Cut anywhere: nothing, never a panic.
        for n in 0..onvif.len() {
            assert_eq!(client_key(&onvif[..n]), None, "{n}");
        }
    }
}
