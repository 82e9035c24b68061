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
import math
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


def sdp_t38(ip, port):
    """A T.38 offer or answer: the image m-line of RFC 3362, UDPTL."""
    return ('v=0\r\no=- 1 2 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n'
            'm=image %d udptl t38\r\na=T38FaxVersion:0\r\na=T38FaxRateManagement:transferredTCF\r\n'
            % (ip, ip, port))


def talk(rng, ms, level=SPEECH_DBOV, shape=None, voice=None):
    """Talk spurts of 1.2-2.5 s with 0.3-0.8 s pauses of digital silence, ms long: the
    samples and the milliseconds of speech in them."""
    x, spoken = [], 0
    while len(x) < ms * 8:
        pause = rng.choice([300, 500, 800])
        x += audio.silence(pause)
        spurt = rng.choice([1200, 1800, 2500])
        v = (voice or audio.speech_like)(rng, spurt, level)
        x += shape(v) if shape else v
        spoken += spurt
    cut = len(x) - ms * 8
    x = x[:ms * 8]
    # what the cut took off the end was the last spurt's (pauses come first)
    spoken -= min(cut // 8, spurt)
    return x, spoken


def spoken(rng, ms, level, shape=None, voice=None):
    """talk() at a speech level, its spurts passed through shape: the side's truth, with the
    speech level measured on the spurts as written (shape changes it)."""
    x, ms_spoken = talk(rng, ms, level, shape, voice)
    sq = [v * v for v in x if v != 0.0]
    db = 10 * math.log10(sum(sq) / len(sq))
    return dict(samples=x, speech_ms=ms_spoken, speech_dbov=round(db, 2))


def voiced(rng, ms, level):
    """Voiced speech as a VAD hears it: a 130 Hz glottal pitch with harmonics falling 6 dB an
    octave to 1 kHz (no plan tone among them), at a syllable rate of 4-5 Hz, scaled to
    level dBov RMS. Few zero crossings: quiet voiced speech is still speech, where quiet
    noise (speech_like's hiss) is not."""
    n = ms * audio.RATE // 1000
    rate, ph = 4.0 + rng.random(), rng.random()
    x = [sum(math.sin(2 * math.pi * 130 * k * i / audio.RATE + ph * k) / k for k in range(1, 8)) *
         (0.35 + 0.65 * abs(math.sin(math.pi * rate * i / audio.RATE))) for i in range(n)]
    rms = math.sqrt(sum(v * v for v in x) / n)
    return [v * 10 ** (level / 20) / rms for v in x]


def hard_clip(v, gain=1.0):
    """Too much gain before the encoder: the waveform cut flat at full scale."""
    return [max(-1.0, min(1.0, s * gain)) for s in v]


def soft_limit(v, top=0.85):
    """A limiter as a loud but careful device has one: peaks bent below top, never flat at
    full scale (µ-law's top code starts near 0.95 of it)."""
    return [top * math.tanh(s / top) for s in v]


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

    def call(n, name, early, callee_talks, issues, evidence=None, caller_talks=True,
             xa=None, xb=None, talk_ms=10000, t38=False, after=None):
        """INVITE; with early ('silence' or 'ringback') a 183 with SDP at 300 ms and 8 s of
        early RTP to the caller from 350 ms, the answer at 8.33 s; else the answer at 300 ms.
        Then talk_ms of talk: each side speaks or sends digital silence, or sends what xa
        (caller) or xb (callee) give: a dict of samples, speech_ms, speech_dbov and what
        else the truth says of it (tones, clipped). The callee's early media and its talk
        are one stream (one SSRC), as gateways send it. t38: after the talk the caller
        re-INVITEs to T.38 (an image m-line) and the callee accepts; the RTP stops. after:
        when the talk ends the caller's PBX re-INVITEs and the callee side answers with a new
        media port (5002), from which a new stream plays after['samples'] (a transfer's
        ringback), while the caller speaks on through it."""
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
                want['early_tones'] = [{'kind': 'ringback', 'region': 'NA', 'start_ms': ons[0][0]}]
                x = x[:8000 * 8]
            else:
                x = audio.silence(8000)
            seq, ts = rtp(out, ba, ms(350), ulaw(x), 0x2000 + n)
            ans = 8330  # talk goes on at 8350 ms, the early media's next 20 ms slot
        else:
            ans = 300
        d.resp(ms(ans), 200, 'OK', 1, 'INVITE', 't%d' % n, body=sdp(b, 5000))
        d.req(ms(ans + 1), 'ACK', 1, 't%d' % n, branch='ack%d' % n)
        def side(x, talks):
            if x:
                return x
            if talks:
                v, spoken = talk(rng, talk_ms)
                return dict(samples=v, speech_ms=spoken, speech_dbov=SPEECH_DBOV)
            return dict(samples=audio.silence(talk_ms), speech_ms=0, speech_dbov=None)
        after_ms = len(after['samples']) // 8 if after else 0
        if after:  # the caller speaks on through the after phase on its own stream
            v, spoken_ms = talk(rng, talk_ms + after_ms)
            xa = dict(samples=v, speech_ms=spoken_ms, speech_dbov=SPEECH_DBOV)
        da, db = side(xa, caller_talks), side(xb, callee_talks)
        ca, cb = ulaw(da['samples']), ulaw(db['samples'])
        rtp(out, ab, ms(ans + 20), ca, 0x1000 + n)
        rtp(out, ba, ms(ans + 20), cb, 0x2000 + n, seq, ts)
        end = ans + 20 + talk_ms + 20
        cseq = 2
        if after:
            d.req(ms(end - 20), 'INVITE', 2, 't%d' % n, body=sdp(a, 4000))
            d.resp(ms(end), 200, 'OK', 2, 'INVITE', 't%d' % n, body=sdp(b, 5002))
            d.req(ms(end + 1), 'ACK', 2, 't%d' % n, branch='ack2-%d' % n)
            cx = ulaw(after['samples'])
            rtp(out, Flow(b, 5002, a, 4000), ms(end), cx, 0x3000 + n)
            end, cseq = end + after_ms, 3
        if t38:
            d.req(ms(end), 'INVITE', 2, 't%d' % n, body=sdp_t38(a, 4002))
            d.resp(ms(end + 30), 200, 'OK', 2, 'INVITE', 't%d' % n, body=sdp_t38(b, 5002))
            d.req(ms(end + 31), 'ACK', 2, 't%d' % n, branch='ack2-%d' % n)
            end, cseq = end + 2000, 3
        d.req(ms(end), 'BYE', cseq, 't%d' % n)
        d.resp(ms(end + 1), 200, 'OK', cseq, 'BYE', 't%d' % n)
        ways = {}
        sides = [('caller_to_callee', '%s:4000' % a, da, ca, talk_ms + after_ms),
                 ('callee_to_caller', '%s:5000' % b, db, cb, talk_ms)]
        if after:
            sides.append(('callee_to_caller_after', '%s:5002' % b, after, cx, after_ms))
        for way, src, dx, codes, length in sides:
            w = {k: v for k, v in dx.items() if k != 'samples'}
            w.update(src=src, talk_ms=length, clipped=audio.clipped_truth(codes, 'ulaw'))
            ways[way] = w
        ways['callee_to_caller']['early_ms'] = 8000 if early else 0
        if early == 'ringback':
            ways['callee_to_caller'].update(tone_on_ms=want['tone_on_ms'], tones=want['early_tones'])
        want['directions'] = ways
        truth.append(want)

    # 8 s of digital silence as early media: the caller hears nothing from 300 ms to the
    # answer at 8.33 s, far past ringback_silence_ms (2 s)
    call(1, 'silent_early', 'silence', True, [['ringback_silence', 'warning']],
         {'ringback_silence': {'tone': 'none', 'early_media': 'silence (no tone)', 'silent_early_media_from': 'callee 10.40.1.2:5000',
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

    # the callee side answers at once and then plays North American ringback (2 s on, 4 s
    # off, two cycles) in its RTP: false answer supervision. Its twin is speech_both,
    # answered with speech right away (and ringback_early, whose ringback ends at the answer)
    x, ons = audio.cadenced(NA_RINGBACK[0], NA_RINGBACK[1], 2)
    ring = dict(samples=x[:10000 * 8], speech_ms=0, speech_dbov=None,
                tone_on_ms=sum(e - s for s, e in ons if s < 10000),
                tones=[{'kind': 'ringback', 'region': 'NA', 'start_ms': ons[0][0]}])
    call(6, 'false_answer', None, False, [['false_answer', 'warning']],
         {'false_answer': {'tone': 'ringback (NA)', 'from': 'callee 10.40.6.2:5000',
                           'tone_start_after_answer_s': {'approx': 0.0, 'within': 0.1},
                           'tone_heard_after_answer_s': {'approx': ons[1][1] / 1000, 'within': 0.2},
                           'cycles': 2}}, xb=ring)
    # the same false answer, but the callee side's ringback begins in the silence of its
    # cadence: 3 s of digital silence, then the tone. Still a false answer (it began within
    # false_answer_start_ms, 9 s, of the 200 OK)
    late = dict(samples=audio.silence(3000) + x[:10000 * 8], speech_ms=0, speech_dbov=None,
                tone_on_ms=sum(e - s for s, e in ons if s < 10000),
                tones=[{'kind': 'ringback', 'region': 'NA', 'start_ms': 3000 + ons[0][0]}])
    call(14, 'false_answer_late', None, False, [['false_answer', 'warning']],
         {'false_answer': {'tone': 'ringback (NA)', 'from': 'callee 10.40.14.2:5000',
                           'tone_start_after_answer_s': {'approx': 3.0, 'within': 0.2},
                           'tone_heard_after_answer_s': {'approx': (ons[1][1] - ons[0][0]) / 1000,
                                                         'within': 0.2},
                           'cycles': 2}}, xb=late, talk_ms=13000)
    # its twin for a ringback later in the call: 12 s of speech both ways, then the callee's
    # PBX moves the media (a re-INVITE) and plays North American ringback from a new port
    # while a transfer target rings, 12 s after the answer: no false answer (the 200 OK was
    # a real answer; false_answer_start_ms is 9 s)
    later = dict(samples=x[:8000 * 8], speech_ms=0, speech_dbov=None,
                 tone_on_ms=sum(min(e, 8000) - s for s, e in ons if s < 8000),
                 tones=[{'kind': 'ringback', 'region': 'NA', 'start_ms': ons[0][0]}])
    call(13, 'transfer_ringback', None, True, [], talk_ms=12000, after=later)
    # the callee's speech with too much gain: cut flat at full scale; its twin is loud but
    # limited below full scale (no clipping, no issue), and speech_both at -22 dBov
    clip = spoken(rng, 10000, -7.0, lambda v: hard_clip(v, 1.5))
    codes = ulaw(clip['samples'])
    share = 100.0 * audio.clipped_truth(codes, 'ulaw') / (clip['speech_ms'] * 8)
    # the thresholds: clipping_pct 0.5 % of speech samples, audio_loud_dbov -6 dBov (what
    # was cut flat is loud too: both follow from the samples written)
    issues = [['clipping', 'warning']] if share >= 0.5 else []
    issues += [['audio_level', 'warning']] if clip['speech_dbov'] > -6 else []
    call(7, 'clipped', None, False, sorted(issues),
         {'clipping': {'direction': 'callee_to_caller', 'from': 'callee 10.40.7.2:5000',
                       'clipped_samples': audio.clipped_truth(codes, 'ulaw'),
                       'clipped_speech_pct': {'approx': share, 'within': share * 0.05},
                       'speech_level_dbov': {'approx': clip['speech_dbov'], 'within': 1}}},
         xb=clip)
    call(8, 'loud_unclipped', None, False, [], xb=spoken(rng, 10000, -10.0, soft_limit))
    # the callee speaks at -42 dBov: the caller strains to hear (audio_level, below -40)
    call(9, 'quiet', None, False, [['audio_level', 'warning']],
         {'audio_level': {'direction': 'callee_to_caller', 'level': 'too quiet',
                          'speech_level_dbov': {'approx': -42.0, 'within': 1}}},
         xb=spoken(rng, 10000, -42.0, voice=voiced))

    # a fax over G.711: the caller's CNG (1100 Hz, 0.5 s on, 3 s off), the callee's CED
    # (2100 Hz, 3.3 s) then silence; T.38 never offered (fax, info). Its twin re-INVITEs to
    # T.38 after 4 s and the callee accepts: no issue.
    def fax_sides(ms):
        cng, cons = audio.cadenced([1100], [500, 3000], 3)
        ced = audio.tone([2100], 3300) + audio.silence(ms - 3300)
        a = dict(samples=cng[:ms * 8], speech_ms=0, speech_dbov=None,
                 tone_on_ms=sum(min(e, ms) - s for s, e in cons if s < ms),
                 tones=[{'kind': 'fax_cng', 'region': 'T.30', 'start_ms': 0}])
        b = dict(samples=ced, speech_ms=0, speech_dbov=None, tone_on_ms=3300,
                 tones=[{'kind': 'fax_ced', 'region': 'T.30', 'start_ms': 0}])
        return a, b
    fa, fb = fax_sides(10000)
    call(10, 'fax_g711', None, False, [['fax', 'info']],
         {'fax': {'tone': 'CNG 1100 Hz', 't38': 'not offered', 'from': 'caller 10.40.10.1:4000'}},
         xa=fa, xb=fb)
    fa, fb = fax_sides(4000)
    call(11, 'fax_t38', None, False, [], xa=fa, xb=fb, talk_ms=4000, t38=True)

    # in-band DTMF digits from the caller (Q.23 pairs, 100 ms on, 100 ms off), then speech
    x, times = audio.dtmf('159#')
    rest = spoken(rng, 10000 - len(x) // 8, SPEECH_DBOV)
    dt = dict(samples=x + rest['samples'], speech_ms=rest['speech_ms'], speech_dbov=None,
              tone_on_ms=400, tones=[], dtmf=[{'digit': d, 'ms': t} for d, t in zip('159#', times)])
    call(12, 'inband_dtmf', None, True, [], xa=dt)

    out.sort(key=lambda f: f[0])
    for ts, fr in out:
        writer(ts, fr)
    return dict(frames=len(out), calls=truth)
