// sipscope's UI: the call list, a call (ladder, streams, issues), the issues, a dashboard,
// and the security watch's sources and accounts.
// Plain modules, no framework. Every string from the API goes through dom.js as text.
import { h, clear, fmtTime, fmtNum, mosClass } from './dom.js';
import { ladder } from './ladder.js';
import { lineChart } from './chart.js';
import { dashboard } from './dashboard.js';

const main = document.getElementById('main');

async function api(path) {
  const r = await fetch('/api/v1/' + path, { headers: { Accept: 'application/json' } });
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

function params() {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : location.hash.slice(q + 1));
}

function failed(e) {
  clear(main).append(h('p', { class: 'error', role: 'alert' }, `Error: ${e.message}`));
}

function party(p) {
  return p ? (p.display ? `${p.display} <${p.user || p.uri || ''}>` : p.user || p.uri || '') : '';
}

// ---------------------------------------------------------------- the call list

const STATES = ['', 'trying', 'ringing', 'early_media', 'answered', 'completed', 'cancelled', 'busy',
                'rejected', 'failed', 'unfinished'];
const FILTERS = [['q', 'text'], ['user', 'user'], ['call_id', 'Call-ID'], ['address', 'address'],
                 ['status', 'status'], ['issue', 'issue kind'], ['min_mos', 'MOS ≥'], ['max_mos', 'MOS ≤']];
const COLUMNS = [
  ['time', 'Time', (c) => c.invite_time, (c) => fmtTime(c.invite_time)],
  ['from', 'From', (c) => party(c.from), (c) => party(c.from)],
  ['to', 'To', (c) => party(c.to), (c) => party(c.to)],
  ['caller', 'Caller', (c) => c.caller, (c) => c.caller],
  ['state', 'State', (c) => c.state, (c) => c.state],
  ['status', 'Status', (c) => c.final_status || 0, (c) => c.final_status || ''],
  ['pdd', 'PDD ms', (c) => c.pdd_ms ?? -1, (c) => fmtNum(c.pdd_ms, 0)],
  ['duration', 'Duration s', (c) => c.duration_s ?? -1, (c) => fmtNum(c.duration_s, 1)],
  ['mos', 'MOS', (c) => c.mos_min ?? 9, (c) => fmtNum(c.mos_min)],
  ['issues', 'Issues', (c) => c.issues.length, (c) => c.issues.map((i) => i.kind).join(', ')],
];

let live = null;

function callRow(c) {
  const tr = h('tr', { class: `state-${c.state}`, dataset: { id: c.id } });
  for (const [key, , , show] of COLUMNS) {
    const td = h('td', { class: key === 'mos' ? mosClass(c.mos_min) : null }, show(c));
    if (key === 'time') td.replaceChildren(h('a', { href: `#/call/${c.id}` }, show(c)));
    tr.append(td);
  }
  return tr;
}

async function callsPage() {
  const p = params();
  const form = h('form', { class: 'filters', id: 'filters' },
    h('select', { name: 'state', 'aria-label': 'state' }, STATES.map((st) => h('option', { value: st, selected: p.get('state') === st }, st || 'any state'))),
    FILTERS.map(([k, ph]) => h('input', { name: k, placeholder: ph, value: p.get(k) || '', size: 10 })),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const el of form.elements) if (el.name && el.value) q.set(el.name, el.value);
    location.hash = '#/calls?' + q.toString();
  });
  let rows = [], sortKey = 'time', desc = true;
  const tbody = h('tbody', { id: 'call-rows' });
  const more = h('button', { id: 'more', hidden: true }, 'Load more');
  const head = h('tr', {}, COLUMNS.map(([key, title]) => {
    const th = h('th', { dataset: { key }, tabindex: 0, 'aria-sort': key === sortKey ? 'descending' : 'none' }, title);
    const go = () => {
      desc = sortKey === key ? !desc : key === 'time';
      sortKey = key;
      for (const t of head.children) t.setAttribute('aria-sort', t.dataset.key === key ? (desc ? 'descending' : 'ascending') : 'none');
      render();
    };
    th.addEventListener('click', go);
    th.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
    return th;
  }));
  const render = () => {
    const get = COLUMNS.find((c) => c[0] === sortKey)[2];
    const sorted = [...rows].sort((a, b) => {
      const x = get(a), y = get(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
    });
    tbody.replaceChildren(...sorted.map(callRow));
  };
  let cursor = null;
  const load = async () => {
    const q = new URLSearchParams(p);
    q.set('limit', '100');
    if (cursor) q.set('cursor', cursor);
    const page = await api('calls?' + q.toString());
    rows = rows.concat(page.calls);
    cursor = page.next;
    more.hidden = !cursor;
    render();
  };
  more.addEventListener('click', () => load().catch(failed));
  clear(main).append(h('h1', {}, 'Calls'), form,
    h('table', { class: 'calls', id: 'calls' }, h('thead', {}, head), tbody), more);
  await load();
  // live updates: a changed call is replaced; a new one is added when no filter is set
  if (live) live.close();
  live = new EventSource('/api/v1/events');
  const dot = document.getElementById('live');
  live.onopen = () => { dot.textContent = 'live'; dot.classList.add('on'); };
  live.onerror = () => { dot.textContent = ''; dot.classList.remove('on'); };
  live.addEventListener('call', (e) => {
    const c = JSON.parse(e.data);
    const i = rows.findIndex((r) => r.id === c.id);
    if (i >= 0) rows[i] = c;
    else if ([...p.keys()].length === 0) rows.unshift(c);
    else return;
    render();
  });
}

