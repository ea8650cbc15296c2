// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `onvifdeviceprovider` (issue 26 point 3) against the virtual camera's WS-Discovery
//! target, by unicast Probes to 127.0.0.1 (a test never probes another network): the
//! camera is listed with what its ProbeMatch says, and the element the device creates
//! plays it once given credentials, which discovery never carries.

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;

#[test]
fn test_the_provider_lists_the_camera_and_its_element_plays() {
    init();
    let (cam, ca) = camera(Config::default());
    let provider = gst::DeviceProviderFactory::by_name("onvifdeviceprovider").expect("registered");
    assert_eq!(provider.metadata("klass"), Some("Source/Network"));
    // Nothing answers: an empty list within the probe's bound, not a hang. (One provider
    // per process: GStreamer keeps it, so both cases are in this one test.)
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    provider.set_property(
        "targets",
        format!("127.0.0.1:{}", silent.local_addr().unwrap().port()),
    );
    let began = std::time::Instant::now();
    assert_eq!(provider.devices().len(), 0);
    assert!(began.elapsed() < Duration::from_secs(5));

    provider.set_property("targets", format!("127.0.0.1:{}", cam.discovery_port()));
    // Not started: probe() runs a bounded discovery.
    let began = std::time::Instant::now();
    let devices: Vec<gst::Device> = provider.devices().into_iter().collect();
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(devices.len(), 1);
    let d = &devices[0];
    assert_eq!(d.display_name(), "Virtual Camera");
    assert_eq!(d.device_class(), "Source/Network");
    let props = d.properties().expect("properties");
    let https = format!(
        "https://127.0.0.1:{}/onvif/device_service",
        cam.https_port()
    );
    assert_eq!(props.get::<&str>("onvif.location").unwrap(), https);
    assert_eq!(props.get::<&str>("onvif.hardware").unwrap(), "virtual");
    assert_eq!(props.get::<&str>("onvif.profiles").unwrap(), "Streaming T");
    assert!(
        props
            .get::<&str>("onvif.endpoint")
            .unwrap()
            .starts_with("urn:uuid:")
    );
    // Three Probe shapes, sent twice: each answered, one device all the same.
    assert_eq!(cam.probes_answered(), 6);

    // Started (gst-device-monitor's way): the camera comes as DEVICE_ADDED on the
    // provider's bus, and goes when it stops.
    let bus = provider.bus();
    provider.start().expect("started");
    let added = next_device(&bus, gst::MessageType::DeviceAdded);
    assert_eq!(added.display_name(), "Virtual Camera");
    provider.stop();
    assert_eq!(provider.devices().len(), 1, "not started: a probe again");

    let src = d.create_element(Some("found")).expect("an element");
    assert_eq!(src.factory().unwrap().name(), "onvifhttpssrc");
    assert_eq!(
        src.property::<Option<String>>("location").as_deref(),
        Some(https.as_str())
    );
    assert_eq!(
        src.property::<Option<String>>("user-id"),
        None,
        "no credentials"
    );
    src.set_property("user-id", "admin");
    src.set_property("user-pw", "password");
    src.set_property("tls-ca-file", ca.as_str());
    let pipeline = gst::Pipeline::new();
    let sink = gst_app::AppSink::builder().sync(false).build();
    pipeline.add_many([&src, sink.upcast_ref()]).unwrap();
    let sink_pad = sink.static_pad("sink").unwrap();
    src.connect_pad_added(move |_, pad| {
        let _ = pad.link(&sink_pad);
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    assert_eq!(pull(&sink, 5, Duration::from_secs(20)), 5);
    null_within_a_second(&pipeline);
}

/// The device message of `kind` the provider's bus carries next, within 10 s.
fn next_device(bus: &gst::Bus, kind: gst::MessageType) -> gst::Device {
    next_device_within(bus, kind, 10)
}

/// The device message of `kind` the provider's bus carries next, within `secs` s.
fn next_device_within(bus: &gst::Bus, kind: gst::MessageType, secs: u64) -> gst::Device {
    let msg = bus
        .timed_pop_filtered(gst::ClockTime::from_seconds(secs), &[kind])
        .unwrap_or_else(|| panic!("no {kind:?} within {secs} s"));
    match msg.view() {
        gst::MessageView::DeviceAdded(m) => m.device(),
        gst::MessageView::DeviceRemoved(m) => m.device(),
        _ => unreachable!(),
    }
}

/// Asserts that `d` is the camera whose HTTPS port is `port`.
fn assert_at_port(d: &gst::Device, port: u16) {
    let at = location(d);
    assert!(at.contains(&format!(":{port}/")), "{at}, not port {port}");
}

/// Runs `program args`, asserting that it succeeds.
fn run(program: &str, args: &[&str]) {
    let status = std::process::Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(status.success(), "{program} {args:?}: {status}");
}

/// The commands that make a veth pair `a`-`b`, `{net}.1/24` on `a` and `{net}.2/24` on
/// `b`, both taking multicast and up.
fn veth_pair_script(a: &str, b: &str, net: &str) -> String {
    format!(
        "ip link add {a} type veth peer name {b} && ip addr add {net}.1/24 dev {a} && \
         ip addr add {net}.2/24 dev {b} && ip link set {a} multicast on && \
         ip link set {b} multicast on && ip link set {a} up && ip link set {b} up"
    )
}

/// Each line `out` prints, as it comes (read by a thread of its own, so that a wait for
/// one can be bounded).
fn lines_of(out: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    lines
}

/// The camera configuration of the tests with a veth pair: found and speaking on
/// 10.99.0.2 only.
fn on_v1() -> Config {
    Config {
        device: Device {
            multicast_discovery: true,
            multicast_interface: Some(std::net::Ipv4Addr::new(10, 99, 0, 2)),
            ..Device::default()
        },
        ..Config::default()
    }
}

fn location(d: &gst::Device) -> String {
    d.properties()
        .and_then(|p| p.get::<String>("onvif.location").ok())
        .unwrap_or_default()
}

/// On the WS-Discovery group, in a namespace of its own: the provider, started, lists a
/// camera that answers its multicast Probes before `start()` returns; a camera that starts
/// later is added by its Hello (it answered no Probe), and removed by its Bye. Then
/// `gst-device-monitor-1.0 Source/Network`, as a user runs it, lists the camera with the
/// `gst-launch-1.0` line that opens it.
#[test]
fn test_multicast_probe_hello_and_bye_in_a_namespace() {
    if !inside_own_namespace(
        "test_multicast_probe_hello_and_bye_in_a_namespace",
        MULTICAST_ON_LO,
    ) {
        return;
    }
    init();
    let multicast = || Config {
        device: Device {
            multicast_discovery: true,
            ..Device::default()
        },
        ..Config::default()
    };
    let (first, _ca) = camera(multicast());
    let first_location = format!(
        "https://127.0.0.1:{}/onvif/device_service",
        first.https_port()
    );
    let provider = gst::DeviceProviderFactory::by_name("onvifdeviceprovider").expect("registered");
    let bus = provider.bus();
    provider.start().expect("started");
    let listed: Vec<String> = provider.devices().iter().map(location).collect();
    assert_eq!(
        listed,
        std::slice::from_ref(&first_location),
        "listed once start() returns"
    );
    assert_eq!(
        location(&next_device(&bus, gst::MessageType::DeviceAdded)),
        first_location
    );
    // Both rounds of the three Probes answered: the provider's discovery is over, and
    // what comes now comes by Hello.
    assert!(first.wait_probes_answered(6, Duration::from_secs(10)));

    let (second, _ca2) = camera(multicast());
    let second_location = format!(
        "https://127.0.0.1:{}/onvif/device_service",
        second.https_port()
    );
    let added = next_device(&bus, gst::MessageType::DeviceAdded);
    assert_eq!(location(&added), second_location);
    assert_eq!(
        second.probes_answered(),
        0,
        "found by its Hello, not by a Probe"
    );
    assert_eq!(provider.devices().len(), 2);
    drop(second);
    let removed = next_device(&bus, gst::MessageType::DeviceRemoved);
    assert_eq!(removed, added, "its Bye removes it");
    assert_eq!(provider.devices().len(), 1);
    provider.stop();

    // gst-device-monitor-1.0, with the plugin this test binary was built with.
    let exe = std::env::current_exe().expect("the test binary");
    let plugin_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the target directory");
    if !plugin_dir.join("libgstonvifhttps.so").exists() {
        assert!(!tool_required(), "no libgstonvifhttps.so in {plugin_dir:?}");
        eprintln!("skipped gst-device-monitor-1.0: no libgstonvifhttps.so in {plugin_dir:?}");
        return;
    }
    let registry = TempFile::new("monitor-registry.bin", "");
    let out = std::process::Command::new("timeout")
        .args(["60", "gst-device-monitor-1.0", "Source/Network"])
        .env("GST_PLUGIN_PATH", plugin_dir)
        .env("GST_REGISTRY", registry.as_str())
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            assert!(!tool_required(), "gst-device-monitor-1.0: {e}");
            eprintln!("skipped gst-device-monitor-1.0: {e}");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}: {text}", out.status);
    assert!(text.contains("name  : Virtual Camera"), "{text}");
    assert!(text.contains("class : Source/Network"), "{text}");
    assert!(
        text.contains(&format!("onvifhttpssrc location={first_location}")),
        "{text}"
    );
    assert_eq!(
        text.matches("Device found:").count(),
        1,
        "the camera that said Bye is gone: {text}"
    );
}

/// A recorder with a second NIC for its cameras: in a namespace of its own, the group's
/// route is the loopback's, and the cameras are on another interface (a veth pair,
/// 10.99.0.1 and 10.99.0.2), joined and speaking there only (and, with IP_MULTICAST_ALL
/// off, hearing only what comes on it, as a camera on another host would). The provider probes out of
/// every interface and listens on every one: the first camera is found by Probe before
/// `start()` returns, the second by its Hello. (Before, Probes went out of the route's
/// interface only, and the group was joined there only: neither was found.)
#[test]
fn test_cameras_on_an_interface_other_than_the_routes() {
    let setup = format!(
        "{MULTICAST_ON_LO} && {}",
        veth_pair_script("v0", "v1", "10.99.0")
    );
    if !inside_own_namespace("test_cameras_on_an_interface_other_than_the_routes", &setup) {
        return;
    }
    init();
    let (first, _ca) = camera(on_v1());
    let provider = gst::DeviceProviderFactory::by_name("onvifdeviceprovider").expect("registered");
    let bus = provider.bus();
    provider.start().expect("started");
    let added = next_device(&bus, gst::MessageType::DeviceAdded);
    assert_at_port(&added, first.https_port());
    // Both rounds of the three Probes answered (each reaches it once, on v1): the
    // discovery is over, and what comes now comes by Hello.
    assert!(
        first.wait_probes_answered(6, Duration::from_secs(10)),
        "{} Probes answered",
        first.probes_answered()
    );
    let (second, _ca2) = camera(on_v1());
    let added = next_device(&bus, gst::MessageType::DeviceAdded);
    assert_at_port(&added, second.https_port());
    assert_eq!(second.probes_answered(), 0, "found by its Hello");
    provider.stop();
}

/// A recorder that starts before its camera network's NIC is up: in a namespace of its
/// own, the provider starts with the loopback alone; then a veth pair comes up (10.99.0.1
/// and 10.99.0.2) and a camera starts on 10.99.0.2, speaking there only. Within the
/// rescan (5 s) and one round of Probes, the provider has joined the group on the new
/// interface and probed out of it, and lists the camera. (Before, the interfaces were read
/// once at start: the camera was never listed.)
#[test]
fn test_an_interface_that_comes_up_after_start() {
    if !inside_own_namespace(
        "test_an_interface_that_comes_up_after_start",
        MULTICAST_ON_LO,
    ) {
        return;
    }
    init();
    let provider = gst::DeviceProviderFactory::by_name("onvifdeviceprovider").expect("registered");
    let bus = provider.bus();
    provider.start().expect("started");
    assert!(provider.devices().is_empty());
    run("sh", &["-c", &veth_pair_script("v0", "v1", "10.99.0")]);
    let (cam, _ca) = camera(on_v1());
    // The first rescan comes 5 s after the start's 3 s of Probes.
    let added = next_device_within(&bus, gst::MessageType::DeviceAdded, 20);
    assert_at_port(&added, cam.https_port());
    provider.stop();
}

/// A camera on "another host": the camera binary in a network namespace of its own, nested
/// in the test's, whose only NIC is `v1` (the far end of the test's veth pair, moved there)
/// with 10.99.0.2/24, its link up with `up`. It shares no kernel state with the provider:
/// the group it joins does not make the recorder's NIC take the group, as on a wire.
struct Remote {
    child: Option<std::process::Child>,
    pid: i32,
    https_port: u16,
    _ca: TempFile,
}

impl Remote {
    /// `None` (said why) where the camera binary was not built.
    fn start(up: bool) -> Option<Remote> {
        use std::io::Write;
        let exe = std::env::current_exe().expect("the test binary");
        let binary = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("the target directory")
            .join("onvif-virtual-camera");
        if !binary.exists() {
            assert!(!tool_required(), "no {binary:?}");
            eprintln!("skipped: no {binary:?} (cargo build --workspace)");
            return None;
        }
        let ca = TempFile::new("remote-ca.pem", "");
        let script = format!(
            "echo ready && read _ && ip link set lo up && ip addr add 10.99.0.2/24 dev v1 && \
             ip link set v1 multicast on{} && exec \"$0\" --ca-file {} --multicast-discovery \
             --multicast-interface 10.99.0.2",
            if up { " && ip link set v1 up" } else { "" },
            ca.as_str()
        );
        let mut child = std::process::Command::new("unshare")
            .args(["-n", "sh", "-c", &script])
            .arg(&binary)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("unshare -n");
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        // From here a panic stops the camera (Drop).
        let mut remote = Remote {
            pid: i32::try_from(child.id()).expect("a pid"),
            child: Some(child),
            https_port: 0,
            _ca: ca,
        };
        // Its lines, each waited for at most 30 s.
        let lines = lines_of(stdout.expect("stdout"));
        let next = || {
            lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("the camera said nothing: {e}"))
        };
        assert_eq!(next(), "ready", "the camera's namespace");
        run(
            "ip",
            &["link", "set", "v1", "netns", &remote.pid.to_string()],
        );
        writeln!(stdin.expect("stdin")).expect("go");
        let line = next();
        remote.https_port = line
            .split("\"https_port\":")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the camera did not start: {line:?}"));
        Some(remote)
    }

    /// `ip ARGS` inside the camera's namespace.
    fn ip(&self, args: &[&str]) {
        let pid = self.pid.to_string();
        run("nsenter", &[&["-t", &pid, "-n", "ip"], args].concat());
    }
}

