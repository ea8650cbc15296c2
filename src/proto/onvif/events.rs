// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The ONVIF event service's pull point (ONVIF Core "Event handling"; WS-BaseNotification):
//! requests with their WS-Addressing headers, and the subscription and notification
//! answers. No I/O.

use super::ops::Request;
use super::soap::XmlWriter;
use super::xml::Element;
use crate::proto::clock;

pub const NS_TEV: &str = "http://www.onvif.org/ver10/events/wsdl";
pub const NS_WSNT: &str = "http://docs.oasis-open.org/wsn/b-2";
pub const NS_WSA: &str = "http://www.w3.org/2005/08/addressing";
pub const NS_TNS1: &str = "http://www.onvif.org/ver10/topics";
const NS_TT: &str = "http://www.onvif.org/ver10/schema";
const ANONYMOUS: &str = "http://www.w3.org/2005/08/addressing/anonymous";

fn req(operation: &'static str, action: &str, body: String) -> Request {
    Request {
        operation,
        action: action.to_string(),
        body,
    }
}

/// `tev:CreatePullPointSubscription` for every topic, living `termination` (an
/// `xs:duration` such as `PT60S`, or an absolute `xs:dateTime`).
pub fn create_pull_point_subscription(termination: &str) -> Request {
    let mut w = XmlWriter::new();
    w.start("tev:CreatePullPointSubscription", &[("xmlns:tev", NS_TEV)])
        .leaf("tev:InitialTerminationTime", termination)
        .end("tev:CreatePullPointSubscription");
    req(
        "CreatePullPointSubscription",
        "http://www.onvif.org/ver10/events/wsdl/EventPortType/CreatePullPointSubscriptionRequest",
        w.finish(),
    )
}

/// `tev:PullMessages`: wait up to `timeout_s` for at most `limit` messages.
pub fn pull_messages(timeout_s: u32, limit: u32) -> Request {
    let mut w = XmlWriter::new();
    w.start("tev:PullMessages", &[("xmlns:tev", NS_TEV)])
        .leaf("tev:Timeout", &format!("PT{timeout_s}S"))
        .leaf("tev:MessageLimit", &limit.to_string())
        .end("tev:PullMessages");
    req(
        "PullMessages",
        "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest",
        w.finish(),
    )
}

/// `wsnt:Renew` to `termination` (duration or absolute time).
pub fn renew(termination: &str) -> Request {
    let mut w = XmlWriter::new();
    w.start("wsnt:Renew", &[("xmlns:wsnt", NS_WSNT)])
        .leaf("wsnt:TerminationTime", termination)
        .end("wsnt:Renew");
    req(
        "Renew",
        "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest",
        w.finish(),
    )
}

/// `tev:SetSynchronizationPoint`: the device re-sends the state of every property.
pub fn set_synchronization_point() -> Request {
    let mut w = XmlWriter::new();
    w.empty("tev:SetSynchronizationPoint", &[("xmlns:tev", NS_TEV)]);
    req(
        "SetSynchronizationPoint",
        "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/SetSynchronizationPointRequest",
        w.finish(),
    )
}

/// `wsnt:Unsubscribe`.
pub fn unsubscribe() -> Request {
    let mut w = XmlWriter::new();
    w.empty("wsnt:Unsubscribe", &[("xmlns:wsnt", NS_WSNT)]);
    req(
        "Unsubscribe",
        "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest",
        w.finish(),
    )
}

/// The WS-Addressing header children for a request to `to` (ONVIF requires them on the
/// event service), echoing the subscription's reference parameters (WS-Addressing 1.0
/// SOAP binding §2.3, e.g. Axis' `SubscriptionId`).
pub fn wsa_header(
    action: &str,
    message_id: &str,
    to: &str,
    reference_parameters: &[Element],
) -> String {
    let mut w = XmlWriter::new();
    let ns = [("xmlns:wsa", NS_WSA)];
    w.start("wsa:Action", &ns).text(action).end("wsa:Action");
    w.start("wsa:MessageID", &ns)
        .text(message_id)
        .end("wsa:MessageID");
    w.start("wsa:ReplyTo", &ns)
        .leaf("wsa:Address", ANONYMOUS)
        .end("wsa:ReplyTo");
    w.start("wsa:To", &ns).text(to).end("wsa:To");
    for p in reference_parameters {
        let mut marked = p.clone();
        marked.attrs.push((
            std::sync::Arc::from(NS_WSA),
            "IsReferenceParameter".to_string(),
            "true".to_string(),
        ));
        marked.write(&mut w);
    }
    w.finish()
}

