// The dashboard: the stored calls over time (/api/v1/stats?from=&to=&step=) as charts, the
// worst callees, callers, domains and hosts (/api/v1/top), and the totals of the store.
// A chart's step opens the call list of that time slice; a top-N row the calls of that
// user or host. While the range runs to now, the series is asked again every few seconds
// and drawn again only when its answer changed, so a busy capture does not redraw storms.
import { h, clear, fmtTime, fmtNum, mosClass } from './dom.js';
import { timeChart } from './chart.js';

const HOUR = 3600, DAY = 86400, WEEK = 7 * DAY;
const RANGES = [['hour', 'last hour', HOUR], ['day', 'last day', DAY], ['week', 'last week', WEEK],
                ['all', 'all stored', 0], ['custom', 'custom', 0]];
// Steps a clock reads well; a range gets the shortest that draws it in at most POINTS.
const STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR,
               12 * HOUR, DAY, 2 * DAY, WEEK];
const POINTS = 60;
const POLL_S = 5; // the live poll's default period; ?poll=N in the hash: N s (1 to 600)
const TOPS = [['callee', 'Callees'], ['caller', 'Callers'], ['domain', 'Domains'], ['host', 'Hosts']];
const METRICS = [['failures', 'most failures'], ['asr', 'lowest ASR'], ['worst_mos', 'worst MOS']];

let timer = null; // the live poll of the page on screen (one at most)

export function stepFor(span) {
  const want = span / POINTS;
  return STEPS.find((st) => st >= want) || Math.ceil(want / WEEK) * WEEK;
}

// The time of the oldest stored call, or a little before it: the series answers calls per
// step, so the first step that has any is narrowed down, 40 steps a question (the API
// lists calls newest first and has no "oldest"), until it is a quarter of a chart's step.
async function oldest(api, newest) {
  const end = Math.floor(newest) + 1;
  let lo = 0, hi = end;
  for (let k = 0; k < 12 && hi - lo > Math.max(1, (end - lo) / POINTS / 4); k++) {
    const step = (hi - lo) / 40;
    const s = await api(`stats?from=${lo}&to=${hi}&step=${step}`);
    const first = s.steps.find((x) => x.calls > 0);
    if (!first) return null;
    lo = first.start;
    hi = Math.min(hi, first.start + step);
  }
  return lo;
}

async function newestCall(api) {
  const p = await api('calls?limit=1');
  return p.calls.length ? p.calls[0].invite_time : null;
}

const utc = (t) => new Date(t * 1000).toISOString().slice(0, 16);
const fromUtc = (v) => {
  const t = Date.parse(v + 'Z');
  return Number.isFinite(t) ? t / 1000 : null;
};

// The range to draw: [from, to) on step boundaries, its step and what was asked for. The
// default is the last day, or everything stored when its newest call is older than that
// (an analysed capture of last year still shows).
async function resolveRange(api, p) {
  let picked = p.get('range') || '';
  const now = Date.now() / 1000;
  const newest = await newestCall(api);
  let from, to;
  if (picked === 'custom') {
    from = Number(p.get('from'));
    to = Number(p.get('to'));
    if (!(to > from && from >= 0)) throw new Error('custom range: from must be before to');
  } else {
    if (!picked) picked = newest !== null && newest < now - DAY ? 'all' : 'day';
    const r = RANGES.find((x) => x[0] === picked);
    if (!r) throw new Error(`no range ${picked}`);
    if (picked === 'all') {
      if (newest === null) return { picked, empty: true };
      to = newest + 1;
      const first = await oldest(api, newest);
      from = first === null ? newest : first;
    } else {
      to = now;
      from = now - r[2];
    }
  }
  const step = stepFor(to - from);
  from = Math.floor(from / step) * step;
  to = Math.ceil(to / step) * step;
  if (to <= from) to = from + step;
  return { picked, from, to, step, live: picked !== 'custom', newest };
}

function picker(range, go) {
  const sel = h('select', { id: 'range', 'aria-label': 'range' },
    RANGES.map(([k, name]) => h('option', { value: k, selected: range.picked === k }, name)));
  const f = h('input', { id: 'range-from', type: 'datetime-local', value: range.from !== undefined ? utc(range.from) : '' });
  const t = h('input', { id: 'range-to', type: 'datetime-local', value: range.to !== undefined ? utc(range.to) : '' });
  const custom = h('span', { class: 'custom', hidden: sel.value !== 'custom' }, 'from ', f, ' to ', t, ' UTC ',
    h('button', { type: 'submit' }, 'Show'));
  const form = h('form', { class: 'filters', id: 'range-form' }, sel, custom);
  sel.addEventListener('change', () => {
    custom.hidden = sel.value !== 'custom';
    if (sel.value !== 'custom') go({ range: sel.value });
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const a = fromUtc(f.value), b = fromUtc(t.value);
    if (a !== null && b !== null) go({ range: 'custom', from: a, to: b });
  });
  return form;
}

