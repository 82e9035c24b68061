#!/usr/bin/env python3
"""A real attack tool we did not write against a real registrar, captured live: SIPVicious
(Debian's sipvicious: svmap, svwar, svcrack) against Kamailio, which answers OPTIONS,
challenges REGISTER for extensions 100-199 and refuses the others with 404. While
`sipscope capture -i lo` runs, svmap looks for the server, svwar enumerates extensions
90-250 and svcrack guesses the password of 100 fifteen times. sipscope must name what each
did: sip_scan for svmap and svwar (svwar's by the extensions it swept, within 5 % of the
161 tried), auth_brute_force for svcrack with its 15 refused guesses and account 100.

Everything runs in a network namespace of its own, on its loopback: nothing reaches
another address and no port of another test is in the way. svwar and svcrack bind no
chosen address (their -b is ignored), so each tool's source address is set by a local
route's preferred source for the registrar's address: each tool comes from its own /24,
as three attackers would.

Skipped (77) without sipvicious, kamailio or ip, or without root (a namespace).

Usage: test_sipvicious.py PATH/TO/sipscope"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from sstest import Checks, poll, skip  # noqa: E402

KAM, PORT = '127.0.28.1', 25280
SOURCES = {'svmap': '127.0.29.2', 'svwar': '127.0.30.2', 'svcrack': '127.0.31.2'}
EXT_LO, EXT_HI, GUESSES = 90, 250, 15

CFG = '''#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:%(kam)s:%(port)d
mpath="%(mpath)s"
loadmodule "pv.so"
loadmodule "sl.so"
loadmodule "auth.so"
request_route {
    if ($rm != "REGISTER" && $rm != "INVITE") {
        sl_send_reply("200", "OK");
        exit;
    }
    if (!($tU =~ "^1[0-9][0-9]$")) {
        sl_send_reply("404", "Not Found");
        exit;
    }
    if (!pv_www_authenticate("$td", "Long-Random-9f3b-never-guessed", "0")) {
        www_challenge("$td", "0");
        exit;
    }
    sl_send_reply("200", "OK");
    exit;
}
'''


def main(exe):
    mods = glob.glob('/usr/lib*/*/kamailio/modules/auth.so') + glob.glob('/usr/lib*/kamailio/modules/auth.so')
    missing = [t for t in ('svmap', 'svwar', 'svcrack', 'kamailio', 'ip') if not shutil.which(t)]
    if missing or not mods:
        return skip('%s not installed' % (' '.join(missing) or 'kamailio auth module'))
    if os.geteuid() != 0:
        return skip('not root (a network namespace)')
    check = Checks()
    ns = 'sipscope-sec-%d' % os.getpid()
    inns = ['ip', 'netns', 'exec', ns]
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, 'k.cfg'), 'w').write(CFG % dict(kam=KAM, port=PORT, mpath=os.path.dirname(mods[0]) + '/'))
        os.mkdir(os.path.join(tmp, 'run'))
        log = open(os.path.join(tmp, 'log'), 'w')
        env = dict(os.environ, HOME=tmp)  # sipvicious keeps its sessions under ~/.sipvicious
        procs, cap = [], None
        subprocess.run(['ip', 'netns', 'add', ns], check=True)
        try:
            subprocess.run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'], check=True)
            procs.append(subprocess.Popen(inns + ['kamailio', '-f', os.path.join(tmp, 'k.cfg'), '-DD', '-E', '-Y',
                                                  os.path.join(tmp, 'run'), '-P', os.path.join(tmp, 'run', 'k.pid')],
                                          stdout=log, stderr=log))
            listening = lambda: ':%04X' % PORT in subprocess.run(inns + ['cat', '/proc/net/udp'], capture_output=True,
                                                                 text=True).stdout
            check(poll(listening, deadline=30), 'kamailio listens on %s:%d' % (KAM, PORT))
            cap = subprocess.Popen(inns + [exe, 'capture', '-i', 'lo', '-f', 'udp port %d' % PORT, '--json'],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = ''
            while cap.poll() is None and 'capturing' not in line:
                line = cap.stderr.readline()
            check('capturing' in line, 'capture started: %s' % line.strip())
            for tool, args in (('svmap', ['-p', str(PORT), KAM]),
                               ('svwar', ['-p', str(PORT), '-e', '%d-%d' % (EXT_LO, EXT_HI), KAM]),
                               ('svcrack', ['-p', str(PORT), '-u', '100', '-r', '1-%d' % GUESSES, KAM])):
                # this tool's packets to the registrar leave from its own address
                subprocess.run(['ip', '-n', ns, 'route', 'replace', 'local', KAM, 'dev', 'lo', 'src', SOURCES[tool],
                                'table', 'local'], check=True)
                r = subprocess.run(inns + [tool, '-P', str(PORT + 1 + len(tool)), *args], env=env, cwd=tmp,
                                   stdout=log, stderr=log, timeout=120)
                check(r.returncode == 0, '%s ran (exit %d)' % (tool, r.returncode))
            cap.send_signal(2)
            out, err = cap.communicate(timeout=60)
            check(cap.returncode == 0, 'capture ends on SIGINT (%s) %s' % (cap.returncode, err[-300:]))
        finally:
            if cap and cap.poll() is None:
                cap.kill()
                cap.wait()
            for p in procs:
                if p.poll() is None:
                    p.terminate()
                    p.wait(timeout=10)
            subprocess.run(['ip', 'netns', 'del', ns])
        j = json.loads(out)
        got = {(i['kind'], i['evidence'].get('source')): i for i in j['issues']
               if i['kind'] in ('sip_scan', 'auth_brute_force')}
        print('security issues: %s' % sorted(got))
        check(('sip_scan', SOURCES['svmap']) in got, 'svmap: sip_scan from %s' % SOURCES['svmap'])
        war = got.get(('sip_scan', SOURCES['svwar']))
        n = EXT_HI - EXT_LO + 1
        check(war is not None and abs(war['evidence']['targets'] - n) <= 0.05 * n + 2,
              'svwar: sip_scan from %s over ~%d extensions: %s' % (SOURCES['svwar'], n, war and war['evidence']))
        crack = got.get(('auth_brute_force', SOURCES['svcrack']))
        check(crack is not None and crack['evidence']['failed'] >= GUESSES and
              crack['evidence']['accounts_sample'] == ['100'] and crack['evidence']['succeeded'] == 0,
              'svcrack: auth_brute_force from %s, %d refused guesses at 100: %s'
              % (SOURCES['svcrack'], GUESSES, crack and crack['evidence']))
        check(('auth_brute_force', SOURCES['svwar']) not in got and ('auth_brute_force', SOURCES['svmap']) not in got,
              'no guessing said of svmap or svwar (they sent no credentials)')
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
