"""A delay step and its twin (issue 24, part 4): two answered G.711 calls of 10 s of media
each way, whose callee-bound stream (caller -> callee) is
  step:   seen with no delay for its first 2 s, then every packet 100 ms later (the media
          source behind the same SSRC changed at answer: a longer path, one step, no loss);
  jitter: seen with a transit delay uniform on 0..90 ms, 45 ms +- 45 ms, all along.
The other direction flows clean. The truth says what was written (the step's time and
size, the transit range, packets sent), and what follows from it alone:
  step:   no packet is lost and the delay varies once, so a buffer that resynchronises
          plays all but a few packets: R of G.711 without loss (93.2, G.107 defaults) less
          a few tenths of a per cent, MOS >= 4.0 and no issue at all. The RFC 3550 jitter
          jumps by 100/16 = 6.25 ms at the step and decays: under high_jitter's 20 ms.
  jitter: RFC 3550's J tends to E|D| for D the difference of two transits uniform on
          0..90 ms, 90/3 = 30 ms: between 20 and 50 ms, high_jitter warning."""
import random

from calls import MS, SEC, Flow
from issues import rtp, sdp
from scenarios import Dialog

T0 = 1_720_000_000 * SEC
STEP_AT_MS = 2500  # after the stream's first packet: between two of the buffer's once-a-second replans
STEP_MS = 100
JITTER_MS = 45  # +- around a 45 ms mean
MEDIA_MS = 10000


def call(out, n, name, delay):
    """An answered call at T0 + 15 s * n, media MEDIA_MS each way; the caller's RTP seen
    delay(k) ns after it was sent."""
    t = T0 + 15 * SEC * n
    a, b = '10.31.%d.1' % n, '10.31.%d.2' % n
    d = Dialog(out, n, 'ds-%s@%s' % (name, a), a, b)
    d.req(t, 'INVITE', 1, body=sdp(a, 4000))
    d.resp(t + 2 * MS, 100, 'Trying', 1, 'INVITE')
    d.resp(t + 300 * MS, 180, 'Ringing', 1, 'INVITE', 't%d' % n)
    d.resp(t + 500 * MS, 200, 'OK', 1, 'INVITE', 't%d' % n, body=sdp(b, 5000))
    d.req(t + 501 * MS, 'ACK', 1, 't%d' % n, branch='ack%d' % n)
    m0 = t + 520 * MS
    sent = rtp(out, Flow(a, 4000, b, 5000), m0, m0 + MEDIA_MS * MS, 0x1100 + n, delay=delay)
    rtp(out, Flow(b, 5000, a, 4000), m0 + 5 * MS, m0 + MEDIA_MS * MS, 0x2100 + n)
    end = m0 + (MEDIA_MS + 200) * MS
    d.req(end, 'BYE', 2, 't%d' % n)
    d.resp(end + MS, 200, 'OK', 2, 'BYE', 't%d' % n)
    return dict(name=name, call_id=d.cid, stream=dict(src='%s:4000' % a, dst='%s:5000' % b),
                packets=sent)


def generate(writer, seed=24):
    out = []
    rng = random.Random(seed)
    per = 20  # ms between packets
    step = call(out, 1, 'step', lambda k: STEP_MS * MS if k * per >= STEP_AT_MS else 0)
    step.update(step_at_ms=STEP_AT_MS, step_ms=STEP_MS, lost=0, mos_min=4.0, issues=[])
    jit = [rng.randrange(0, 2 * JITTER_MS * MS + 1) for _ in range(MEDIA_MS // per)]
    twin = call(out, 2, 'jitter', lambda k: jit[k])
    twin.update(jitter_ms=JITTER_MS, transit_ms=[0, 2 * JITTER_MS], lost=0,
                rfc3550_jitter_ms=2 * JITTER_MS / 3, issues=[['high_jitter', 'warning']])
    out.sort(key=lambda f: f[0])
    for ts, fr in out:
        writer(ts, fr)
    return dict(frames=len(out), calls=[step, twin])