// ---------------------------------------------------------------- one call

function summary(c) {
  const item = (k, v) => [h('dt', {}, k), h('dd', {}, v === null || v === undefined || v === '' ? '–' : v)];
  return h('dl', { class: 'summary' },
    item('Call-ID', c.legs.map((l) => l.call_id).join(', ')),
    item('From', party(c.from)), item('To', party(c.to)),
    item('Caller → callee', `${c.caller} → ${c.callee}`),
    item('State', c.state), item('Final', c.final_status ? `${c.final_status} ${c.reason || ''}` : null),
    item('Started', fmtTime(c.invite_time)), item('PDD', c.pdd_ms === null ? null : `${fmtNum(c.pdd_ms, 0)} ms`),
    item('Duration', c.duration_s === null ? null : `${fmtNum(c.duration_s, 1)} s`),
    item('Ended by', c.ended_by), item('Codecs', c.codecs.join(', ')),
    item('Worst MOS', fmtNum(c.mos_min)));
}

// The hops that forwarded the INVITE and the DNS look-ups tied to the call.
function pathBlocks(c) {
  const ms = (v) => (v === null || v === undefined ? '–' : `${fmtNum(v, 1)} ms`);
  const out = [];
  if ((c.hops || []).length)
    out.push(h('h2', {}, `Hops (${c.hops.length})`),
      h('table', { class: 'hops', id: 'call-hops' },
        h('thead', {}, h('tr', {}, ['host', 'held the INVITE', 'its downstream answered in', 'passed the answer back in'].map((x) => h('th', {}, x)))),
        h('tbody', {}, c.hops.map((x) => h('tr', { class: x.held_ms > 1000 ? 'slow' : '' },
          h('td', {}, x.host), h('td', {}, ms(x.held_ms)), h('td', {}, ms(x.downstream_ms)), h('td', {}, ms(x.relay_ms)))))));
  if ((c.dns || []).length)
    out.push(h('h2', {}, `DNS look-ups (${c.dns.length})`),
      h('table', { class: 'dns', id: 'call-dns' },
        h('thead', {}, h('tr', {}, ['host', 'question', 'server', 'answer', 'took', 'tries'].map((x) => h('th', {}, x)))),
        h('tbody', {}, c.dns.map((d) => h('tr', { class: d.duration_ms > 500 || (d.rcode && d.rcode !== 'NOERROR') ? 'slow' : '' },
          h('td', {}, d.host), h('td', {}, `${d.type} ${d.name}`), h('td', {}, d.server),
          h('td', {}, d.rcode === null ? (d.timed_out ? 'no answer (timed out)' : 'no answer') : `${d.rcode}${d.answer ? ' ' + d.answer : ''}`),
          h('td', {}, ms(d.duration_ms)), h('td', {}, String(d.tries)))))));
  return out;
}

// Who measured a stream: this sipscope, or a HEP agent that reported it (its id, node name
// and which reports: a quality report, RTCP).
function reportedBy(st) {
  const r = st.reported_by;
  if (!r) return 'measured here';
  const node = r.node ? ` (${r.node})` : '';
  const via = r.reports.map((x) => (x === 'qos' ? 'quality report' : 'RTCP')).join(' and ');
  return `reported by HEP agent ${r.agent_id}${node}, by ${via}` +
    (r.clock_assumed ? ', jitter read at 8 kHz' : '');
}

