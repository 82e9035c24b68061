#!/usr/bin/env python3
"""docs/openapi.yaml against a live `sipscope serve`: the description cannot drift from the
server.

The database is filled by `analyze --db` from two generated captures (tests/gen/sipgen.py
`issues` and `registrations`: calls with streams, issues, messages and spooled media, and
REGISTER flows), and the generator's truth says how many calls and registrations there are.
Then every path of the spec is called with real parameters (every parameter it lists, each
with a value taken from the data, so filters select something), plus the errors it lists,
and each answer is checked against the spec:
- the status is one the operation lists, the Content-Type one its content lists;
- a JSON body validates against the response's schema (jsonschema, draft 2020-12, the
  spec's own components), an SSE stream's events against its x-event-data schema;
- every operation was answered 200 at least once and every parameter was sent;
- the routes web/api.c and web/server.c compare paths against are exactly the spec's
  /api/v1 paths (a route added to the server and not to the spec fails), and paths the spec
  does not have answer 404; the UI files the spec lists are web/ui/'s.

Debian's python3-jsonschema and python3-yaml: when the interpreter running this lacks them
it runs itself again under /usr/bin/python3 (the suite's python3 may be another one).

Usage: test_openapi.py PATH/TO/sipscope"""
import http.client
import json
import os
import re
import sys
import tempfile
import time
import urllib.parse

try:
    import jsonschema
    import yaml
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath('/usr/bin/python3') and \
            os.path.exists('/usr/bin/python3'):
        os.execv('/usr/bin/python3', ['/usr/bin/python3', *sys.argv])
    jsonschema = yaml = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'web'))
from sstest import Checks, analyze, generate, poll, skip  # noqa: E402
from test_api import Server  # noqa: E402

SPEC = os.path.join(ROOT, 'docs', 'openapi.yaml')


class Spec:
    """The spec, its operations and a validator for any schema in it."""

    def __init__(self, path):
        self.doc = yaml.safe_load(open(path))
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)
        self.used = {}   # (path, method) -> set of parameter names sent
        self.ok = set()  # (path, method) answered 200

    def deref(self, o):
        while isinstance(o, dict) and '$ref' in o and len(o) == 1:
            o = self.resolver.resolve(o['$ref'])[1]
        return o

    def errors(self, schema, value):
        v = jsonschema.Draft202012Validator(schema, resolver=self.resolver,
                                            format_checker=jsonschema.FormatChecker())
        return ['%s at %s' % (e.message[:300], '/'.join(map(str, e.absolute_path)))
                for e in v.iter_errors(value)]

    def operation(self, path, method='get'):
        return self.doc['paths'][path][method]

    def params(self, path, method='get'):
        return {p['name']: p for p in map(self.deref, self.operation(path, method).get('parameters', []))}


def fill(template, values):
    return re.sub(r'\{(\w+)\}', lambda m: urllib.parse.quote(values[m.group(1)], safe=''), template)


class Caller:
    """Calls one operation of the spec and checks the answer against it."""

    def __init__(self, check, spec, srv):
        self.check, self.spec, self.srv = check, spec, srv

    def __call__(self, path, pathvals=None, query=None, method='GET', headers=None, expect=200,
                 body=None):
        pathvals, query = pathvals or {}, query or {}
        op = self.spec.operation(path, 'get')
        names = self.spec.params(path)
        sent = set(pathvals) | set(query) | {h for h in (headers or {}) if h in names}
        self.spec.used.setdefault((path, 'get'), set()).update(n for n in sent if n in names)
        url = fill(path, pathvals) + ('?' + urllib.parse.urlencode(query) if query else '')
        status, hdrs, data = self.srv.get(url, method=method, headers=headers, body=body)
        what = '%s %s' % (method, url)
        self.check(status == expect, '%s answers %d (%d: %s)' % (what, expect, status, data[:200]))
        doc = self.validate(path, op, what, status, hdrs, data)
        if status == 200:
            self.spec.ok.add((path, 'get'))
        return status, hdrs, doc

    def validate(self, path, op, what, status, hdrs, data):
        resp = self.spec.deref(op['responses'].get(str(status)))
        if not self.check(resp is not None, '%s: status %d is in the spec of %s' % (what, status, path)):
            return None
        content = resp.get('content', {})
        ctype = hdrs.get('content-type', '').split(';')[0].strip()
        if not content:
            return None
        if not self.check(ctype in content, '%s: Content-Type %s is one of %s' % (what, ctype, sorted(content))):
            return None
        schema = content[ctype].get('schema')
        if ctype == 'application/json':
            try:
                doc = json.loads(data, object_pairs_hook=no_duplicates)
            except ValueError as e:
                self.check(False, '%s: the body is JSON without repeated names (%s)' % (what, e))
                return None
            errs = self.spec.errors(schema, doc)
            self.check(not errs, '%s: the body validates against the spec (%s)' % (what, errs[:3]))
            return doc
        if schema and schema.get('type') == 'string' and 'pattern' in schema:
            self.check(re.search(schema['pattern'], data.decode('utf-8', 'replace')) is not None,
                       '%s: the body matches %r' % (what, schema['pattern']))
        return data


