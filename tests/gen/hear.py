"""Calls whose RTP carries real G.711 audio (issue 24), each scenario with a twin that must
not raise its issue: silent early media after a 183 and its twin with North American
ringback; an answered call whose callee->caller audio is digital silence while the caller
speaks, and its twin with speech both ways.

The truth says, per call and per direction, what was written: the milliseconds of speech
and of silence, the speech level (the RMS speech_like was scaled to), the tone played and
its times, and the issues that follow from the thresholds of docs/output.md (ringback
silence 2 s; one-way: under 5 % speech one way, 20 % or more the other; silent call: no
speech either way over at least 5 s). Nothing in it is
read from sipscope. Each call has its own hosts and its own 20 s of the timeline."""
import random
import struct

import audio
from calls import MS, SEC, Flow
from scenarios import Dialog

T0 = 1_720_000_000 * SEC
SPEECH_DBOV = -22.0
NA_RINGBACK = ([440, 480], [2000, 4000])


def sdp(ip, port):
    return ('v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n'
            'm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n' % (ip, ip, port))


def talk(rng, ms):
    """Talk spurts of 1.2-2.5 s with 0.3-0.8 s pauses of digital silence, ms long: the
    samples and the milliseconds of speech in them."""
    x, spoken = [], 0
    while len(x) < ms * 8:
        pause = rng.choice([300, 500, 800])
        x += audio.silence(pause)
        spurt = rng.choice([1200, 1800, 2500])
        x += audio.speech_like(rng, spurt, SPEECH_DBOV)
        spoken += spurt
    cut = len(x) - ms * 8
    x = x[:ms * 8]
    # what the cut took off the end was the last spurt's (pauses come first)
    spoken -= min(cut // 8, spurt)
    return x, spoken


def rtp(out, flow, t0, codes, ssrc, seq0=0, ts0=0):
    """codes (µ-law characters) as 20 ms packets of PT 0 from t0 (ns); the next sequence
    number and timestamp, for a stream that goes on."""
    k = 0
    for k in range(len(codes) // 160):
        pkt = struct.pack('!BBHII', 0x80, 0, (seq0 + k) & 0xFFFF, (ts0 + 160 * k) & 0xFFFFFFFF, ssrc)
        out.append((t0 + k * 20 * MS, flow.frame(pkt + codes[160 * k:160 * k + 160])))
    n = len(codes) // 160
    return seq0 + n, ts0 + 160 * n


def ulaw(x):
    return audio.encode(audio.to16(x), 'ulaw')


def generate(writer):
    out, truth = [], []
    rng = random.Random(2424)
    base = [T0]

    def call(n, name, early, callee_talks, issues, evidence=None, caller_talks=True):
        """INVITE; with early ('silence' or 'ringback') a 183 with SDP at 300 ms and 8 s of
        early RTP to the caller from 350 ms, the answer at 8.33 s; else the answer at 300 ms.
        Then 10 s of talk: each side speaks or sends digital silence. The
        callee's early media and its talk are one stream (one SSRC), as gateways send it."""
        t = base[0]
        base[0] += 20 * SEC
        a, b = '10.40.%d.1' % n, '10.40.%d.2' % n
        d = Dialog(out, n, 'hear-%s@%s' % (name, a), a, b)
        ms = lambda v: t + v * MS
        d.req(t, 'INVITE', 1, body=sdp(a, 4000))
        d.resp(ms(2), 100, 'Trying', 1, 'INVITE')
        ab, ba = Flow(a, 4000, b, 5000), Flow(b, 5000, a, 4000)
        want = dict(name=name, call_id=d.cid, issues=sorted(issues), evidence=evidence or {},
                    tone_on_ms=0)
        seq = ts = 0
        if early:
            d.resp(ms(300), 183, 'Session Progress', 1, 'INVITE', 't%d' % n, body=sdp(b, 5000))
            if early == 'ringback':
                x, ons = audio.cadenced(NA_RINGBACK[0], NA_RINGBACK[1], 2)
                want['early_tone'] = {'kind': 'ringback', 'region': 'NA',
                                      'start_ms': 350 + ons[0][0], 'end_ms': 350 + ons[-1][1]}
                want['tone_on_ms'] = sum(e - s for s, e in ons if s < 8000)
                x = x[:8000 * 8]
            else:
                x = audio.silence(8000)
            seq, ts = rtp(out, ba, ms(350), ulaw(x), 0x2000 + n)
            ans = 8330  # talk goes on at 8350 ms, the early media's next 20 ms slot
        else:
            ans = 300
        d.resp(ms(ans), 200, 'OK', 1, 'INVITE', 't%d' % n, body=sdp(b, 5000))
        d.req(ms(ans + 1), 'ACK', 1, 't%d' % n, branch='ack%d' % n)
        talk_ms = 10000
        xa, spoken_a = talk(rng, talk_ms) if caller_talks else (audio.silence(talk_ms), 0)
        if callee_talks:
            xb, spoken_b = talk(rng, talk_ms)
        else:
            xb, spoken_b = audio.silence(talk_ms), 0
        rtp(out, ab, ms(ans + 20), ulaw(xa), 0x1000 + n)
        rtp(out, ba, ms(ans + 20), ulaw(xb), 0x2000 + n, seq, ts)
        end = ans + 20 + talk_ms + 20
        d.req(ms(end), 'BYE', 2, 't%d' % n)
        d.resp(ms(end + 1), 200, 'OK', 2, 'BYE', 't%d' % n)
        want['directions'] = {
            'caller_to_callee': {'src': '%s:4000' % a, 'speech_ms': spoken_a, 'talk_ms': talk_ms,
                                 'speech_dbov': SPEECH_DBOV if caller_talks else None},
            'callee_to_caller': {'src': '%s:5000' % b, 'speech_ms': spoken_b, 'talk_ms': talk_ms,
                                 'early_ms': 8000 if early else 0,
                                 'speech_dbov': SPEECH_DBOV if callee_talks else None}}
        truth.append(want)

    # 8 s of digital silence as early media: the caller hears nothing from 300 ms to the
    # answer at 8.33 s, far past ringback_silence_ms (2 s)
    call(1, 'silent_early', 'silence', True, [['ringback_silence', 'warning']],
         {'ringback_silence': {'tone': 'none', 'silent_early_media_from': 'callee 10.40.1.2:5000',
                               'silence_ms': {'approx': 8030, 'within': 1000}}})
    # its twin: the same early media playing North American ringback (2 s on, 4 s off)
    call(2, 'ringback_early', 'ringback', True, [])
    # the callee's RTP flows at full rate for the whole call, all of it silence: the caller
    # hears nothing while the callee hears the caller speak
    call(3, 'silent_callee', None, False, [['one_way_audio', 'critical']],
         {'one_way_audio': {'silent': 'callee_to_caller', 'heard': 'silence',
                            'silent_direction_speech_seconds_pct': 0}})
    # its twin: speech both ways
    call(4, 'speech_both', None, True, [])
    # answered, RTP at full rate both ways for 10 s, digital silence both ways: nobody heard
    # anybody, past silent_call_s (5 s); its twins are silent_callee (one side speaks: a
    # one-way call, not a silent one) and speech_both
    call(5, 'silent_both', None, False, [['silent_call', 'critical']],
         {'silent_call': {'heard': 'silence both ways', 'answered_s': {'approx': 10.04, 'within': 0.1}}},
         caller_talks=False)

    out.sort(key=lambda f: f[0])
    for ts, fr in out:
        writer(ts, fr)
    return dict(frames=len(out), calls=truth)
