#!/usr/bin/env python3
"""A real proxy's SIP on the wire and in its own HEP trace (issue 21), on loopback.

Kamailio (Debian's package) relays calls statefully from a sipp UAC to a sipp UAS that
stays silent for 1.2 s after each INVITE, so Kamailio re-sends the INVITE (tm's Timer A);
siptrace (trace_mode 1) mirrors every SIP message Kamailio sends or receives as HEPv3 to
a collector, as beside a SPAN port. dumpcap records loopback twice at once: everything,
and the same without the HEP. sipscope reads both captures alike: in the first, every HEP
copy is dropped (capture.duplicates) and the SIP messages, retransmissions and "sent N
times" are the wire's. The truth is tshark's: the HEP packets it sees, the SIP messages
on the wire, and the wire messages whose bytes and addresses repeat an earlier one (the
resends).

Skipped (77) without kamailio, sipp or dumpcap/tshark, or without the right to capture.

Usage: test_hep_kamailio.py PATH/TO/sipscope"""
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from sstest import Checks, analyze, skip  # noqa: E402

NET = '127.0.21.'  # a /24 of loopback of its own: other tests' traffic stays out
PROXY, UAC, UAS, COLLECTOR = NET + '1', NET + '2', NET + '3', NET + '9'
CALLS = 3

CFG = '''#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:%(proxy)s:25070
mpath="%(mpath)s"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "siptrace.so"
modparam("siptrace", "duplicate_uri", "sip:%(collector)s:9060")
modparam("siptrace", "hep_mode_on", 1)
modparam("siptrace", "hep_version", 3)
modparam("siptrace", "trace_mode", 1)
modparam("siptrace", "trace_to_database", 0)
modparam("siptrace", "trace_on", 1)
request_route {
    rewritehostport("%(uas)s:25080");
    t_relay();
    exit;
}
'''

RESPONSE = '''
    <![CDATA[

      SIP/2.0 %s
      [last_Via:]
      [last_From:]
      [last_To:]%s
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
'''
TAG = ';tag=[pid]SIPpTag01[call_number]'
UAS_XML = ('<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
           '<scenario name="slow uas">\n  <recv request="INVITE" crlf="true"></recv>\n'
           '  <pause milliseconds="1200"/>\n  <send>%s</send>\n  <send retrans="500">%s</send>\n'
           '  <recv request="ACK" crlf="true"></recv>\n  <recv request="BYE"></recv>\n  <send>%s</send>\n'
           '  <timewait milliseconds="1000"/>\n</scenario>\n'
           % (RESPONSE % ('180 Ringing', TAG), RESPONSE % ('200 OK', TAG), RESPONSE % ('200 OK', '')))


