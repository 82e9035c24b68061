#!/usr/bin/env python3
"""The dashboard page (issue 29) in real headless Chromium, served by `sipscope serve` on a
generated capture whose truth (tests/gen/calls.py) says when each call began, how it
ended and whom it called:

- the capture is from 2022, older than the default range of a day, so the page shows
  everything stored: its range holds every call the generator wrote, in at most 60 points;
- the calls chart has one point per step for calls and one for answered, each the number
  of the truth's calls (answered calls) whose INVITE is in that step; the ASR chart a point
  for each step with calls, at the truth's ASR (ITU-T E.411: answered over calls);
- clicking a step's column opens the call list of exactly the truth's calls of that slice;
- a custom range of 20 s draws a point a second, each the truth's calls of that second;
- the worst callee by failures heads its table (the truth's calls the network failed, 503
  here, grouped by To user), and its row opens the call list of exactly its calls;
- live: a second capture analysed into the same database while the page is open shows in
  the calls chart at the next poll (?poll=1: a poll a second), and polls that find
  nothing new draw nothing.
Skipped (77) without chromium and chromedriver.

Usage: test_dashboard.py PATH/TO/sipscope [SCREENSHOT.png]"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gen'))
from sstest import Checks, analyze, generate, skip  # noqa: E402
from calls import OUTCOME_KPI  # noqa: E402
import webdriver  # noqa: E402

T0 = 1_650_000_000  # 2022-04-15: older than any "last day"
OUTCOMES = 'answered,unavailable,answered,busy,unavailable,cancelled,answered'


def in_slice(calls, lo, hi):
    return [c for c in calls if lo <= c['invite_ns'] / 1e9 < hi]


def ready(b, path):
    return b.wait("return document.getElementById('main').dataset.ready === arguments[0]", 60, path)  # generous: a loaded CI box under ASan


def points(b, chart, series):
    """The chart's points of one series: {step index: value}."""
    return {int(i): float(v) for i, v in b.run(
        "return [...document.querySelectorAll(`#${arguments[0]} g.series[data-series='${arguments[1]}'] circle.pt`)]"
        ".map((c) => [c.dataset.i, c.dataset.v])", chart, series)}


def listed(b):
    """The call ids the call list shows, once it has loaded."""
    if not ready(b, '/calls'):
        return None
    return sorted(b.run("return [...document.querySelectorAll('#call-rows tr')].map((r) => r.dataset.id)"))


def open_dashboard(b, base, query=''):
    b.open(base + '/#/dashboard' + query)
    ok = ready(b, '/dashboard') and b.wait("return document.getElementById('main').dataset.drawn === '1'", 60)
    span = b.run("const d = document.getElementById('range-span').dataset;"
                 "return [Number(d.from), Number(d.to), Number(d.step)]") if ok else None
    return span


def run(check, b, base, truth, ids, shot):
    calls = truth['calls']
    span = open_dashboard(b, base)
    check(span is not None, 'the dashboard loads and draws its charts')
    if span is None:
        return
    frm, to, step = span
    n = round((to - frm) / step)
    first, last = min(c['invite_ns'] for c in calls) / 1e9, max(c['invite_ns'] for c in calls) / 1e9
    check(b.run("return document.getElementById('range').value") == 'all',
          'a capture older than a day: the range is all stored')
    check(frm <= first and last < to and 10 <= n <= 60,
          'the range [%s, %s) in %d steps of %s s holds the calls of [%s, %s]' % (frm, to, n, step, first, last))
    # the calls chart: a point per step, the truth's counts
    got_calls, got_ans = points(b, 'chart-calls', 'calls'), points(b, 'chart-calls', 'answered')
    want_calls = {i: len(in_slice(calls, frm + i * step, frm + (i + 1) * step)) for i in range(n)}
    want_ans = {i: sum(1 for c in in_slice(calls, frm + i * step, frm + (i + 1) * step) if c['answer_ns'] is not None)
                for i in range(n)}
    check(len(got_calls) == n and len(got_ans) == n, 'calls chart: %d and %d points, %d steps' % (len(got_calls), len(got_ans), n))
    check(got_calls == want_calls, 'calls per step as the truth: %s, truth %s' % (got_calls, want_calls))
    check(got_ans == want_ans, 'answered per step as the truth: %s, truth %s' % (got_ans, want_ans))
    asr = points(b, 'chart-asr', 'ASR')
    want_asr = {}
    for i in range(n):
        mine = in_slice(calls, frm + i * step, frm + (i + 1) * step)
        if mine:
            want_asr[i] = 100 * sum(1 for c in mine if OUTCOME_KPI[c['outcome']][0]) / len(mine)
    check(asr.keys() == want_asr.keys() and all(abs(asr[i] - want_asr[i]) < 1e-6 for i in asr),
          'ASR: a point per step with calls, the truth\'s: %s, truth %s' % (asr, want_asr))
    check(len(b.find_all('#chart-pdd circle.pt')) > 0 and len(b.find_all('#chart-issues g.series')) > 0,
          'the PDD and issue charts are drawn')
    if shot:
        b.screenshot(shot)
    # a step's column opens the call list of that slice
    k = max(range(n), key=lambda i: (want_calls[i], -i))
    b.click(b.find('#chart-calls rect.hit[data-i="%d"]' % k))
    want = sorted(ids[c['call_id']] for c in in_slice(calls, frm + k * step, frm + (k + 1) * step))
    got = listed(b)
    check(got == want and len(want) >= 2, 'clicking step %d lists its %d calls: %s, truth %s' % (k, len(want), got, want))
    # a custom range: 20 s of the capture, a point a second (the shortest step that draws
    # it in 60 points at most), each the truth's calls of that second
    lo = T0 + 20
    span = open_dashboard(b, base, '?range=custom&from=%d&to=%d' % (lo, lo + 20))
    got = points(b, 'chart-calls', 'calls')
    want = {i: len(in_slice(calls, lo + i, lo + i + 1)) for i in range(20)}
    check(span == [lo, lo + 20, 1] and got == want, 'custom range %s: calls per second %s, truth %s' % (span, got, want))
    # the worst callee by failures heads its table, and its row lists its calls
    fails = {}
    for c in calls:
        fails.setdefault(c['to_user'], [0, 0])
        fails[c['to_user']][0] += 0 if OUTCOME_KPI[c['outcome']][1] else 1
        fails[c['to_user']][1] += 1
    worst = sorted(fails, key=lambda u: (-fails[u][0], -fails[u][1], u))[0]
    open_dashboard(b, base)
    rows = b.find_all('#top-callee tbody tr')
    check(rows and b.attr(rows[0], 'data-key') == worst, 'the worst callee by failures heads the table: %s'
          % worst)
    if rows:
        b.click(b.find('#top-callee tbody tr:first-child a'))
        want = sorted(ids[c['call_id']] for c in calls if c['to_user'] == worst)
        got = listed(b)
        check(got == want, 'its row lists its %d calls: %s, truth %s' % (len(want), got, want))
    # and a domain's row (the To URI's host) lists the calls to that domain
    open_dashboard(b, base)
    rows = b.find_all('#top-domain tbody tr')
    check(bool(rows), 'the worst domains are listed')
    if rows:
        key = b.attr(rows[0], 'data-key')
        b.click(b.find('#top-domain tbody tr:first-child a'))
        want = sorted(ids[c['call_id']] for c in calls if c['to_domain'] == key)
        got = listed(b)
        check(want and got == want, 'the domain %s\'s row lists its %d calls: %s, truth %s' % (key, len(want), got, want))


