# onvifhttps: the two commands are `make demo` and `make test` (see README.md).

CARGO ?= cargo
TARGET_DIR ?= $(CURDIR)/target
PLUGIN_DIR := $(TARGET_DIR)/debug
export CARGO_TARGET_DIR := $(TARGET_DIR)

# Debian 12 packages the build, the tests and the demo need.
DEB_PACKAGES := pkg-config gcc libc6-dev ca-certificates python3 \
	libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev \
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad gstreamer1.0-libav gstreamer1.0-x gstreamer1.0-rtsp \
	gstreamer1.0-plugins-ugly gstreamer1.0-plugins-base-apps fonts-dejavu-core ffmpeg libxml2-utils \
	meson ninja-build python3-gi gir1.2-gstreamer-1.0 glib-networking

.PHONY: all deps build demo test lint check-rust inspect bench soak fuzz audit install examples-check clean

all: build

# Installs the missing Debian packages (with sudo when not root); quiet when all are there.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "Installing missing packages:" $$missing; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

check-rust:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust 1.92 or newer with rustup (https://rustup.rs)"; exit 1; }

build: deps check-rust
	$(CARGO) build --workspace --locked

# Starts the virtual camera and records 10 s of encrypted video and audio to out/demo/recording.mp4.
demo: build
	@PLUGIN_DIR=$(PLUGIN_DIR) CAMERA=$(TARGET_DIR)/debug/onvif-virtual-camera scripts/demo.sh

lint: deps check-rust
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# The whole test suite: formatting, clippy, unit and integration tests, schema checks,
# and gst-inspect against the built plugin.
test: lint
	$(CARGO) build --workspace --locked
	ONVIF_SCHEMA_REQUIRED=1 ONVIFHTTPS_REQUIRE_TOOLS=1 $(CARGO) test --workspace --locked
	$(MAKE) --no-print-directory inspect
	scripts/install-check.sh
	scripts/examples-check.sh

# Installs the plugin into $(PREFIX)/lib/.../gstreamer-1.0 with meson (optimised build).
PREFIX ?= /usr/local
install: deps check-rust
	meson setup $(TARGET_DIR)/meson-release --prefix=$(PREFIX) --buildtype=release --reconfigure 2>/dev/null \
		|| meson setup $(TARGET_DIR)/meson-release --prefix=$(PREFIX) --buildtype=release
	ONVIFHTTPS_TARGET_DIR=$(TARGET_DIR) meson compile -C $(TARGET_DIR)/meson-release
	meson install -C $(TARGET_DIR)/meson-release

# onvifhttpssrc against rtspsrc on the virtual camera's benchmark stream (optimised build;
# BENCH_ARGS, e.g. "--rounds 5 --seconds 10", tune it). Prints a Markdown table.
BENCH_ARGS ?=
bench: deps check-rust
	$(CARGO) build --release --locked -p onvif-virtual-camera --bin onvif-virtual-camera
	$(CARGO) build --release --locked --example bench
	$(TARGET_DIR)/release/examples/bench $(BENCH_ARGS)

# The element against the virtual camera with faults at random intervals (default 10
# minutes; SOAK_ARGS="--minutes 240 --fault-every 60 --streams 16" runs for hours).
SOAK_ARGS ?=
soak: deps check-rust
	$(CARGO) build --locked -p onvif-virtual-camera --bin onvif-virtual-camera
	$(CARGO) build --locked --example soak
	$(TARGET_DIR)/debug/examples/soak $(SOAK_ARGS)

# Every fuzz target for FUZZ_SECONDS (default 600) each; FUZZ_JOBS in parallel (default 1).
fuzz: deps check-rust
	scripts/fuzz.sh

# Checks Cargo.lock (and fuzz/Cargo.lock) against the RustSec advisory database with
# cargo-audit (installed from crates.io when missing). The database is fetched from GitHub,
# which this project's build machines cannot reach, so make test does not run it.
audit: check-rust
	@command -v cargo-audit >/dev/null || $(CARGO) install --locked cargo-audit
	$(CARGO) audit
	cd fuzz && $(CARGO) audit

# The C and Python examples against the virtual camera (also part of make test).
examples-check: build
	scripts/examples-check.sh

inspect:
	@GST_PLUGIN_PATH=$(PLUGIN_DIR) gst-inspect-1.0 onvifhttpssrc > $(TARGET_DIR)/inspect.txt
	@grep -q 'tls-certificate-sha256' $(TARGET_DIR)/inspect.txt
	@echo "gst-inspect-1.0 onvifhttpssrc: $$(grep -c '^  [a-z]' $(TARGET_DIR)/inspect.txt) documented lines, plugin OK"

clean:
	$(CARGO) clean
	rm -rf out
