#!/usr/bin/env python3
"""The UI in real headless Chromium (Debian's chromium and chromedriver, driven over the
W3C WebDriver protocol), served by `sipscope serve` on a generated capture whose first call
has the From display name <img src=x onerror=alert(1)>.

- the call list shows every call the generator wrote; the display name shows as text: no
  <img> element exists, no alert opened;
- a call's ladder has one arrow per message, in the order and with the frame numbers the
  generator's truth gives; clicking an arrow shows that message's raw text (as the API
  gives it); the arrow keys move the selection;
- a call's issues link to frames of the ladder; streams have their charts;
- a call analysed with --spool-rtp has an audio player whose duration, as Chromium reads
  the WAV, equals the media span the generator wrote (first packet to the end of the last,
  within 20 ms); the ladder carries a level strip per direction; clicking an issue's frame
  seeks the player to that frame's time (issue 24);
- a call through two proxies shows each hop's holding time under the INVITE it sent on and
  in the hops table; a call whose DNS look-ups were slow shows them on the ladder, as
  arrows to the DNS server and back with the question, answer and time, and in its table;
- the dashboard shows the number of calls, the issues page lists the issues;
- screenshots of the list, a ladder and a stream chart are written to SCREENS.
Skipped (77) without chromium and chromedriver.

Usage: test_ui.py PATH/TO/sipscope SCREENS"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate, skip  # noqa: E402
import webdriver  # noqa: E402

XSS = '<img src=x onerror=alert(1)>'


def main(exe, screens):
    if not webdriver.available():
        return skip('chromium or chromedriver not installed')
    os.makedirs(screens, exist_ok=True)
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'ui.pcap')
        truth = generate('calls', pcap, os.path.join(tmp, 'ui.json'), '--calls', '6', '--duration', '4',
                         '--outcomes', 'answered,busy,answered,cancelled', '--loss', '0.02', '--display', XSS)
        db = os.path.join(tmp, 'ui.db')
        j = analyze(exe, pcap, '--db', db, '--spool-rtp')
        # a second analysis in the same file: the issue scenarios, for issues that point
        # at frames of the ladder
        scen = os.path.join(tmp, 'issues.pcap')
        generate('issues', scen, os.path.join(tmp, 'issues.json'))
        j2 = analyze(exe, scen, '--db', db)
        # a third: calls through proxies and DNS look-ups (tests/gen/paths.py)
        paths = os.path.join(tmp, 'paths.pcap')
        ptruth = generate('paths', paths, os.path.join(tmp, 'paths.json'))
        j3 = analyze(exe, paths, '--db', db)
        j2 = dict(j2, calls=j2['calls'] + j3['calls'], issues=j2['issues'] + j3['issues'], paths=(ptruth, j3))
        srv = subprocess.Popen([exe, 'serve', '--db', db, '--listen', '127.0.0.1:0'], stderr=subprocess.PIPE,
                               text=True)
        port = int(srv.stderr.readline().split()[-1])
        base = 'http://127.0.0.1:%d' % port
        b = webdriver.Browser()
        try:
            run(check, b, base, truth, j, j2, screens)
        finally:
            b.close()
            srv.send_signal(signal.SIGTERM)
            srv.wait(timeout=30)
            srv.stderr.close()
    return check.done()


def j2_messages(base, j2):
    """The second analysis's messages, as the API gives them for each of its calls."""
    out = []
    for c in j2['calls']:
        out += json.loads(urllib.request.urlopen(base + '/api/v1/calls/%s/messages' % c['id']).read())['messages']
    return out


def audio_checks(check, b, call, first, screens):
    sent = [st for st in first['streams'] if st['first_ns'] is not None]
    span = (max(st['last_ns'] for st in sent) + 20_000_000 - min(st['first_ns'] for st in sent)) / 1e9
    check(b.wait("return document.getElementById('main').dataset.levels === arguments[0]", 60, call['id']),
          'the call page loads its audio levels')
    dur = b.wait("const p = document.getElementById('player');"
                 "return p && p.readyState >= 1 && isFinite(p.duration) ? p.duration : null", 60)
    check(dur is not None and abs(dur - span) <= 0.020,
          'the audio element loads with a duration of %s s, the media span written is %.3f s' % (dur, span))
    for side in ('caller', 'callee'):
        n = b.run("return document.querySelectorAll('svg.ladder .levels.%s .level').length" % side)
        check(n > 0, 'the ladder carries the %s\'s level strip (%d marks)' % (side, n))
    b.screenshot(os.path.join(screens, 'listen.png'), b.find('main'))
    issue = next((i for i in call['issues'] if i['frames']), None)
    check(issue is not None, 'the call has an issue with a frame (%s)' % (issue and issue['kind']))
    if issue is None:
        return
    start = b.run("return document.querySelector('svg.ladder .levels .level') &&"
                  " parseFloat(document.querySelector('svg.ladder .levels .level').dataset.time)")
    link = next((l for l in b.find_all('#call-issues .frame-link') if b.text(l) == '#%d' % issue['frames'][0]), None)
    check(link is not None, 'the issue links its frame #%d' % issue['frames'][0])
    if link is None:
        return
    b.run("document.getElementById('player').currentTime = 0")
    b.click(link)
    want = issue['time'] - min(st['first_ns'] for st in sent) / 1e9
    at = b.wait("const t = document.getElementById('player').currentTime; return t > 0 ? t : null", 10)
    check(at is not None and abs(at - want) <= 0.02,
          'clicking frame #%d seeks the player to %s s, the frame is at %.3f s of the media (first mark %s)'
          % (issue['frames'][0], at, want, start))