impl Drop for Remote {
    /// SIGTERM (the camera says Bye and exits), then SIGKILL if it has not within 5 s.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: a signal to the child this test started and has not reaped.
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
        let (done, exited) = std::sync::mpsc::channel();
        let pid = self.pid;
        std::thread::spawn(move || {
            let _ = child.wait();
            let _ = done.send(());
        });
        if exited.recv_timeout(Duration::from_secs(5)).is_err() {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = exited.recv_timeout(Duration::from_secs(5));
        }
    }
}

/// The test namespace's end of a veth pair for a [`Remote`] camera: `v0`, 10.99.0.1/24, up
/// (made again when it was there: removing `v0` removes the pair).
fn veth_for_a_remote_camera() {
    run(
        "sh",
        &[
            "-c",
            "{ ip link del v0 2>/dev/null; true; } && \
             ip link add v0 type veth peer name v1 && ip addr add 10.99.0.1/24 dev v0 && \
             ip link set v0 multicast on && ip link set v0 up",
        ],
    );
}

/// The recorder's camera NIC has no link when it starts (the camera's cable is out; the
/// camera boots meanwhile, and its Hello is lost). When the link comes, within the rescan
/// the provider joins the group there and probes, and lists the camera. (Before, a NIC
/// that was up without a link was joined and probed at start, into the void, and never
/// again: the camera was never listed.)
#[test]
fn test_a_camera_nic_whose_link_comes_after_start() {
    if !inside_own_namespace(
        "test_a_camera_nic_whose_link_comes_after_start",
        MULTICAST_ON_LO,
    ) {
        return;
    }
    init();
    veth_for_a_remote_camera();
    let Some(cam) = Remote::start(false) else {
        return;
    };
    let provider = gst::DeviceProviderFactory::by_name("onvifdeviceprovider").expect("registered");
    let bus = provider.bus();
    provider.start().expect("started");
    assert!(provider.devices().is_empty());
    cam.ip(&["link", "set", "v1", "up"]);
    let added = next_device_within(&bus, gst::MessageType::DeviceAdded, 20);
    assert_at_port(&added, cam.https_port);
    provider.stop();
}