def collector(stop):
    """Takes the HEP packets in, so that no ICMP error answers them."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((COLLECTOR, 9060))
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                s.recv(65535)
            except socket.timeout:
                pass


def tshark_rows(pcap, flt, fields):
    out = subprocess.run(['tshark', '-r', pcap, '-Y', flt, '-T', 'fields', *sum((['-e', f] for f in fields), [])],
                         check=True, capture_output=True, text=True).stdout
    return [line.split('\t') for line in out.splitlines()]


def main(exe):
    check = Checks()
    mods = glob.glob('/usr/lib*/*/kamailio/modules/siptrace.so') + glob.glob('/usr/lib*/kamailio/modules/siptrace.so')
    missing = [t for t in ('kamailio', 'sipp', 'dumpcap', 'tshark') if not shutil.which(t)]
    if missing or not mods:
        return skip('%s not installed' % (' '.join(missing) or 'kamailio siptrace module'))
    if os.geteuid() != 0:
        return skip('not root (dumpcap on lo)')
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, 'k.cfg'), 'w').write(CFG % dict(proxy=PROXY, uas=UAS, collector=COLLECTOR,
                                                               mpath=os.path.dirname(mods[0]) + '/'))
        open(os.path.join(tmp, 'uas.xml'), 'w').write(UAS_XML)
        os.mkdir(os.path.join(tmp, 'run'))
        both, wire = os.path.join(tmp, 'both.pcap'), os.path.join(tmp, 'wire.pcap')
        stop = threading.Event()
        th = threading.Thread(target=collector, args=(stop,))
        th.start()
        procs = []
        log = open(os.path.join(tmp, 'log'), 'w')
        try:
            for f, flt in ((both, 'net %s0/24' % NET), (wire, 'net %s0/24 and not udp port 9060' % NET)):
                procs.append(subprocess.Popen(['dumpcap', '-q', '-P', '-i', 'lo', '-f', flt, '-w', f],
                                              stdout=log, stderr=log))
            procs.append(subprocess.Popen(['kamailio', '-f', os.path.join(tmp, 'k.cfg'), '-DD', '-E',
                                           '-Y', os.path.join(tmp, 'run'), '-P', os.path.join(tmp, 'run', 'k.pid')],
                                          stdout=log, stderr=log))
            time.sleep(2)
            uas = subprocess.Popen(['sipp', '-sf', os.path.join(tmp, 'uas.xml'), '-i', UAS, '-p', '25080',
                                    '-m', str(CALLS), '-nostdin'], cwd=tmp, stdout=log, stderr=log)
            procs.append(uas)
            time.sleep(0.5)
            rc = subprocess.run(['sipp', PROXY + ':25070', '-sn', 'uac', '-i', UAC, '-p', '25060', '-m', str(CALLS),
                                 '-r', '2', '-d', '500', '-nostdin'], cwd=tmp, stdout=log, stderr=log,
                                timeout=60).returncode
            check(rc == 0, 'sipp uac: %d calls through kamailio (exit %s)' % (CALLS, rc))
            check(uas.wait(timeout=30) == 0, 'sipp uas: every call answered')
            time.sleep(1)
        finally:
            for p in reversed(procs):
                if p.poll() is None:
                    p.terminate()
                    p.wait(timeout=10)
            stop.set()
            th.join()
        # tshark's truth, per capture: the HEP copies, the wire's SIP, the wire's resends
        # (same bytes and addresses as an earlier message), Kamailio's INVITEs per call
        heps = len(tshark_rows(both, 'udp.dstport == 9060', ['frame.number']))
        for name, f, dups in (('wire', wire, 0), ('wire + HEP', both, heps)):
            rows = tshark_rows(f, 'sip && !(udp.port == 9060)', ['ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport',
                                                                 'udp.payload', 'sip.Call-ID', 'sip.Method'])
            seen, resends, invites = set(), {}, {}
            for r in rows:
                k = tuple(r[:5])
                resends[r[5]] = resends.get(r[5], 0) + (k in seen)
                seen.add(k)
                if r[6] == 'INVITE' and r[0] == PROXY:
                    invites[r[5]] = invites.get(r[5], 0) + 1
            if f == both:
                check(heps == len(rows) > 0, 'tshark: %d HEP copies of %d SIP messages on the wire' % (heps, len(rows)))
            check(sum(resends.values()) >= CALLS, '%s: tshark: %d resends on the wire (Timer A)'
                  % (name, sum(resends.values())))
            j = analyze(exe, f)
            c = j['capture']
            check(c['duplicates'] == dups, '%s: %s copies dropped, tshark %d' % (name, c['duplicates'], dups))
            check(c['sip_messages'] == len(rows), '%s: %s SIP messages, tshark %d on the wire'
                  % (name, c['sip_messages'], len(rows)))
            got = {x['call_id']: x['retransmissions'] for x in j['calls']}
            check(got == resends, '%s: retransmissions per call %s, tshark %s' % (name, got, resends))
            said = [(x, re.search(r'INVITE sent (\d+) times from ' + re.escape(PROXY), i['summary']), i['summary'])
                    for x in j['calls'] for i in x['issues']]
            said = [(x, m, t) for x, m, t in said if m]
            check(len(said) == len(invites), '%s: %d calls say how often Kamailio sent the INVITE' % (name, len(said)))
            for x, m, summary in said:
                check(int(m.group(1)) == invites.get(x['call_id']), '%s: %s says "%s", tshark %s INVITEs'
                      % (name, x['call_id'], summary, invites.get(x['call_id'])))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
