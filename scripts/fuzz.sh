#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each for N seconds
# (default 60) from seeds the project's generator writes. A crash, leak or sanitizer
# report fails the run and leaves the input in build-fuzz/artifacts/.
#   scripts/fuzz.sh [SECONDS]        (FUZZ_ONLY=pcap: that harness alone)
#   FUZZ_TOTAL=400 scripts/fuzz.sh   (400 s shared by all harnesses, at least FUZZ_MIN (20) s
#                                     each: CI's time stays bounded as harnesses are added)
#   FUZZ_JOBS=N                      (harnesses run at once; default one per core)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1
scripts/install-deps.sh
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false \
    -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-fuzz >/dev/null
mkdir -p build-fuzz/artifacts
if [ -n "${FUZZ_TOTAL:-}" ]; then
  n=0
  for h in build-fuzz/tests/fuzz/fuzz_${FUZZ_ONLY:-*}; do
    if [ -f "$h" ] && [ -x "$h" ]; then n=$((n + 1)); fi
  done
  if [ "$n" -gt 0 ]; then secs=$(( FUZZ_TOTAL / n )); fi
  if [ "$secs" -lt "${FUZZ_MIN:-20}" ]; then secs=${FUZZ_MIN:-20}; fi
fi
pass=0 fail=0 names=()
jobs=${FUZZ_JOBS:-$(nproc)}
for h in build-fuzz/tests/fuzz/fuzz_${FUZZ_ONLY:-*}; do
  [ -f "$h" ] && [ -x "$h" ] || continue
  name=$(basename "$h")
  seeds=build-fuzz/seeds/$name corpus=build-fuzz/corpus/$name
  mkdir -p "$seeds" "$corpus"
  case $name in
    fuzz_decode) python3 tests/fuzz/make_seeds.py build-fuzz/tests/cases "$seeds" >/dev/null ;;
    fuzz_sip) python3 tests/fuzz/make_seeds.py build-fuzz/tests/cases "$seeds" --sip >/dev/null
              python3 tests/gen/sipgen.py sample build-fuzz/sample >/dev/null
              python3 tests/fuzz/make_seeds.py build-fuzz/sample "$seeds" --sip >/dev/null ;;
    fuzz_sdp) cp tests/fuzz/seeds/sdp/* "$seeds"/ ;;
    fuzz_hep) cp tests/fuzz/seeds/hep/* "$seeds"/ ;;
    fuzz_dns) cp tests/fuzz/seeds/dns/* "$seeds"/ ;;
    fuzz_tcp) python3 tests/fuzz/make_tcp_seeds.py "$seeds" ;;
    fuzz_tls) python3 tests/fuzz/make_tls_seeds.py "$seeds" ;;
    fuzz_srtp) python3 tests/fuzz/make_srtp_seeds.py "$seeds" ;;
    fuzz_rtp) python3 tests/fuzz/make_rtp_seeds.py "$seeds" ;;
    fuzz_calls) python3 tests/fuzz/make_call_seeds.py "$seeds" >/dev/null ;;
    fuzz_query) cp tests/fuzz/seeds/query/* "$seeds"/ ;;
    fuzz_pgtext) printf 'a1b2@10.0.0.1' > "$seeds"/ascii; printf 'caf\xc3\xa9 \xe2\x82\xac' > "$seeds"/utf8
                 printf 'x\xc0\xafy\xed\xa0\x80z\xf4\x90\x80\x80\0' > "$seeds"/bad ;;
    fuzz_alerts) cp tests/fuzz/seeds/alerts/* "$seeds"/ ;;
    fuzz_tui) cp tests/fuzz/seeds/tui/* "$seeds"/ ;;
    fuzz_audio) python3 tests/fuzz/make_audio_seeds.py "$seeds" ;;
    fuzz_pcap) mkdir -p build-fuzz/sample
               for k in issues scenarios registrations paths; do
                 python3 tests/gen/sipgen.py $k -o build-fuzz/sample/$k.pcap --truth build-fuzz/sample/$k.json >/dev/null
               done
               python3 tests/gen/sipgen.py sample build-fuzz/sample >/dev/null
               python3 tests/fuzz/make_pcap_seeds.py "$seeds" build-fuzz/tests/cases/*.pcap \
                 build-fuzz/sample/*.pcap ;;
  esac
  # FUZZ_JOBS harnesses at once (default: one per core), each for its full time: the wall
  # time of CI's fuzzing is halved on two cores, the fuzzing each harness gets is not
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  echo "-- $name for $secs s"
  rm -f "build-fuzz/$name.ok"
  ( "$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix=build-fuzz/artifacts/"$name"- "$corpus" "$seeds" \
      > "build-fuzz/$name.log" 2>&1 && touch "build-fuzz/$name.ok" ) &
  names+=("$name")
done
wait
for name in "${names[@]}"; do
  if [ -f "build-fuzz/$name.ok" ]; then
    pass=$((pass + 1))
    echo "$name: $(grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build-fuzz/$name.log" | tr '\n' ' ')"
  else
    fail=$((fail + 1))
    echo "$name FAILED:"
    tail -40 "build-fuzz/$name.log"
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