def no_duplicates(pairs):
    names = [k for k, _ in pairs]
    dup = sorted({k for k in names if names.count(k) > 1})
    if dup:
        raise ValueError('repeated names %s' % dup)
    return dict(pairs)


def source_routes():
    """The /api/v1 routes the server's code compares request paths against."""
    api = open(os.path.join(ROOT, 'web', 'api.c')).read()
    server = open(os.path.join(ROOT, 'web', 'server.c')).read()
    top = set(re.findall(r'strcmp\(p, "([a-z0-9_./-]+)"\)', api))
    parts = set(re.findall(r'strcmp\(part, "([a-z0-9_./-]+)"\)', api))
    routes = {'/api/v1/' + t for t in top}
    if re.search(r'strncmp\(p, "calls/", 6\)', api):
        routes.add('/api/v1/calls/{id}')
    routes |= {'/api/v1/calls/{id}/' + p for p in parts}
    routes |= {u for u in re.findall(r'strcmp\(url, "(/api/v1/[a-z0-9_./]+)"\)', server)}
    return routes


def source_params():
    """The query parameters web/api.c accepts on each list route (its arrays of known names)."""
    api = open(os.path.join(ROOT, 'web', 'api.c')).read()
    arrays = {m.group(1): set(re.findall(r'"(\w+)"', m.group(2)))
              for m in re.finditer(r'static const char \*const (\w+)\[\] = \{(.*?)\};', api, re.S)}
    out = {}
    for route, name in (('/api/v1/calls', 'names'), ('/api/v1/streams', 'stream_args'),
                        ('/api/v1/registrations', 'reg_args'), ('/api/v1/issues', 'issue_args'),
                        ('/api/v1/stats', 'stats_args'), ('/api/v1/top', 'top_args')):
        out[route] = arrays.get(name, set())
    return out


