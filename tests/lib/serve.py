"""`sipscope serve` on a free loopback port, for the tests that read a database through the
API (test_pg, test_xprobe)."""
import http.client
import json
import signal
import subprocess
import urllib.parse


class Server:
    """`sipscope serve` on a free loopback port, stopped with SIGTERM."""

    def __init__(self, exe, db):
        self.p = subprocess.Popen([exe, 'serve', '--db', db, '--listen', '127.0.0.1:0'],
                                  stderr=subprocess.PIPE, text=True)
        line = self.p.stderr.readline()
        if 'port' not in line:
            raise SystemExit('serve did not start: ' + line + self.p.stderr.read())
        self.port = int(line.split()[-1])

    def get(self, path, **params):
        if params:
            path += '?' + urllib.parse.urlencode(params)
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
        c.request('GET', path)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def json(self, path, **params):
        status, data = self.get(path, **params)
        return status, json.loads(data) if status == 200 else None

    def pages(self, path, key, **params):
        """Every row of a list, 7 a page through the cursor; None when a page failed."""
        rows, cursor = [], None
        for _ in range(500):
            p = dict(params, limit=7)
            if cursor:
                p['cursor'] = cursor
            status, doc = self.json(path, **p)
            if status != 200:
                return None
            rows += doc[key]
            cursor = doc['next']
            if not cursor:
                return rows
        return None

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=30)
        self.p.stderr.close()