/// A pull-point subscription as the device described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `SubscriptionReference/wsa:Address` as sent.
    pub address: String,
    /// Children of `wsa:ReferenceParameters`, echoed in every request.
    pub reference_parameters: Vec<Element>,
    /// Device times, Unix seconds.
    pub current_time: Option<i64>,
    pub termination_time: Option<i64>,
}

/// `xs:dateTime` in UTC (`2025-03-14T09:41:07Z`, fractions and `+00:00` allowed) to Unix
/// seconds, through the one ISO 8601 parser ([`clock::parse_utc_millis`]). A time without
/// a zone, as some devices write them, is taken as UTC.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let zoned = s.ends_with(['Z', 'z']) || s.ends_with("+00:00");
    let ms = if zoned {
        clock::parse_utc_millis(s)
    } else {
        clock::parse_utc_millis(&format!("{s}Z"))
    };
    ms.map(|ms| ms.div_euclid(1000))
}

/// `xs:dateTime` of Unix seconds.
pub fn format_datetime(unix: i64) -> String {
    let s = clock::format_iso8601_millis(unix * 1000);
    // Whole seconds: some devices reject fractions in TerminationTime.
    format!("{}Z", &s[..19])
}

fn text_of(el: Option<&Element>) -> Option<&str> {
    el.map(|e| e.text())
}

/// Parses `CreatePullPointSubscriptionResponse`.
pub fn parse_subscription(el: &Element) -> Result<Subscription, String> {
    if !el.is(NS_TEV, "CreatePullPointSubscriptionResponse") {
        return Err(format!(
            "expected CreatePullPointSubscriptionResponse, got {}",
            el.name
        ));
    }
    let r = el
        .child(NS_TEV, "SubscriptionReference")
        .ok_or("no SubscriptionReference")?;
    let address = r
        .child(NS_WSA, "Address")
        .map(|a| a.text().to_string())
        .filter(|a| !a.is_empty())
        .ok_or("no SubscriptionReference/Address")?;
    let reference_parameters = r
        .child(NS_WSA, "ReferenceParameters")
        .map(|p| p.children.clone())
        .unwrap_or_default();
    Ok(Subscription {
        address,
        reference_parameters,
        current_time: text_of(el.child(NS_WSNT, "CurrentTime")).and_then(parse_datetime),
        termination_time: text_of(el.child(NS_WSNT, "TerminationTime")).and_then(parse_datetime),
    })
}

/// `(current, termination)` device times of a `RenewResponse` (wsnt) or a
/// `PullMessagesResponse` (tev).
pub fn parse_times(el: &Element) -> (Option<i64>, Option<i64>) {
    let ns = if &*el.ns == NS_TEV { NS_TEV } else { NS_WSNT };
    (
        text_of(el.child(ns, "CurrentTime")).and_then(parse_datetime),
        text_of(el.child(ns, "TerminationTime")).and_then(parse_datetime),
    )
}

/// One notification, as the element posts it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notification {
    /// The topic with ONVIF's topic namespace written as `tns1:` whatever prefix the
    /// device used; other namespaces keep the device's prefix.
    pub topic: String,
    pub utc_time: String,
    pub property_operation: String,
    pub source: Vec<(String, String)>,
    pub data: Vec<(String, String)>,
    /// SimpleItems left out past [`MAX_SIMPLE_ITEMS`] in `source` or `data`.
    pub items_dropped: usize,
}

/// SimpleItems kept in a notification's `Source`, and in its `Data`: real events carry a
/// handful. A device that sent 115,000 cost 3.5 s of a shared worker per answer and a
/// bus message with 115,000 fields.
pub const MAX_SIMPLE_ITEMS: usize = 32;