const hhmm = (span) => (t) => {
  const s = fmtTime(t);
  return span > DAY ? s.slice(5, 16) : s.slice(11, span < 600 ? 19 : 16);
};

// The charts of one answer of the series; a column opens the call list of its slice.
function charts(s) {
  const starts = s.steps.map((x) => x.start);
  const col = (f) => s.steps.map(f);
  const label = hhmm(s.to - s.from);
  const pick = (i) => { location.hash = `#/calls?from=${starts[i]}&to=${starts[i] + s.step}`; };
  const o = { label, pick };
  const kinds = new Map();
  for (const st of s.steps) for (const [k, n] of Object.entries(st.issue_kinds)) kinds.set(k, (kinds.get(k) || 0) + n);
  const shown = [...kinds.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 7).map((e) => e[0]);
  return h('div', { class: 'charts', id: 'trend-charts' },
    timeChart('calls', starts, s.step, [{ name: 'calls', values: col((x) => x.calls) },
      { name: 'answered', values: col((x) => x.answered) }], { ...o, id: 'chart-calls' }),
    timeChart('ASR / NER', starts, s.step, [{ name: 'ASR', values: col((x) => x.asr_pct) },
      { name: 'NER', values: col((x) => x.ner_pct) }], { ...o, id: 'chart-asr', unit: ' %', min: 0, max: 100 }),
    timeChart('PDD', starts, s.step, [{ name: 'p50', values: col((x) => x.pdd_ms.p50) },
      { name: 'p95', values: col((x) => x.pdd_ms.p95) }], { ...o, id: 'chart-pdd', unit: ' ms' }),
    timeChart('worst MOS per call', starts, s.step, [{ name: 'p10', values: col((x) => x.mos.p10) },
      { name: 'p50', values: col((x) => x.mos.p50) }, { name: 'p90', values: col((x) => x.mos.p90) }],
    { ...o, id: 'chart-mos', min: 1, max: 4.5 }),
    timeChart('issues', starts, s.step, shown.map((k) => ({ name: k, values: col((x) => x.issue_kinds[k] || 0) })),
      { ...o, id: 'chart-issues' }));
}

// Where a top-N row leads: the call list of that callee, caller, domain or host in the range.
function drill(by, key, range) {
  const q = new URLSearchParams();
  if (by === 'callee') q.set('to_user', key);
  else if (by === 'caller') q.set('from_user', key);
  else if (by === 'domain') q.set('domain', key);
  else if (by === 'host') q.set('address', key);
  else return null;
  q.set('from', range.from);
  q.set('to', range.to);
  return '#/calls?' + q.toString();
}

function topTable(by, title, rows, range) {
  const cell = (v) => h('td', {}, v === null || v === undefined ? '–' : String(v));
  return h('section', { class: 'top' }, h('h3', {}, title),
    rows.length ? h('table', { class: 'top', id: `top-${by}` },
      h('thead', {}, h('tr', {}, ['', 'calls', 'failures', 'ASR', 'worst MOS'].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows.map((r) => {
        const link = drill(by, r.key, range);
        return h('tr', { dataset: { key: r.key } },
          h('td', {}, link ? h('a', { href: link }, r.key) : r.key), cell(r.calls), cell(r.failures),
          cell(r.asr_pct === null ? null : `${fmtNum(r.asr_pct, 1)} %`),
          h('td', { class: mosClass(r.worst_mos) }, fmtNum(r.worst_mos)));
      })))
      : h('p', { class: 'muted' }, 'None.'));
}

function tile(label, value) {
  return h('div', { class: 'tile' }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, label));
}

