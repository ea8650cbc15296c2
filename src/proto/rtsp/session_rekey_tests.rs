// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Re-keying in a playing session: a `SET_PARAMETER` per stream with the new key in its
//! body, the other spelling after a 451, the session playing on whatever the answer, and
//! no seek or second re-keying until every key is answered.

use super::*;

fn keys() -> Vec<(String, Vec<u8>)> {
    vec![
        ("rtsp://cam/rec/trackID=0".into(), vec![1, 2, 3]),
        ("rtsp://cam/rec/trackID=1".into(), vec![4, 5, 6]),
    ]
}

#[test]
fn test_each_stream_is_re_keyed_by_set_parameter() {
    let mut run = Run::new(None, (Some(true), false));
    run.play();
    assert!(run.s.takes_commands());
    run.s
        .command(Command::Rekey { keys: keys() }, run.now)
        .expect("taken while playing");
    let req = run.sent().expect("a SET_PARAMETER");
    assert!(
        req.starts_with("SET_PARAMETER rtsp://cam/rec/trackID=0 RTSP/1.0\r\n"),
        "{req}"
    );
    assert!(req.contains("\r\nSession: 42\r\n"), "{req}");
    assert!(
        req.contains("\r\nContent-Type: text/parameters\r\nContent-Length: 13\r\n"),
        "{req}"
    );
    assert!(req.ends_with("\r\n\r\nmikey: AQID\r\n"), "{req}");
    // Meanwhile the session plays on, and takes no seek or other re-keying.
    assert!(run.s.is_playing() && run.s.takes_packets());
    assert!(!run.s.takes_commands());
    assert!(
        run.s
            .command(Command::Rekey { keys: keys() }, run.now)
            .is_err()
    );
    assert!(
        run.s
            .command(Command::Seek { play: Vec::new() }, run.now)
            .is_err()
    );
    run.answer(
        &req,
        "RTSP/1.0 451 Parameter Not Understood\r\nCSeq: {cseq}\r\n\r\n",
    );
    let again = run.sent().expect("the other spelling");
    assert!(
        again.ends_with(
            "\r\n\r\nKeyMgmt: prot=mikey;uri=\"rtsp://cam/rec/trackID=0\";data=\"AQID\"\r\n"
        ),
        "{again}"
    );
    run.answer(
        &again,
        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 42\r\n\r\n",
    );
    let second = run.sent().expect("the second stream's");
    assert!(second.starts_with("SET_PARAMETER rtsp://cam/rec/trackID=1 "));
    run.answer(
        &second,
        "RTSP/1.0 463 Key Management Failure\r\nCSeq: {cseq}\r\n\r\n",
    );
    let rekeyed: Vec<Event> = run
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Rekeyed { .. }))
        .collect();
    assert_eq!(
        rekeyed,
        vec![
            Event::Rekeyed {
                index: 0,
                outcome: rekey::Outcome::Accepted(rekey::Spelling::KeyMgmt)
            },
            Event::Rekeyed {
                index: 1,
                outcome: rekey::Outcome::Refused {
                    status: 463,
                    reason: "Key Management Failure".into()
                }
            },
        ]
    );
    assert!(run.s.takes_commands(), "playing again");
    assert_eq!(run.sent(), None);
    // The keep-alive goes on as before.
    run.wait(Duration::from_secs(56));
    assert!(first_line(&run.sent().expect("a keep-alive")).starts_with("GET_PARAMETER "));
}

/// An unanswered `SET_PARAMETER` loses the session, as any unanswered request does.
#[test]
fn test_an_unanswered_re_key_loses_the_session() {
    let mut run = Run::new(None, (Some(true), false));
    run.play();
    run.s
        .command(Command::Rekey { keys: keys() }, run.now)
        .expect("taken");
    run.sent().expect("a SET_PARAMETER");
    run.wait(TIMEOUT);
    assert!(matches!(
        run.events().last(),
        Some(Event::Failed(Fault::Unanswered {
            method: "SET_PARAMETER",
            ..
        }))
    ));
}

/// While a keep-alive waits for its answer no re-keying starts: a server that leaves
/// CSeq out answers in order, and the keep-alive's 200 would be taken for the first
/// stream's.
#[test]
fn test_no_re_key_while_a_keep_alive_is_unanswered() {
    let mut run = Run::new(None, (Some(true), false));
    run.play();
    run.wait(Duration::from_secs(56));
    let keepalive = run.sent().expect("a keep-alive");
    assert!(!run.s.takes_commands());
    assert!(
        run.s
            .command(Command::Rekey { keys: keys() }, run.now)
            .is_err()
    );
    run.answer(&keepalive, "RTSP/1.0 200 OK\r\n\r\n");
    assert!(run.s.takes_commands());
    run.s
        .command(Command::Rekey { keys: keys() }, run.now)
        .expect("taken once answered");
    assert!(first_line(&run.sent().expect("a SET_PARAMETER")).starts_with("SET_PARAMETER "));
}