function streamBlock(st) {
  const tl = st.timeline || { packets: [], lost: [], max_jitter_ms: [], mos: [] };
  return h('section', { class: 'stream', dataset: { id: st.id } },
    h('h3', {}, `${st.src} → ${st.dst}`, h('span', { class: `badge ${mosClass(st.mos)}` }, `MOS ${fmtNum(st.mos)}`)),
    h('p', { class: 'reported-by' }, reportedBy(st)),
    h('p', { class: 'figures' },
      `${st.codec || 'PT ' + st.payload_type}, SSRC ${st.ssrc}: ${st.packets} packets, ${st.lost} lost (${fmtNum(st.lost_pct)} %), ` +
      `jitter max ${fmtNum(st.max_jitter_ms)} / mean ${fmtNum(st.mean_jitter_ms)} ms, max delta ${fmtNum(st.max_delta_ms)} ms`),
    h('div', { class: 'charts' },
      lineChart('packets / s', tl.packets || []),
      lineChart('lost / s', tl.lost || [], { color: '#c53030' }),
      lineChart('max jitter', tl.max_jitter_ms || [], { unit: ' ms', color: '#b7791f' }),
      lineChart('MOS', tl.mos || [], { min: 1, max: 4.5, color: '#2f855a' })));
}

function issueItem(i, jump) {
  return h('li', { class: `issue sev-${i.severity}` },
    h('span', { class: `badge sev-${i.severity}` }, i.severity), ' ',
    h('strong', {}, i.kind), ': ', i.summary,
    h('p', { class: 'diagnosis' }, i.diagnosis),
    i.frames.length ? h('p', { class: 'frames' }, 'Frames: ', i.frames.map((f) => {
      if (!jump) return `#${f} `;
      const b = h('button', { class: 'frame-link', type: 'button' }, `#${f}`);
      b.addEventListener('click', () => jump(f, i));
      return b;
    })) : null);
}

// The calls of other probes that are this call (each leg on its own probe): the ladder
// below holds their messages too, each marked with its probe.
function joinedBlock(c) {
  if (!c.joined || !c.joined.length) return [];
  return [h('h2', {}, `Seen by ${c.joined.length + 1} probes`),
    h('ul', { id: 'joined' }, [h('li', {}, `${c.probe ?? '?'}: this call, ${c.call_id}`)].concat(
      c.joined.map((j) => h('li', {}, `${j.probe ?? '?'}: `, h('a', { href: `#/call/${j.id}` }, j.id),
        ` ${j.call_id} (joined by ${j.joined_by.join(', ')})`))))];
}

async function callPage(id) {
  const [c, msgs, streams] = await Promise.all([api(`calls/${id}`), api(`calls/${id}/messages`), api(`calls/${id}/streams`)]);
  const lad = ladder(msgs.messages, streams.streams, null, c);
  const jump = (f, issue) => {
    // the player's sample 0 is the call's first RTP packet (levels.start): seek to the
    // frame's time (a SIP frame's own; a media frame: its issue's time)
    const m = msgs.messages.find((x) => x.frame === f);
    const t = m ? m.time : issue && issue.time;
    if (levels && player.readyState > 0 && typeof t === 'number') {
      player.currentTime = Math.min(player.duration, Math.max(0, t - levels.start));
    }
    if (!lad.selectFrame(f)) return;
    document.getElementById('ladder').scrollIntoView({ block: 'start' });
  };
  // the call's spooled audio (issue 24); a call without it answers 404 and gets no player
  const player = h('audio', { controls: '', preload: 'metadata', id: 'player', src: `/api/v1/calls/${c.id}/audio.wav` });
  let levels = null;
  api(`calls/${id}/levels`).then((l) => {
    levels = l;
    lad.levels(l);
    main.dataset.levels = id;
  }, () => { player.remove(); main.dataset.levels = 'none'; });
  clear(main).append(
    h('h1', {}, `${c.id}: ${party(c.from)} → ${party(c.to)}`),
    h('p', {}, h('a', { href: `/api/v1/calls/${c.id}/pcap`, download: `${c.id}.pcap`, id: 'pcap' }, 'Download pcap'),
      ' · ', h('a', { href: '#/calls' }, 'All calls')),
    player,
    summary(c),
    ...pathBlocks(c),
    ...joinedBlock(c),
    h('h2', { id: 'ladder' }, `Ladder (${msgs.messages.length} messages)`), lad.el,
    h('h2', {}, `Streams (${streams.streams.length})`), ...streams.streams.map(streamBlock),
    h('h2', {}, `Issues (${c.issues.length})`),
    c.issues.length ? h('ul', { class: 'issues', id: 'call-issues' }, c.issues.map((i) => issueItem(i, jump)))
                    : h('p', { class: 'muted' }, 'None found.'));
}

