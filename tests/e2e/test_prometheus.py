#!/usr/bin/env python3
"""packaging/: the Prometheus rules and the Grafana dashboard against a real Prometheus
(Debian's `prometheus` package) scraping a running `sipscope analyze --serve`.

- `promtool check rules` accepts packaging/prometheus/sipscope.rules.yml and finds every
  rule in it; `promtool test rules` runs its unit test (series worked by hand);
- a Prometheus started here on a loopback port, with a temporary configuration (1 s scrape
  and evaluation), scrapes `analyze --serve` on a generated capture (tests/gen/sipgen.py
  calls: answered, busy and cancelled outcomes); through its HTTP API (/api/v1/query) our
  series come back, and recording rules give the generator's truth: the ASR
  (answered / calls with an outcome), the number of calls with an outcome, the mean PDD of
  the calls that rang; every rule evaluates without error (/api/v1/rules);
- every series name the rules and the dashboard use is one /metrics exposes or a recording
  rule defines, and every dashboard query is valid PromQL that Prometheus runs.

Usage: test_prometheus.py PATH/TO/sipscope"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from sstest import Checks, generate, poll, skip  # noqa: E402

RULES = os.path.join(ROOT, 'packaging', 'prometheus', 'sipscope.rules.yml')
RULES_TEST = os.path.join(ROOT, 'packaging', 'prometheus', 'sipscope.rules.test.yml')
DASHBOARD = os.path.join(ROOT, 'packaging', 'grafana', 'sipscope.json')
OUTCOMES = 'answered,busy,answered,cancelled,answered'


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get_json(url):
    try:
        return json.loads(urllib.request.urlopen(url, timeout=10).read())
    except (OSError, ValueError):
        return None


def query(port, expr):
    """Prometheus's instant query: the result list, or None when it failed."""
    d = get_json('http://127.0.0.1:%d/api/v1/query?%s' % (port, urllib.parse.urlencode({'query': expr})))
    return d['data']['result'] if d and d.get('status') == 'success' else None


def one_value(port, expr):
    r = query(port, expr)
    return float(r[0]['value'][1]) if r and len(r) == 1 else None


def rule_names():
    text = open(RULES).read()
    return re.findall(r'^\s*- record: (\S+)', text, re.M), re.findall(r'^\s*- alert: (\S+)', text, re.M)


def series_names(expr):
    """The sipscope series an expression reads (metric and recording-rule names)."""
    return set(re.findall(r'\b(sipscope[a-z0-9_:]*)', expr))


def exposed(metrics_text):
    """Every series name /metrics exposes, histograms' _bucket, _sum and _count included."""
    names = set()
    for name, kind in re.findall(r'^# TYPE (\S+) (\S+)$', metrics_text, re.M):
        names.add(name)
        if kind == 'histogram':
            names |= {name + '_bucket', name + '_sum', name + '_count'}
    return names


def promtool_checks(check):
    records, alerts = rule_names()
    r = subprocess.run(['promtool', 'check', 'rules', RULES], capture_output=True, text=True, timeout=60)
    m = re.search(r'SUCCESS: (\d+) rules found', r.stdout)
    check(r.returncode == 0 and m and int(m.group(1)) == len(records) + len(alerts),
          'promtool check rules: %d rules (%s)' % (len(records) + len(alerts), (r.stdout + r.stderr)[-300:]))
    r = subprocess.run(['promtool', 'test', 'rules', os.path.basename(RULES_TEST)], capture_output=True,
                       text=True, timeout=60, cwd=os.path.dirname(RULES_TEST))
    check(r.returncode == 0 and 'SUCCESS' in r.stdout, 'promtool test rules passes (%s)' % (r.stdout + r.stderr)[-600:])