def live(check, b, base, exe, db, tmp, truth):
    """A second capture stored while the page is open shows at the next poll, once."""
    span = open_dashboard(b, base, '?poll=1')  # a poll a second, not every 5 s: a faster test
    if span is None:
        return check(False, 'the dashboard loads again')
    frm, to, step = span
    drawn = int(b.run("return document.getElementById('main').dataset.drawn"))
    pcap = os.path.join(tmp, 'more.pcap')
    more = generate('calls', pcap, os.path.join(tmp, 'more.json'), '--calls', '4', '--duration', '1',
                    '--gap-ms', '1000', '--start', str(T0 + 10), '--seed', '7', '--callees', '2')
    subprocess.run([exe, 'analyze', '--no-progress', '--db', db, pcap], check=True, capture_output=True)
    total = len(truth['calls']) + len(more['calls'])
    t = time.monotonic()
    got = b.wait("return [...document.querySelectorAll(\"#chart-calls g.series[data-series='calls'] circle.pt\")]"
                 ".reduce((a, c) => a + Number(c.dataset.v), 0) === arguments[0]", 15, total)
    check(got, 'the calls chart counts %d calls after the second capture, without a reload (%.1f s)'
          % (total, time.monotonic() - t))
    step_k = (T0 + 10 - frm) // step
    want = len(in_slice(truth['calls'] + more['calls'], frm + step_k * step, frm + (step_k + 1) * step))
    check(points(b, 'chart-calls', 'calls').get(step_k) == want, 'its step %d counts %d' % (step_k, want))
    after = int(b.run("return document.getElementById('main').dataset.drawn"))
    check(after > drawn, 'drawn again for the new calls (%d then %d)' % (drawn, after))
    # two polls later (the second began after the first ended): nothing new, nothing drawn
    polls = int(b.run("return document.getElementById('main').dataset.polls"))
    check(b.wait("return Number(document.getElementById('main').dataset.polls) >= arguments[0]", 15, polls + 2)
          and int(b.run("return document.getElementById('main').dataset.drawn")) == after,
          'polls that find nothing new redraw nothing')


def main(exe, shot=None):
    if not webdriver.available():
        return skip('chromium or chromedriver not installed')
    check = Checks()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'd.pcap')
        truth = generate('calls', pcap, os.path.join(tmp, 'd.json'), '--calls', '120', '--duration', '1',
                         '--gap-ms', '500', '--start', str(T0), '--outcomes', OUTCOMES, '--callees', '4',
                         '--loss', '0.03')
        db = os.path.join(tmp, 'd.db')
        j = analyze(exe, pcap, '--db', db)
        ids = {c['call_id']: c['id'] for c in j['calls']}
        check(len(ids) == len(truth['calls']), 'the analysis found the %d calls written' % len(truth['calls']))
        srv = subprocess.Popen([exe, 'serve', '--db', db, '--listen', '127.0.0.1:0'], stderr=subprocess.PIPE,
                               text=True)
        port = int(srv.stderr.readline().split()[-1])
        base = 'http://127.0.0.1:%d' % port
        b = webdriver.Browser(1300, 1100)
        try:
            run(check, b, base, truth, ids, shot)
            if not shot:
                live(check, b, base, exe, db, tmp, truth)
            check(b.alert_text() is None, 'no alert opened')
        finally:
            b.close()
            srv.send_signal(signal.SIGTERM)
            srv.wait(timeout=30)
            srv.stderr.close()
    print('dashboard: %.1f s' % (time.monotonic() - t0))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
