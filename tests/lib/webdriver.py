"""A small W3C WebDriver client (standard library only) for the browser tests: it starts
Debian's chromedriver with headless Chromium and speaks the protocol's JSON over HTTP.
Only what the tests use: open a page, find elements, click, type keys, read text, run a
script, take screenshots, see whether an alert opened."""
import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

ELEMENT = 'element-6066-11e4-a52e-4f735466cecf'  # the W3C element key (WebDriver §12.1)
KEYS = {'down': '\ue015', 'up': '\ue013', 'home': '\ue011', 'end': '\ue010', 'enter': '\ue007'}


def available():
    return shutil.which('chromedriver') and (shutil.which('chromium') or os.path.exists('/usr/bin/chromium'))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class WebDriverError(Exception):
    pass


class Browser:
    def __init__(self, width=1400, height=1000):
        self.port = free_port()
        self.proc = subprocess.Popen(['chromedriver', '--port=%d' % self.port], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.base = 'http://127.0.0.1:%d' % self.port
        for _ in range(100):
            try:
                self._call('GET', '/status')
                break
            except (OSError, WebDriverError):
                time.sleep(0.1)
        caps = {'capabilities': {'alwaysMatch': {
            'browserName': 'chrome',
            'goog:chromeOptions': {'binary': shutil.which('chromium') or '/usr/bin/chromium',
                                   'args': ['--headless=new', '--no-sandbox', '--disable-gpu',
                                            '--disable-dev-shm-usage', '--window-size=%d,%d' % (width, height)]}}}}
        self.session = self._call('POST', '/session', caps)['sessionId']

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                out = json.loads(r.read())
        except urllib.error.HTTPError as e:
            out = json.loads(e.read() or b'{}')
            raise WebDriverError(out.get('value', {}).get('error', str(e)))
        return out.get('value', out)

    def _s(self, method, path, body=None):
        return self._call(method, '/session/%s%s' % (self.session, path), body)

    def open(self, url):
        self._s('POST', '/url', {'url': url})

    def find_all(self, css):
        return [e[ELEMENT] for e in self._s('POST', '/elements', {'using': 'css selector', 'value': css})]

    def find(self, css):
        return self._s('POST', '/element', {'using': 'css selector', 'value': css})[ELEMENT]

    def click(self, el):
        self._s('POST', '/element/%s/click' % el, {})

    def text(self, el):
        return self._s('GET', '/element/%s/text' % el)

    def attr(self, el, name):
        return self._s('GET', '/element/%s/attribute/%s' % (el, name))

    def keys(self, el, text):
        self._s('POST', '/element/%s/value' % el, {'text': text})

    def run(self, script, *args):
        return self._s('POST', '/execute/sync', {'script': script, 'args': list(args)})

    def wait(self, script, timeout=20, *args):
        """Polls a script until it returns something true; returns that, or None."""
        end = time.time() + timeout
        while time.time() < end:
            v = self.run(script, *args)
            if v:
                return v
            time.sleep(0.1)
        return None

    def alert_text(self):
        """The text of an open alert, or None when none is open."""
        try:
            return self._s('GET', '/alert/text')
        except WebDriverError:
            return None

    def screenshot(self, path, el=None):
        if el:
            self.run("arguments[0].scrollIntoView({block: 'start'})", {ELEMENT: el})
        png = self._s('GET', '/element/%s/screenshot' % el if el else '/screenshot')
        with open(path, 'wb') as f:
            f.write(base64.b64decode(png))

    def close(self):
        try:
            self._s('DELETE', '')
        except (OSError, WebDriverError):
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