def main(exe):
    if not shutil.which('prometheus') or not shutil.which('promtool'):
        return skip('prometheus and promtool (Debian package prometheus) are not installed')
    check = Checks()
    started = time.monotonic()
    promtool_checks(check)
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'c.pcap')
        truth = generate('calls', pcap, os.path.join(tmp, 'c.json'), '--calls', '20', '--duration', '2',
                         '--concurrency', '5', '--outcomes', OUTCOMES)
        ss = subprocess.Popen([exe, 'analyze', '--no-progress', '--db', os.path.join(tmp, 'c.db'),
                               '--serve', '127.0.0.1:0', pcap], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        prom = None
        try:
            m = re.search(r'on port (\d+)', ss.stderr.readline())
            if not check(m is not None, 'analyze --serve started'):
                return check.done()
            sport = int(m.group(1))
            metrics_url = 'http://127.0.0.1:%d/metrics' % sport

            def analysed():
                t = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
                n = sum(float(v) for v in re.findall(r'^sipscope_calls_total\{[^}]*\} (\S+)$', t, re.M))
                return t if n == len(truth['calls']) else None
            metrics_text = poll(analysed, deadline=60)
            if not check(metrics_text, 'the analysis ended its %d calls' % len(truth['calls'])):
                return check.done()
            pport = free_port()
            conf = os.path.join(tmp, 'prometheus.yml')
            with open(conf, 'w') as f:
                f.write('global: {scrape_interval: 1s, evaluation_interval: 1s}\n'
                        'rule_files: [%s]\n'
                        'scrape_configs:\n'
                        '  - job_name: sipscope\n'
                        '    static_configs: [{targets: ["127.0.0.1:%d"]}]\n' % (json.dumps(os.path.abspath(RULES)), sport))
            prom = subprocess.Popen(['prometheus', '--config.file', conf, '--storage.tsdb.path',
                                     os.path.join(tmp, 'tsdb'), '--web.listen-address', '127.0.0.1:%d' % pport,
                                     '--log.level', 'warn'], stdout=subprocess.DEVNULL,
                                    stderr=open(os.path.join(tmp, 'prom.log'), 'w'))
            live_checks(check, pport, truth, metrics_text)
        finally:
            for p in (prom, ss):
                if p and p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        p.kill()
            if prom and check.failed:
                print(open(os.path.join(tmp, 'prom.log')).read()[-2000:])
    print('took %.1f s' % (time.monotonic() - started))
    return check.done()


def live_checks(check, pport, truth, metrics_text):
    calls = truth['calls']
    answered = sum(1 for c in calls if c['outcome'] == 'answered')
    rang = [(c['ringing_ns'] - c['invite_ns']) / 1e9 for c in calls if c.get('ringing_ns')]
    # the recording rule that needs our series and another rule: once it has a value, the
    # scrape and two evaluations happened
    asr = poll(lambda: one_value(pport, 'sipscope:asr:ratio'), deadline=60)
    check(asr is not None and abs(asr - answered / len(calls)) < 1e-9,
          'sipscope:asr:ratio %s is the generator\'s %d answered of %d' % (asr, answered, len(calls)))
    n = one_value(pport, 'sipscope:calls_decided:total')
    check(n == len(calls), 'sipscope:calls_decided:total %s: the generator\'s %d calls' % (n, len(calls)))
    r = query(pport, 'sipscope_calls_total{job="sipscope"}')
    by_state = {x['metric']['state']: float(x['value'][1]) for x in r or []}
    check(by_state.get('busy') == sum(1 for c in calls if c['outcome'] == 'busy'),
          'our series through Prometheus: calls by state %s' % {k: v for k, v in by_state.items() if v})
    pdd = one_value(pport, 'sipscope:pdd_seconds:mean')
    want = sum(rang) / len(rang) if rang else None
    check(pdd is not None and want is not None and abs(pdd - want) < 1e-4,
          'sipscope:pdd_seconds:mean %s is the generator\'s mean PDD %s' % (pdd, want))
    check(one_value(pport, 'sipscope_up') == 1, 'sipscope_up through Prometheus')

    records, alerts = rule_names()
    rules = get_json('http://127.0.0.1:%d/api/v1/rules' % pport)
    got = {r['name']: r for g in (rules or {}).get('data', {}).get('groups', []) for r in g['rules']}
    check(set(got) == set(records) | set(alerts), 'Prometheus loaded every rule (%d)' % len(got))
    # rules evaluate every second: wait for one evaluation of each after the first scrape
    poll(lambda: all(r.get('lastEvaluation', '').startswith('2') and r.get('health') == 'ok'
                     for r in fetch_rules(pport).values()), deadline=10)
    bad = {k: r.get('lastError') for k, r in fetch_rules(pport).items() if r.get('health') != 'ok'}
    check(not bad, 'every rule evaluates without error (%s)' % bad)

    have = exposed(metrics_text) | set(records)
    used = set()
    for expr in re.findall(r'^\s*expr: (.+)$', open(RULES).read(), re.M):
        used |= series_names(expr)
    check(used - {'sipscope'} <= have, 'the rules read only series /metrics exposes or rules record (not %s)'
          % sorted(used - have))
    dashboard_checks(check, pport, have)


def fetch_rules(pport):
    rules = get_json('http://127.0.0.1:%d/api/v1/rules' % pport) or {}
    return {r['name']: r for g in rules.get('data', {}).get('groups', []) for r in g['rules']}


def dashboard_checks(check, pport, have):
    d = json.load(open(DASHBOARD))
    exprs = [t['expr'] for p in d['panels'] for t in p.get('targets', [])]
    check(len(exprs) >= 10, 'the dashboard has its queries (%d)' % len(exprs))
    for v in d['templating']['list']:
        if v.get('type') == 'query':
            exprs.append(v['query'].replace('label_values(', 'count by (instance) (').replace(', instance)', ')'))
    unknown, invalid = set(), []
    for e in exprs:
        unknown |= series_names(e) - have
        q = e.replace('$instance', '.*').replace('$__rate_interval', '1m')
        if query(pport, q) is None:
            invalid.append(q)
    check(not unknown, 'the dashboard reads only series that exist (not %s)' % sorted(unknown))
    check(not invalid, 'Prometheus runs every dashboard query (not %s)' % invalid)
    shown = {}
    for e in exprs:
        for n in series_names(e):
            shown[n] = True
    check(any(n.startswith('sipscope:') for n in shown) and 'sipscope:asr:ratio_rate5m' in shown,
          'the dashboard uses the recording rules')


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
