#!/usr/bin/env python3
"""What real audio raises (issue 24) on ../shared/corpus, against tshark: a call whose
signaling offered T.38 (an `image` m-line, RFC 3362) that was refused (a 4xx/5xx/6xx to
that INVITE, as tshark dissects it) while the call's RTP carried a fax tone raises `fax`
(info) with `t38: "offered, not accepted"` — heplify_fax_t38, whose re-INVITE to T.38 was
answered 488 after the called fax's CED; and no capture raises `fax` for a call that
offered no T.38 refused, nor `false_answer`, `clipping` or `audio_level`: real UAs' audio
(sipp's recorded g711a, the fax's tones) is no false finding.

Usage: test_corpus_heard.py PATH/TO/sipscope    (SIPSCOPE_CORPUS names the corpus; skips
with exit 77 when it is absent)"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, corpus, skip  # noqa: E402

NEW = ('false_answer', 'clipping', 'audio_level', 'fax')


def t38_refused(pcap):
    """Call-IDs whose INVITE offering T.38 got a final failure, by tshark's dissection
    (run only on captures that hold an image m-line's text at all: tshark is the slow part)."""
    with open(pcap, 'rb') as f:
        if b'm=image' not in f.read():
            return set()
    out = subprocess.run(['tshark', '-r', pcap, '-Y', 'sip', '-T', 'fields', '-E', 'occurrence=a',
                          '-e', 'sip.Call-ID', '-e', 'sip.CSeq', '-e', 'sip.Status-Code', '-e', 'sdp.media'],
                         check=True, capture_output=True, text=True).stdout
    offers, refused = set(), set()
    for line in out.splitlines():
        cid, cseq, code, media = (line.split('\t') + [''] * 4)[:4]
        if 'image' in media and 'INVITE' in cseq and not code:
            offers.add((cid, cseq))
        elif code and int(code.split(',')[0]) >= 400 and (cid, cseq) in offers:
            refused.add(cid)
    return refused


def main(exe):
    c = corpus()
    if not c:
        return skip('SIPSCOPE_CORPUS is not set or has no pcap/')
    if not shutil.which('tshark'):
        return skip('tshark is not installed')
    check = Checks()
    root, names = c
    seen_fax = 0
    for name in names:
        pcap = os.path.join(root, 'pcap', name)
        refused = t38_refused(pcap)
        j = analyze(exe, pcap)
        cid = {x['id']: x['call_id'] for x in j['calls']}
        for i in j['issues']:
            if i['kind'] not in NEW:
                continue
            ok = i['kind'] == 'fax' and cid.get(i['call']) in refused
            check(ok, '%s: %s on %s (%s): T.38 refused in %s' % (name, i['kind'], i['call'], i['summary'], refused))
            if ok:
                seen_fax += 1
                check(i['severity'] == 'info' and i['evidence'].get('t38') == 'offered, not accepted',
                      '%s: fax evidence %s' % (name, i['evidence']))
        # the legs of one B2BUA share the media: the fax is raised once, on the leg whose
        # endpoints the RTP matched
        if refused:
            check(any(i['kind'] == 'fax' and cid.get(i['call']) in refused for i in j['issues']),
                  '%s: T.38 refused in %s and no fax raised' % (name, refused))
    check(seen_fax >= 1, 'a fax whose T.38 was refused is in the corpus (heplify_fax_t38): %d' % seen_fax)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