def ready(b, path):
    return b.wait("return document.getElementById('main').dataset.ready === arguments[0]", 60, path)  # generous: a loaded CI box under ASan


def run(check, b, base, truth, j, j2, screens):
    # ---- the call list ----
    b.open(base + '/')
    check(ready(b, '/calls'), 'the call list loads')
    rows = b.find_all('#call-rows tr')
    check(len(rows) == len(truth['calls']) + len(j2['calls']), 'call list: %d rows, the generator wrote %d + %d calls'
          % (len(rows), len(truth['calls']), len(j2['calls'])))
    texts = [b.text(r) for r in rows]
    check(any(XSS in t for t in texts), 'the From display name shows as text: %s' % XSS)
    check(b.run("return document.querySelectorAll('img').length") == 0, 'no <img> element was made from it')
    check(b.alert_text() is None, 'no alert opened')
    check(b.run("return document.querySelector('#call-rows').textContent.includes('onerror')"), 'the markup is text')
    b.screenshot(os.path.join(screens, 'calls.png'))
    # sorting by a column: by state, ascending
    b.click(b.find('th[data-key=state]'))
    states = [b.text(e) for e in b.find_all('#call-rows tr td:nth-child(5)')]
    check(states == sorted(states), 'sorting by state, ascending: %s' % states)
    b.click(b.find('th[data-key=state]'))
    states = [b.text(e) for e in b.find_all('#call-rows tr td:nth-child(5)')]
    check(states == sorted(states, reverse=True), 'and descending: %s' % states)

    # ---- a call: the ladder ----
    first = truth['calls'][0]
    call = next(c for c in j['calls'] if c['call_id'] == first['call_id'])
    link = next(e for e in b.find_all('#call-rows tr td a') if b.attr(e, 'href') == '#/call/' + call['id'])
    b.click(link)
    check(ready(b, '/call/' + call['id']), 'clicking the time opens %s' % call['id'])
    arrows = b.find_all('svg.ladder g.msg')
    want_frames = [m['frame'] for m in sorted(first['messages'], key=lambda m: (m['time_ns'] if 'time_ns' in m else 0, m['frame']))]
    got_frames = [int(b.attr(a, 'data-frame')) for a in arrows]
    check(len(arrows) == len(first['messages']), 'ladder: %d arrows, the truth has %d messages'
          % (len(arrows), len(first['messages'])))
    check(got_frames == sorted(want_frames), 'ladder: arrows in frame order %s' % got_frames)
    labels = [b.run("return arguments[0].querySelector('.label').textContent", {webdriver.ELEMENT: a}) for a in arrows]
    check(labels[0].startswith('INVITE') and '+SDP' in labels[0], 'the first arrow is the INVITE with SDP: %s' % labels[0])
    api = json.loads(urllib.request.urlopen(base + '/api/v1/calls/%s/messages' % call['id']).read())['messages']
    b.click(arrows[2])
    raw = b.text(b.find('#raw-text'))
    check(raw.strip() == api[2]['raw'].replace('\r\n', '\n').strip(), 'clicking the third arrow shows its raw text')
    check(b.text(b.find('#message-detail h3')).startswith('#%d ' % api[2]['frame']), 'and its frame number')
    b.keys(b.find('.ladder-wrap'), webdriver.KEYS['down'])
    check(b.text(b.find('#message-detail h3')).startswith('#%d ' % api[3]['frame']), 'the down key selects the next')
    b.keys(b.find('.ladder-wrap'), webdriver.KEYS['home'])
    check(b.text(b.find('#message-detail h3')).startswith('#%d ' % api[0]['frame']), 'Home selects the first')
    check(XSS in b.text(b.find('h1')) and b.run("return document.querySelectorAll('img').length") == 0,
          'the display name is text in the call view too')
    b.screenshot(os.path.join(screens, 'ladder.png'), b.find('.ladder-view'))
    # streams and their charts
    streams = b.find_all('section.stream')
    check(len(streams) == len(call['streams']) and len(b.find_all('section.stream svg.chart')) == 4 * len(streams),
          'streams: %d, each with 4 charts' % len(streams))
    if streams:
        b.screenshot(os.path.join(screens, 'stream.png'), streams[0])
    # the call's audio (issue 24): the player, the level strips, an issue's frame seeks it
    audio_checks(check, b, call, first, screens)
    # an issue's frame link selects that frame in the ladder
    msgs = {}
    for m in j2_messages(base, j2):
        msgs.setdefault(m['call'], set()).add(m['frame'])
    pick = next(((c, f) for c in j2['calls'] for i in c['issues'] for f in i['frames'] if f in msgs.get(c['id'], ())), None)
    check(pick is not None, 'a call whose issue points at a SIP frame (%s)' % (pick and pick[0]['id']))
    if pick:
        c, frame = pick
        b.open(base + '/#/call/' + c['id'])
        check(ready(b, '/call/' + c['id']), 'a call with issues opens')
        check(len(b.find_all('#call-issues li')) == len(c['issues']), 'the call\'s %d issues are listed' % len(c['issues']))
        target = next((l for l in b.find_all('#call-issues .frame-link') if b.text(l) == '#%d' % frame), None)
        check(target is not None, 'the issue links frame #%d' % frame)
        if target:
            b.click(target)
            check(b.text(b.find('#message-detail h3')).startswith('#%d ' % frame),
                  'the issue\'s frame link selects #%d in the ladder' % frame)

    # ---- a call's path: hops and DNS ----
    ptruth, j3 = j2['paths']
    byname = {t['name']: next(c for c in j3['calls'] if c['call_id'] == t['call_id']) for t in ptruth['scenarios']}
    # the holds, answer times and look-up durations the paths generator wrote (issue 22:
    # no longer numbers typed in here)
    tp = next(t for t in ptruth['scenarios'] if t['name'] == 'two_proxy')
    c = byname['two_proxy']
    b.open(base + '/#/call/' + c['id'])
    check(ready(b, '/call/' + c['id']), 'the two-proxy call opens')
    holds = [b.text(e) for e in b.find_all('svg.ladder .hold')]
    want = ['held %.1f ms by %s:5060' % (h['held_ms'], tp['hosts'][h['host']]) for h in tp['hops']]
    check(holds == want, 'the ladder shows both holds under the forwarded INVITEs: %s, truth %s' % (holds, want))
    rows = [b.text(r) for r in b.find_all('#call-hops tbody tr')]
    h1, h2 = tp['hops']
    check(len(rows) == 2 and '%.1f ms' % h1['held_ms'] in rows[0] and '%.1f ms' % h1['downstream_ms'] in rows[0]
          and '%.1f ms' % h2['held_ms'] in rows[1], 'the hops table: %s' % rows)
    b.screenshot(os.path.join(screens, 'hops.png'), b.find('.ladder-view'))
    c = byname['srv_slow']
    b.open(base + '/#/call/' + c['id'])
    check(ready(b, '/call/' + c['id']), 'the slow-SRV call opens')
    dns = [b.run("return arguments[0].querySelector('.label').textContent", {webdriver.ELEMENT: e})
           for e in b.find_all('svg.ladder g.dns')]
    ts = next(t for t in ptruth['scenarios'] if t['name'] == 'srv_slow')
    d1, d2 = ts['dns']
    check(len(dns) == 4 and dns[0] == 'DNS %s %s?' % (d1['type'], d1['name'])
          and 'after %.1f ms, %d tries' % (d1['duration_ms'], d1['tries']) in dns[1]
          and dns[2] == 'DNS %s %s?' % (d2['type'], d2['name']), 'the ladder shows the look-ups, query and answer: %s' % dns)
    check(len(b.find_all('svg.ladder g.dns.slow')) == 2, 'the slow look-up is marked')
    arrows = b.find_all('svg.ladder g.msg')
    check(len(arrows) == 7 and b.run("return arguments[0].querySelector('.label').textContent",
                                     {webdriver.ELEMENT: arrows[0]}).startswith('INVITE'),
          'its SIP messages are still the selectable arrows, the INVITE first')
    rows = [b.text(r) for r in b.find_all('#call-dns tbody tr')]
    check(len(rows) == 2 and '%.1f ms' % d1['duration_ms'] in rows[0] and '%s %s' % (d1['type'], d1['name']) in rows[0],
          'the DNS table: %s' % rows)
    b.screenshot(os.path.join(screens, 'dns.png'), b.find('.ladder-view'))

    # ---- dashboard and issues ----
    b.open(base + '/#/dashboard')
    check(ready(b, '/dashboard'), 'the dashboard loads')
    tiles = b.text(b.find('#kpis'))
    check(str(len(j['calls']) + len(j2['calls'])) in tiles and 'ASR' in tiles and 'PDD p95' in tiles, 'dashboard KPIs: %s' % tiles.replace('\n', ' '))
    check(len(b.find_all('#mos-spread .band')) >= 1, 'the MOS spread is drawn')
    b.open(base + '/#/issues')
    check(ready(b, '/issues'), 'the issues page loads')
    n = len(j['issues']) + len(j2['issues'])
    check(len(b.find_all('#issue-list li')) == min(n, 200), 'issues: %d listed' % n)
    check(b.alert_text() is None, 'no alert opened anywhere')


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