/// The recorder's camera NIC removed and made again with the same address (a USB adapter
/// plugged back): the kernel dropped the group with the old interface. Within the rescan
/// the provider joins it on the new one and probes, and lists the camera that started on
/// it. (Interfaces known by address alone took the new one for the old: never listed.)
#[test]
fn test_a_camera_nic_made_again_with_the_same_address() {
    if !inside_own_namespace(
        "test_a_camera_nic_made_again_with_the_same_address",
        MULTICAST_ON_LO,
    ) {
        return;
    }
    init();
    veth_for_a_remote_camera();
    let Some(first) = Remote::start(true) else {
        return;
    };
    let provider = gst::DeviceProviderFactory::by_name("onvifdeviceprovider").expect("registered");
    let bus = provider.bus();
    provider.start().expect("started");
    let added = next_device(&bus, gst::MessageType::DeviceAdded);
    assert_at_port(&added, first.https_port);
    drop(first);
    veth_for_a_remote_camera();
    let second = Remote::start(true).expect("started before");
    let added = next_device_within(&bus, gst::MessageType::DeviceAdded, 20);
    assert_at_port(&added, second.https_port);
    provider.stop();
}

/// Whether `/proc/net/igmp` lists the WS-Discovery group on interface `name` (the groups
/// of a device are the indented lines under it; 239.255.255.250 is `FAFFFFEF` there).
fn igmp_has_group(name: &str) -> bool {
    let table = std::fs::read_to_string("/proc/net/igmp").expect("/proc/net/igmp");
    let mut on = false;
    for line in table.lines().skip(1) {
        if !line.starts_with('\t') {
            on = line.split_whitespace().nth(1) == Some(name);
        } else if on && line.split_whitespace().next() == Some("FAFFFFEF") {
            return true;
        }
    }
    false
}

