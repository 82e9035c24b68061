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
  tcpreplay iproute2           # the drop test: replay into a veth pair in its own namespace
  clang llvm libclang-rt-14-dev  # libFuzzer harnesses and sanitizer runtimes
  time                         # GNU time: peak RSS of a program (bench, hostile tests)
  valgrind                     # memcheck over the golden tests (scripts/valgrind.sh)
  libspandsp-dev libbcg729-dev libopus-dev libgsm1-dev  # audio/: G.722, G.726, DTMF; G.729; Opus; GSM
  libsndfile1-dev              # store/callaudio.c: a call's audio as WAV (export --audio, audio.wav)
  libssl-dev                   # decode/tls.c: TLS record decryption from a key log (libcrypto)
  libsrtp2-dev                 # SRTP/SRTCP from SDES keys
  gnutls-bin tcpdump           # the TLS tests: real TLS client/server on loopback, captured
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
