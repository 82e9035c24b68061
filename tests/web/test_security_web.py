#!/usr/bin/env python3
"""The security watch's surfaces on tests/gen/security.py's capture, analysed with --db
and --serve: /api/v1/issues?kind=K lists exactly the sources or accounts the generator's
truth names for each security kind; /metrics counts each kind as often; and the UI's
Security tab, in real headless Chromium, lists every one of them once, worst severity
first, with the kinds the truth gives each, the scanner's User-Agent shown as text.
The Chromium part is skipped (said aloud; a failure in CI) without chromium.

Usage: test_security_web.py PATH/TO/sipscope"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, generate, metrics, need_ci  # noqa: E402
import webdriver  # noqa: E402

KINDS = ('sip_scan', 'auth_brute_force', 'registration_hijack', 'toll_fraud_pattern')
SEV = {'info': 0, 'warning': 1, 'critical': 2}


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 's.pcap')
        truth = generate('security', pcap, os.path.join(tmp, 's.json'))
        want = {}
        for kind, key in truth['expected']:
            want.setdefault(kind, set()).add(key)
        srv = subprocess.Popen([exe, 'analyze', '--no-progress', '--db', os.path.join(tmp, 's.db'), '--serve',
                                '127.0.0.1:0', pcap], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            port = None
            for line in srv.stderr:
                m = re.search(r'done; serving on port (\d+)', line)
                if m:
                    port = int(m.group(1))
                    break
            check(port is not None, 'analyze --serve is serving')
            base = 'http://127.0.0.1:%d' % port
            api = lambda p: json.loads(urllib.request.urlopen(base + '/api/v1/' + p, timeout=30).read())
            sev = {}
            for kind in KINDS:
                got = api('issues?kind=%s&limit=500' % kind)['issues']
                # an account's guessing spread over many networks names the account, not a source
                keys = {i['registration'] if kind in KINDS[2:] else i['registration'] or i['evidence']['source']
                        for i in got}
                check(keys == want.get(kind, set()), '/api/v1/issues?kind=%s: %s, truth %s'
                      % (kind, sorted(keys), sorted(want.get(kind, ()))))
                check(all(i['call'] is None and i['stream'] is None for i in got), '%s: tied to no call' % kind)
                for i in got:
                    who = i['registration'] or i['evidence']['source']
                    sev[who] = max(sev.get(who, 0), SEV[i['severity']])
            mx = metrics(port)
            for kind in KINDS:
                n = mx.get('sipscope_issues_total{kind="%s"}' % kind)
                check(n == len(want.get(kind, ())), '/metrics %s: %s, truth %d' % (kind, n, len(want.get(kind, ()))))
            if need_ci(check, webdriver.available(), 'chromium'):
                ui(check, base, want, sev)
        finally:
            srv.send_signal(signal.SIGINT)
            srv.wait(timeout=30)
            srv.stderr.close()
    return check.done()


def ui(check, base, want, sev):
    kinds_of = {}
    for kind, keys in want.items():
        for k in keys:
            kinds_of.setdefault(k, set()).add(kind)
    b = webdriver.Browser()
    try:
        b.open(base + '/#/security')
        check(b.wait("return document.getElementById('main').dataset.ready === '/security'", 60),
              'the Security tab loads')
        rows = [[b.text(td) for td in b.find_all('#sec-rows tr:nth-child(%d) td' % (n + 1))]
                for n in range(len(b.find_all('#sec-rows tr')))]
        who = [r[1] for r in rows]
        check(sorted(who) == sorted(kinds_of), 'Security lists %s, truth %s' % (who, sorted(kinds_of)))
        for r in rows:
            check(set(r[2].split()) == kinds_of.get(r[1], set()), '%s did %s, truth %s'
                  % (r[1], r[2], sorted(kinds_of.get(r[1], ()))))
        ranks = [sev.get(w, -1) for w in who]
        check(ranks == sorted(ranks, reverse=True), 'worst severity first: %s' % list(zip(who, ranks)))
        scanner = next((r for r in rows if r[1] == '203.0.113.66'), None)
        check(scanner is not None and scanner[7] == 'friendly-scanner', 'the scanner\'s User-Agent shown: %s' % scanner)
    finally:
        b.close()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