// ---------------------------------------------------------------- issues

async function issuesPage() {
  const p = params();
  const q = new URLSearchParams(p);
  q.set('limit', '200');
  const page = await api('issues?' + q.toString());
  clear(main).append(h('h1', {}, 'Issues'),
    h('ul', { class: 'issues', id: 'issue-list' }, page.issues.map((i) => {
      const li = issueItem(i, null);
      if (i.call) li.prepend(h('a', { href: `#/call/${i.call}` }, i.call), ' ');
      return li;
    })));
}

// ---------------------------------------------------------------- security

// The security kinds' issues gathered by who did it: a source's (sip_scan,
// auth_brute_force) by its address, an account's (registration_hijack,
// toll_fraud_pattern) by its AoR; ranked by the worst severity, then by how many kinds of
// thing it did, then by how much of it (requests, failed guesses, listed calls, moves).
const SEC_KINDS = ['sip_scan', 'auth_brute_force', 'registration_hijack', 'toll_fraud_pattern'];
const SEV_RANK = { info: 0, warning: 1, critical: 2 };

function securityRows(issues) {
  const by = new Map();
  for (const i of issues) {
    const ev = i.evidence || {};
    const who = i.registration || ev.source || '?';
    if (!by.has(who)) by.set(who, { who, kinds: [], sev: 0, severity: 'info', volume: 0, ua: '', first: i.time, requests: null, targets: null, failed: null });
    const r = by.get(who);
    if (!r.kinds.includes(i.kind)) r.kinds.push(i.kind);
    if ((SEV_RANK[i.severity] || 0) >= r.sev) { r.sev = SEV_RANK[i.severity] || 0; r.severity = i.severity; }
    r.volume = Math.max(r.volume, (ev.requests || 0) + (ev.failed || 0) + (ev.listed_calls || 0) + (ev.peak_concurrent || 0) + (ev.moves || 0));
    r.ua = r.ua || ev.user_agent || '';
    r.first = Math.min(r.first, i.time);
    if (ev.requests !== undefined) r.requests = ev.requests;
    if (ev.targets !== undefined) r.targets = ev.targets;
    if (ev.failed !== undefined) r.failed = ev.failed;
  }
  return [...by.values()].sort((a, b) => b.sev - a.sev || b.kinds.length - a.kinds.length || b.volume - a.volume || (a.who < b.who ? -1 : 1));
}

async function securityPage() {
  const pages = await Promise.all(SEC_KINDS.map((k) => api(`issues?kind=${k}&limit=500`)));
  const rows = securityRows(pages.flatMap((p) => p.issues));
  const cell = (v) => h('td', {}, v === null || v === undefined ? '–' : String(v));
  clear(main).append(h('h1', {}, 'Security'),
    h('p', { class: 'muted' }, 'Sources and accounts that scanned, guessed passwords, took a binding or called out in a burst, worst first.'),
    rows.length ? h('table', { class: 'security', id: 'security' },
      h('thead', {}, h('tr', {}, ['#', 'source or account', 'what it did', 'severity', 'requests', 'extensions', 'failed guesses', 'User-Agent', 'first seen'].map((x) => h('th', {}, x)))),
      h('tbody', { id: 'sec-rows' }, rows.map((r, n) => h('tr', { class: `sev-${r.severity}`, dataset: { who: r.who } },
        cell(n + 1), cell(r.who),
        h('td', {}, r.kinds.map((k) => h('a', { href: `#/issues?kind=${encodeURIComponent(k)}`, class: 'kind' }, k + ' '))),
        h('td', {}, h('span', { class: `badge sev-${r.severity}` }, r.severity)),
        cell(r.requests), cell(r.targets === null ? null : fmtNum(r.targets, 0)), cell(r.failed), cell(r.ua), cell(fmtTime(r.first))))))
      : h('p', { class: 'muted', id: 'security-none' }, 'Nothing found.'));
}

// ---------------------------------------------------------------- routing

async function route() {
  const path = location.hash.replace(/^#/, '').split('?')[0] || '/calls';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', path.startsWith(a.getAttribute('href').slice(1)));
  if (live && !path.startsWith('/calls')) { live.close(); live = null; }
  try {
    if (path.startsWith('/call/')) await callPage(path.slice(6));
    else if (path === '/issues') await issuesPage();
    else if (path === '/dashboard') await dashboard(main, api, params());
    else if (path === '/security') await securityPage();
    else await callsPage();
    main.dataset.ready = path;
  } catch (e) {
    failed(e);
  }
}

window.addEventListener('hashchange', route);
route();