def main(exe):
    if jsonschema is None:
        return skip('python3-jsonschema and python3-yaml are not installed for /usr/bin/python3')
    check = Checks()
    started = time.monotonic()
    spec = Spec(SPEC)
    check(str(spec.doc.get('openapi', '')).startswith('3.1'), 'the spec is OpenAPI 3.1')
    for name, schema in spec.doc['components']['schemas'].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
            check(True, 'schema %s is valid JSON Schema' % name)
        except jsonschema.SchemaError as e:
            check(False, 'schema %s is valid JSON Schema (%s)' % (name, e.message))
    spec_api = {p for p in spec.doc['paths'] if p.startswith('/api/v1/')}
    check(source_routes() == spec_api, 'the server\'s /api/v1 routes are the spec\'s: only in the code %s, '
          'only in the spec %s' % (sorted(source_routes() - spec_api), sorted(spec_api - source_routes())))
    kinds = re.findall(r'X\(\w+, "(\w+)"\)', open(os.path.join(ROOT, 'diagnose', 'issues.h')).read().split(
        'ISSUE_SEVERITIES')[0])
    enum = spec.doc['components']['schemas']['IssueKind']['enum']
    check(kinds and sorted(enum) == sorted(kinds), 'IssueKind is diagnose/issues.h\'s kinds: only in the code %s, '
          'only in the spec %s' % (sorted(set(kinds) - set(enum)), sorted(set(enum) - set(kinds))))
    for route, names in source_params().items():
        have = set(spec.params(route))
        check(have == names, '%s: the parameters web/api.c accepts are the spec\'s: only in the code %s, only in '
              'the spec %s' % (route, sorted(names - have), sorted(have - names)))
    ui = spec.params('/ui/{name}')['name']['schema']['enum']
    check(sorted(ui) == sorted(os.listdir(os.path.join(ROOT, 'web', 'ui'))),
          'the spec lists web/ui/\'s files (%s)' % ui)
    with tempfile.TemporaryDirectory() as tmp:
        ipcap, rpcap = os.path.join(tmp, 'i.pcap'), os.path.join(tmp, 'r.pcap')
        itruth = generate('issues', ipcap, os.path.join(tmp, 'i.json'))
        rtruth = generate('registrations', rpcap, os.path.join(tmp, 'r.json'))
        db = os.path.join(tmp, 'o.db')
        j = analyze(exe, ipcap, '--messages', '--timelines', '--db', db, '--spool-rtp', rpcap)
        srv = Server(exe, db)
        try:
            call = Caller(check, spec, srv)
            data_routes(check, call, j, itruth, rtruth)
            error_routes(check, call)
            other_routes(check, call, spec, srv, j, ui)
        finally:
            srv.stop()
    for path, item in spec.doc['paths'].items():
        check((path, 'get') in spec.ok, '%s was answered 200 and validated' % path)
        missing = set(spec.params(path)) - spec.used.get((path, 'get'), set())
        check(not missing, '%s: every parameter was sent (not %s)' % (path, sorted(missing)))
    print('took %.1f s' % (time.monotonic() - started))
    return check.done()