/// The first [`MAX_SIMPLE_ITEMS`] SimpleItems of `el`, and how many more it had.
fn simple_items(el: Option<&Element>) -> (Vec<(String, String)>, usize) {
    let Some(e) = el else {
        return (Vec::new(), 0);
    };
    let mut items = e.children_named(NS_TT, "SimpleItem");
    let kept = items
        .by_ref()
        .take(MAX_SIMPLE_ITEMS)
        .map(|i| {
            (
                i.attr("Name").unwrap_or_default().to_string(),
                i.attr("Value").unwrap_or_default().to_string(),
            )
        })
        .collect();
    (kept, items.count())
}

/// The first `max` notifications of a `wsnt:NotificationMessage` list
/// (PullMessagesResponse), and how many the answer held in all.
pub fn parse_notifications(el: &Element, max: usize) -> (Vec<Notification>, usize) {
    let total = el.children_named(NS_WSNT, "NotificationMessage").count();
    let first = el
        .children_named(NS_WSNT, "NotificationMessage")
        .take(max)
        .map(|n| {
            let topic_el = n.child(NS_WSNT, "Topic");
            let raw = topic_el.map(|t| t.text()).unwrap_or_default();
            let topic = match topic_el.and_then(|t| t.resolve_qname(raw)) {
                Some((ns, local)) if ns == NS_TNS1 => format!("tns1:{local}"),
                _ => raw.to_string(),
            };
            let msg = n.path(&[(NS_WSNT, "Message"), (NS_TT, "Message")]);
            let (source, source_dropped) = simple_items(msg.and_then(|m| m.child(NS_TT, "Source")));
            let (data, data_dropped) = simple_items(msg.and_then(|m| m.child(NS_TT, "Data")));
            Notification {
                topic,
                utc_time: msg
                    .and_then(|m| m.attr("UtcTime"))
                    .unwrap_or_default()
                    .to_string(),
                property_operation: msg
                    .and_then(|m| m.attr("PropertyOperation"))
                    .unwrap_or_default()
                    .to_string(),
                source,
                data,
                items_dropped: source_dropped.saturating_add(data_dropped),
            }
        })
        .collect();
    (first, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::onvif::xml;

    /// Issue 23 point 4: a notification with 115,000 SimpleItems.
    #[test]
    fn test_simple_items_are_capped() {
        let mut doc = String::from(
            "<tev:PullMessagesResponse xmlns:tev=\"http://www.onvif.org/ver10/events/wsdl\" \
             xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\" \
             xmlns:tt=\"http://www.onvif.org/ver10/schema\"><wsnt:NotificationMessage>\
             <wsnt:Message><tt:Message UtcTime=\"2026-12-05T00:00:00Z\"><tt:Source>\
             <tt:SimpleItem Name=\"InputToken\" Value=\"1\"/></tt:Source><tt:Data>",
        );
        for i in 0..115_000 {
            doc.push_str(&format!("<tt:SimpleItem Name=\"n{i}\" Value=\"v\"/>"));
        }
        doc.push_str("</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage></tev:PullMessagesResponse>");
        let el = xml::parse(doc.as_bytes()).expect("parsed");
        let (n, total) = parse_notifications(&el, 100);
        assert_eq!(total, 1);
        assert_eq!(n[0].source.len(), 1);
        assert_eq!(n[0].data.len(), MAX_SIMPLE_ITEMS);
        assert_eq!(n[0].data[0], ("n0".to_string(), "v".to_string()));
        assert_eq!(n[0].items_dropped, 115_000 - MAX_SIMPLE_ITEMS);
    }

    use crate::proto::onvif::shared_example as example;

    #[test]
    fn test_datetimes() {
        assert_eq!(parse_datetime("2025-03-14T09:41:07Z"), Some(1_741_945_267));
        assert_eq!(
            parse_datetime("2025-03-14T09:41:07.250Z"),
            Some(1_741_945_267)
        );
        assert_eq!(
            parse_datetime("2025-03-14T09:41:07+00:00"),
            Some(1_741_945_267)
        );
        assert_eq!(parse_datetime("yesterday"), None);
        // Without a zone: taken as UTC. Another zone is refused rather than misread.
        assert_eq!(parse_datetime("2025-03-14T09:41:07"), Some(1_741_945_267));
        assert_eq!(parse_datetime("2025-03-14T09:41:07+02:00"), None);
        assert_eq!(format_datetime(1_741_945_267), "2025-03-14T09:41:07Z");
    }

    #[test]
    fn test_shared_examples() {
        let Some(el) = example("events-CreatePullPointSubscription.resp.xml") else {
            return;
        };
        let s = parse_subscription(&el).unwrap();
        assert_eq!(s.address, "https://192.0.2.10/onvif/subscription?idx=7");
        assert_eq!(
            s.termination_time.zip(s.current_time).map(|(t, c)| t - c),
            Some(60)
        );
        let el = example("events-PullMessages.resp.xml").unwrap();
        let (n, total) = parse_notifications(&el, 100);
        assert_eq!((n.len(), total), (2, 2));
        assert_eq!(
            n[0],
            Notification {
                topic: "tns1:Device/Trigger/DigitalInput".into(),
                utc_time: "2025-03-14T09:41:11.250Z".into(),
                property_operation: "Changed".into(),
                source: vec![("InputToken".into(), "DigitalInput_1".into())],
                data: vec![("LogicalState".into(), "true".into())],
                items_dropped: 0,
            }
        );
        assert_eq!(
            parse_times(&el),
            (
                parse_datetime("2025-03-14T09:41:12Z"),
                parse_datetime("2025-03-14T09:42:12Z")
            )
        );
    }

    /// Devices pick any prefix for ONVIF's topic namespace; a vendor topic keeps its own.
    #[test]
    fn test_topic_prefix_resolved() {
        let doc = br#"<tev:PullMessagesResponse xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:ns0="http://www.onvif.org/ver10/topics" xmlns:tnsaxis="http://www.axis.com/2009/event/topics"><wsnt:NotificationMessage><wsnt:Topic>ns0:VideoSource/MotionAlarm</wsnt:Topic></wsnt:NotificationMessage><wsnt:NotificationMessage><wsnt:Topic>tnsaxis:Storage/Alert</wsnt:Topic></wsnt:NotificationMessage></tev:PullMessagesResponse>"#;
        let (n, _) = parse_notifications(&xml::parse(doc).unwrap(), 100);
        assert_eq!(n[0].topic, "tns1:VideoSource/MotionAlarm");
        assert_eq!(n[1].topic, "tnsaxis:Storage/Alert");
        let (first, total) = parse_notifications(&xml::parse(doc).unwrap(), 1);
        assert_eq!((first.len(), total), (1, 2));
    }

    #[test]
    fn test_reference_parameters_echoed() {
        let doc = br#"<tev:CreatePullPointSubscriptionResponse xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:wsa="http://www.w3.org/2005/08/addressing"><tev:SubscriptionReference><wsa:Address>http://10.0.0.5/onvif/services</wsa:Address><wsa:ReferenceParameters><dom0:SubscriptionId xmlns:dom0="http://www.axis.com/2009/event">3</dom0:SubscriptionId></wsa:ReferenceParameters></tev:SubscriptionReference></tev:CreatePullPointSubscriptionResponse>"#;
        let s = parse_subscription(&xml::parse(doc).unwrap()).unwrap();
        let h = wsa_header(
            "urn:a",
            "urn:uuid:1",
            "https://x/onvif/services",
            &s.reference_parameters,
        );
        let wrapped = format!("<h>{h}</h>");
        let el = xml::parse(wrapped.as_bytes()).unwrap();
        let id = el
            .child("http://www.axis.com/2009/event", "SubscriptionId")
            .expect("echoed");
        assert_eq!(id.text(), "3");
        assert!(
            id.attrs
                .contains(&(NS_WSA.into(), "IsReferenceParameter".into(), "true".into()))
        );
        assert_eq!(
            el.child(NS_WSA, "To").unwrap().text(),
            "https://x/onvif/services"
        );
    }
}
