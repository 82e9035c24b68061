#!/usr/bin/env bash
# Installs what sipscope needs to build and test on Debian 12, as root (or through sudo).
# Does nothing when every package is already there, so the other scripts call it freely.
set -euo pipefail

PKGS=(
  gcc libc6-dev pkg-config meson ninja-build python3
  libpcap-dev libndpi-dev libsqlite3-dev libjansson-dev libmicrohttpd-dev libcriterion-dev
  tshark                       # independent reference for the generated captures' truth
  openssl                      # a self-signed certificate for the HTTPS test
  chromium chromium-driver     # the UI's browser tests (headless, over WebDriver)
  sip-tester                   # sipp: real calls on loopback for the live capture test
  kamailio                     # a real proxy whose siptrace mirrors SIP as HEP (test_hep_kamailio)
  rtpengine-daemon             # a real media relay that reports RTCP as HEP (test_hep_quality)
  sipvicious                   # svmap, svwar, svcrack: a real attack tool against Kamailio (test_sipvicious)
  tcpreplay iproute2           # the drop test: replay into a veth pair in its own namespace
  clang llvm libclang-rt-14-dev  # libFuzzer harnesses and sanitizer runtimes
  time                         # GNU time: peak RSS of a program (bench, hostile tests)
  valgrind                     # memcheck over the golden tests (scripts/valgrind.sh)
  libspandsp-dev libbcg729-dev libopus-dev libgsm1-dev  # audio/: G.722, G.726, DTMF; G.729; Opus; GSM
  libncurses-dev               # tui/: the terminal UI (ncursesw)
  tmux                         # the terminal UI's tests drive it in a tmux pane
  libsndfile1-dev              # store/callaudio.c: a call's audio as WAV (export --audio, audio.wav)
  libpq-dev                    # store/pg.c: the PostgreSQL backend (--db postgresql://...)
  postgresql                   # a real PostgreSQL 15 server for the tests of that backend
  python3-jsonschema python3-yaml  # test_openapi: live answers validated against docs/openapi.yaml
  libcurl4-openssl-dev         # --alerts: the webhook's POST (cli/alert_hook.c)
  prometheus                   # packaging/prometheus: promtool check rules, a real scrape of /metrics
  libssl-dev                   # decode/tls.c: TLS record decryption from a key log (libcrypto)
  libsrtp2-dev                 # SRTP/SRTCP from SDES keys
  gnutls-bin tcpdump           # the TLS tests: real TLS client/server on loopback, captured
  baresip-core                 # two real UAs calling each other, plain and SDES SRTP (test_baresip)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root, or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter here
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Kamailio's package may start its own service on 5060 where a systemd runs: the tests start
# their own Kamailio on addresses of their own, and sipp needs 5060 free
if [[ " ${missing[*]} " == *" kamailio "* ]] && command -v systemctl >/dev/null; then
  $SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
fi
# the same for rtpengine's own service: the test starts its own, on loopback ports of its own
if [[ " ${missing[*]} " == *" rtpengine-daemon "* ]] && command -v systemctl >/dev/null; then
  $SUDO systemctl disable --now rtpengine-daemon >/dev/null 2>&1 || true
fi
# Prometheus's package starts its own server on :9090 where a systemd runs: the tests start
# their own on a loopback port with a temporary configuration
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