def data_routes(check, call, j, itruth, rtruth):
    _, _, doc = call('/api/v1/calls', query={'limit': 1000})
    calls = doc['calls']
    want = {e['call_id'] for e in itruth['scenarios'] if 'call_id' in e}
    check(len(want) >= 20 and {x['call_id'] for x in calls} == want,
          '/calls lists the generator\'s %d calls (%d)' % (len(want), len(calls)))
    c = next(x for x in calls if x['state'] == 'completed' and x['mos_min'] is not None and x['issues'])
    times = sorted(x['invite_time'] for x in calls)
    host = c['caller'].rpartition(':')[0]
    kind = c['issues'][0]['kind']
    filters = [{'from': repr(times[len(times) // 3]), 'to': repr(times[2 * len(times) // 3])},
               {'user': c['from']['user']}, {'from_user': c['from']['user']},
               {'to_user': c['to']['user']}, {'domain': c['to']['uri'].rpartition('@')[2].upper()},
               {'call_id': c['call_id']}, {'state': 'completed'},
               {'status': 200}, {'status': 4}, {'issue': kind}, {'min_mos': 4}, {'max_mos': 4.4},
               {'address': host}, {'address': c['callee']}, {'q': c['call_id'][:6]}]
    for f in filters:
        _, _, d = call('/api/v1/calls', query=f)
        check(d and d['calls'], '/calls?%s selects calls' % urllib.parse.urlencode(f))
    _, _, p1 = call('/api/v1/calls', query={'limit': 5})
    _, _, p2 = call('/api/v1/calls', query={'limit': 5, 'cursor': p1['next']})
    check(p2 and [x['id'] for x in p2['calls']] == [x['id'] for x in calls[5:10]], 'the cursor pages on')
    for x in calls:  # every call, its messages and streams
        _, _, one = call('/api/v1/calls/{id}', {'id': x['id']})
        check(one == x, '%s is the object /calls lists' % x['id'])
        call('/api/v1/calls/{id}/messages', {'id': x['id']})
        call('/api/v1/calls/{id}/streams', {'id': x['id']})
    msgs = call('/api/v1/calls/{id}/messages', {'id': c['id']})[2]['messages']
    check(len(msgs) == c['messages'], 'messages of %s: %d, the call says %d' % (c['id'], len(msgs), c['messages']))
    _, h, pcap = call('/api/v1/calls/{id}/pcap', {'id': c['id']})
    check(pcap[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'), 'the pcap starts with a pcap magic number')
    media = next(x for x in calls if x['streams'] and x['state'] == 'completed')
    _, _, wav = call('/api/v1/calls/{id}/audio.wav', {'id': media['id']})
    check(wav[:4] == b'RIFF' and wav[8:12] == b'WAVE', 'audio.wav is a WAV file')
    call('/api/v1/calls/{id}/audio.wav', {'id': media['id']}, headers={'Range': 'bytes=0-99'}, expect=206)
    call('/api/v1/calls/{id}/levels', {'id': media['id']})
    silent = next(x for x in calls if not x['streams'])
    call('/api/v1/calls/{id}/audio.wav', {'id': silent['id']}, expect=404)
    call('/api/v1/calls/{id}/levels', {'id': silent['id']}, expect=404)

    _, _, s = call('/api/v1/streams', query={'limit': 1000})
    check(len(s['streams']) == len(j['streams']), '/streams lists the analysis\'s streams')
    st = s['streams'][len(s['streams']) // 2]
    for f in [{'from': repr(st['first_time']), 'to': repr(st['first_time'] + 60)},
              {'address': st['src']}, {'limit': 3}]:
        check(call('/api/v1/streams', query=f)[2]['streams'], '/streams?%s selects streams' % f)
    # measured here, none was reported by a HEP agent: both filters select nothing
    for want in ('any', 'orphan'):
        check(call('/api/v1/streams', query={'reported': want})[2]['streams'] == [],
              '/streams?reported=%s: no stream of this capture was reported by a HEP agent' % want)
    nxt = call('/api/v1/streams', query={'limit': 3})[2]['next']
    check(call('/api/v1/streams', query={'limit': 3, 'cursor': nxt})[2]['streams'], '/streams pages on')

    _, _, r = call('/api/v1/registrations', query={'limit': 1000})
    aors = {x['aor'] for x in rtruth['registrations']} | \
        {e['registration'] for e in itruth['scenarios'] if 'registration' in e}
    check({x['aor'] for x in r['registrations']} == aors,
          '/registrations lists the generator\'s AoRs %s' % sorted(aors))
    reg = r['registrations'][0]
    for f in [{'aor': reg['aor']}, {'from': repr(reg['first_time']), 'to': repr(reg['first_time'] + 1)}]:
        check(call('/api/v1/registrations', query=f)[2]['registrations'], '/registrations?%s selects' % f)
    nxt = call('/api/v1/registrations', query={'limit': 2})[2]['next']
    call('/api/v1/registrations', query={'limit': 2, 'cursor': nxt})

    _, _, i = call('/api/v1/issues', query={'limit': 1000})
    check(len(i['issues']) == len(j['issues']), '/issues lists the analysis\'s issues')
    iss = i['issues'][0]
    for f in [{'kind': iss['kind']}, {'severity': iss['severity']},
              {'from': repr(iss['time']), 'to': repr(iss['time'] + 1)}]:
        check(call('/api/v1/issues', query=f)[2]['issues'], '/issues?%s selects issues' % f)
    nxt = call('/api/v1/issues', query={'limit': 2})[2]['next']
    call('/api/v1/issues', query={'limit': 2, 'cursor': nxt})

    _, _, stats = call('/api/v1/stats')
    t0, t1 = min(c['invite_time'] for c in calls), max(c['invite_time'] for c in calls) + 1
    series = call('/api/v1/stats', query={'from': t0, 'to': t1, 'step': (t1 - t0) / 50})[2]
    check(sum(st['calls'] for st in series['steps']) == len(calls), '/stats?from=&to=&step= counts every call')
    top = call('/api/v1/top', query={'by': 'callee', 'metric': 'asr', 'from': t0, 'to': t1,
                                     'limit': 5})[2]
    check(len(top['top']) <= 5, '/top keeps to its limit')
    check(stats['calls'] == len(calls) and stats['registrations'] == len(r['registrations']),
          '/stats counts the rows listed')


def error_routes(check, call):
    call('/api/v1/calls', query={'bogus': 1}, expect=400)
    call('/api/v1/calls', query={'state': 'nonsense'}, expect=400)
    call('/api/v1/calls', query={'limit': 'many'}, expect=400)
    call('/api/v1/calls', method='DELETE', expect=405)
    call('/api/v1/streams', query={'bogus': 1}, expect=400)
    call('/api/v1/registrations', query={'from': 'yesterday'}, expect=400)
    call('/api/v1/issues', query={'kind': 'nonsense'}, expect=400)
    call('/api/v1/issues', query={'severity': 'dire'}, expect=400)
    call('/api/v1/stats', query={'x': 1}, expect=400)
    call('/api/v1/stats', query={'from': 1}, expect=400)
    call('/api/v1/top', query={'by': 'nothing'}, expect=400)
    call('/api/v1/calls/{id}', {'id': 'call-99999'}, expect=404)
    call('/api/v1/calls/{id}', {'id': 'call-1'}, query={'x': 1}, expect=400)
    for part in ('messages', 'streams', 'pcap', 'audio.wav', 'levels'):
        call('/api/v1/calls/{id}/' + part, {'id': 'call-99999'}, expect=404)


def other_routes(check, call, spec, srv, j, ui):
    # paths the spec lacks are not routes
    for p in ('/api/v1/', '/api/v1/bottom', '/api/v1/call', '/api/v1/calls/call-1/nothing',
              '/api/v1/calls/call-1/pcap/x', '/api/v2/calls', '/api/v1/events/x', '/ui/../README.md'):
        status, _, data = srv.get(p)
        check(status == 404, '%s, not in the spec, answers 404 (%d)' % (p, status))
    status, hdrs, data = srv.get('/metrics')
    call.validate('/metrics', spec.operation('/metrics'), 'GET /metrics', status, hdrs, data)
    check(status == 200, '/metrics answers')
    spec.ok.add(('/metrics', 'get')) if status == 200 else None
    call('/')
    for name in ui:
        call('/ui/{name}', {'name': name})
    call('/ui/{name}', {'name': 'nothing.js'}, expect=404)
    events(check, call, spec, srv, len(j['calls']))


def events(check, call, spec, srv, ncalls):
    """Last-Event-ID 0: every call in the database comes as an event; each is validated."""
    op = spec.operation('/api/v1/events')
    spec.used.setdefault(('/api/v1/events', 'get'), set()).add('Last-Event-ID')
    c = http.client.HTTPConnection('127.0.0.1', srv.port, timeout=30)
    c.request('GET', '/api/v1/events', headers={'Last-Event-ID': '0'})
    r = c.getresponse()
    hdrs = dict((k.lower(), v) for k, v in r.getheaders())
    call.validate('/api/v1/events', op, 'GET /api/v1/events', r.status, hdrs, b'')
    content = spec.deref(op['responses']['200'])['content']['text/event-stream']
    schema, name = content['x-event-data'], content['x-event-name']
    got, buf = [], b''

    def more():
        nonlocal buf
        buf += r.read1(65536) if hasattr(r, 'read1') else r.fp.read1(65536)
        while b'\n\n' in buf:
            block, buf = buf.split(b'\n\n', 1)
            fields = dict(line.split(': ', 1) for line in block.decode().split('\n') if ': ' in line)
            if 'data' in fields:
                got.append(fields)
        return len(got) >= ncalls

    poll(more, deadline=30, every=0)
    c.close()
    check(r.status == 200 and len(got) == ncalls, 'events: %d call events, %d calls' % (len(got), ncalls))
    bad = [e for e in got if e.get('event') != name or not e.get('id', '').isdigit()
           or spec.errors(schema, json.loads(e['data']))]
    check(got and not bad, 'every event is a "%s" with a revision and a valid call (%d bad)' % (name, len(bad)))
    if r.status == 200:
        spec.ok.add(('/api/v1/events', 'get'))


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