// The store's totals and the last run's KPIs, as the page showed before it had a time axis.
function totals(st) {
  const k = (st.last_run && st.last_run.stats) || {};
  const pct = (v) => (v === null || v === undefined ? '–' : `${fmtNum(v, 1)} %`);
  const spread = st.mos_spread || {};
  const bands = Object.keys(spread).sort();
  const top = Math.max(1, ...Object.values(spread));
  return [
    h('div', { class: 'tiles', id: 'kpis' },
      tile('calls', st.calls), tile('answered', k.answered ?? '–'), tile('ASR', pct(k.asr_pct)),
      tile('NER', pct(k.ner_pct)), tile('ACD', k.acd_s === null || k.acd_s === undefined ? '–' : `${fmtNum(k.acd_s, 1)} s`),
      tile('PDD p50', k.pdd_ms && k.pdd_ms.p50 !== null ? `${fmtNum(k.pdd_ms.p50, 0)} ms` : '–'),
      tile('PDD p95', k.pdd_ms && k.pdd_ms.p95 !== null ? `${fmtNum(k.pdd_ms.p95, 0)} ms` : '–'),
      tile('issues', st.issues)),
    h('h2', {}, 'Worst MOS per call'),
    h('div', { class: 'bars', id: 'mos-spread' }, bands.map((b) => {
      const bar = h('div', { class: `bar ${b === 'none' ? 'mos-none' : mosClass(Number(b))}` });
      bar.style.height = `${Math.round((spread[b] / top) * 100)}px`; // CSSOM: allowed under the CSP
      return h('div', { class: 'band' }, h('div', { class: 'count' }, spread[b]), bar, h('div', { class: 'label' }, b));
    })),
    h('h2', {}, 'Issues by kind'),
    h('ul', { class: 'kinds' }, Object.entries(st.issue_kinds || {}).map(([kind, n]) =>
      h('li', {}, h('a', { href: `#/issues?kind=${encodeURIComponent(kind)}` }, kind), ` ${n}`)))];
}

function stop() {
  if (timer) clearTimeout(timer);
  timer = null;
}

// main: the page's element; api(path): the JSON of /api/v1/path; p: the hash's parameters.
export async function dashboard(main, api, p) {
  stop();
  main.dataset.drawn = '0';
  main.dataset.polls = '0';
  const range = await resolveRange(api, p);
  const metric = METRICS.some((m) => m[0] === p.get('metric')) ? p.get('metric') : 'failures';
  const go = (q) => {
    const n = new URLSearchParams(q);
    n.set('metric', metric);
    if (p.get('poll')) n.set('poll', p.get('poll'));
    location.hash = '#/dashboard?' + n.toString();
  };
  const metricSel = h('select', { id: 'top-metric', 'aria-label': 'worst by' },
    METRICS.map(([k, name]) => h('option', { value: k, selected: k === metric }, name)));
  metricSel.addEventListener('change', () => {
    const n = new URLSearchParams(p);
    n.set('metric', metricSel.value);
    location.hash = '#/dashboard?' + n.toString();
  });
  const chartBox = h('div', { id: 'trends' });
  const topBox = h('div', { class: 'tops', id: 'tops' });
  const st = await api('stats');
  const span = range.empty ? 'nothing stored yet'
    : `${fmtTime(range.from)} to ${fmtTime(range.to)} UTC, a point every ${range.step} s` +
      (range.newest !== null && range.newest < range.from ? ` (the newest stored call is of ${fmtTime(range.newest)})` : '');
  clear(main).append(h('h1', {}, 'Dashboard'), picker(range, go),
    h('p', { class: 'muted', id: 'range-span', dataset: range.empty ? {} : { from: range.from, to: range.to, step: range.step } }, span),
    chartBox, h('h2', {}, 'Worst ', metricSel), topBox, ...totals(st));
  if (range.empty) return;
  let last = '';
  const draw = async () => {
    const [s, ...tops] = await Promise.all([
      api(`stats?from=${range.from}&to=${range.to}&step=${range.step}`),
      ...TOPS.map(([by]) => api(`top?by=${by}&metric=${metric}&from=${range.from}&to=${range.to}&limit=10`))]);
    const text = JSON.stringify([s, tops]);
    if (text === last) return false;
    last = text;
    chartBox.replaceChildren(charts(s));
    topBox.replaceChildren(...TOPS.map(([by, title], i) => topTable(by, title, tops[i].top, range)));
    main.dataset.drawn = String(Number(main.dataset.drawn || 0) + 1);
    return true;
  };
  await draw();
  if (!range.live) return;
  const here = location.hash;
  const every = Math.min(600, Math.max(1, Number(p.get('poll')) || POLL_S)) * 1000;
  const tick = async () => {
    timer = null;
    main.dataset.polls = String(Number(main.dataset.polls || 0) + 1);
    if (location.hash !== here) return;
    try {
      if (!document.hidden) {
        // a relative range moves with the clock; "all stored" grows with the newest call
        const now = Date.now() / 1000;
        const end = range.picked === 'all' ? ((await newestCall(api)) ?? range.newest) + 1 : now;
        if (end > range.to) {
          const width = range.to - range.from;
          range.to = Math.ceil(end / range.step) * range.step;
          if (range.picked !== 'all') range.from = range.to - width;
          if (stepFor(range.to - range.from) !== range.step) return dashboard(main, api, p);
        }
        await draw();
      }
    } catch (e) {
      // a failed poll keeps the last drawing; the next one tries again
    }
    if (location.hash === here) timer = setTimeout(tick, every);
  };
  timer = setTimeout(tick, every);
}