/// The listener's memberships are those of the interfaces of now: 25 veth pairs (50
/// interfaces) come, are joined, and go, one after another (bridges and adapters come and
/// go on a recorder); each one gone is left, so the group is still joined on the pair
/// that comes last. (Before, a gone interface kept its place in the socket's list, the
/// kernel's 20 were used up by the tenth pair, and the last was not joined.)
#[test]
fn test_interfaces_that_come_and_go_leave_the_group() {
    if !inside_own_namespace(
        "test_interfaces_that_come_and_go_leave_the_group",
        MULTICAST_ON_LO,
    ) {
        return;
    }
    use gstonvifhttps::testing::discovery;
    // The links' state as the kernel reports it (a veth end has its link a moment after
    // `ip link set up` returns): each line of `ip -o monitor link`, waited for at most 10 s.
    /// Killed at the end, a failed assertion's included (else it outlives the test).
    struct Monitor(std::process::Child);
    impl Drop for Monitor {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut monitor = Monitor(
        std::process::Command::new("ip")
            .args(["-o", "monitor", "link"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("ip monitor"),
    );
    let events = lines_of(monitor.0.stdout.take().expect("stdout"));
    let pair = |a: &str, b: &str, net: &str| {
        run("sh", &["-c", &veth_pair_script(a, b, net)]);
        let mut up: Vec<&str> = Vec::new();
        while up.len() < 2 {
            let line = events
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("{a} and {b} not up: {e}"));
            for end in [a, b] {
                if line.contains(&format!(": {end}@"))
                    && line.contains("state UP")
                    && !up.contains(&end)
                {
                    up.push(end);
                }
            }
        }
    };
    gstonvifhttps::testing::runtime::RUNTIME.block_on(async {
        let (socket, mut known) = discovery::listen().expect("the group joined");
        for n in 0..25 {
            let (a, b) = (format!("a{n}"), format!("b{n}"));
            pair(&a, &b, &format!("10.98.{n}"));
            let new = discovery::join_new(&socket, &mut known);
            assert_eq!(new.len(), 2, "pair {n}: {new:?}");
            assert!(igmp_has_group(&a), "pair {n}: the group on {a}");
            run("ip", &["link", "del", &a]);
            assert!(discovery::join_new(&socket, &mut known).is_empty());
        }
        pair("last", "last1", "10.98.99");
        assert_eq!(discovery::join_new(&socket, &mut known).len(), 2);
        assert!(
            igmp_has_group("last"),
            "the group on the last interface: {}",
            std::fs::read_to_string("/proc/net/igmp").unwrap_or_default()
        );
    });
    drop(monitor);
}
