// A small line chart in SVG for a stream's per-second timeline (no charting library: the
// need is four lines over time, which this does in a page of code).
import { s } from './dom.js';

// The value range a chart draws: from min (else 0 or below) to max (else the largest value).
function bounds(nums, min, max) {
  const lo = min !== null ? min : Math.min(0, ...nums);
  let hi = max !== null ? max : Math.max(...nums, lo + 1e-9);
  if (hi <= lo) hi = lo + 1;
  return [lo, hi];
}

// An <svg> with its title, both axes and the value axis's two ticks.
function frame(title, cls, id, [W, H, L, R, T, B], lo, hi, unit) {
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: cls, role: 'img', 'aria-label': title, id });
  svg.append(
    s('text', { x: L, y: 12, class: 'chart-title' }, title),
    s('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }),
    s('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }),
    s('text', { x: L - 4, y: T + 4, class: 'tick', 'text-anchor': 'end' }, fmt(hi) + unit),
    s('text', { x: L - 4, y: H - B, class: 'tick', 'text-anchor': 'end' }, fmt(lo) + unit),
  );
  return svg;
}

// values: numbers or null (no figure that second); returns an <svg>
export function lineChart(title, values, { unit = '', color = '#2b6cb0', min = null, max = null } = {}) {
  const W = 360, H = 120, L = 52, R = 8, T = 18, B = 20;
  const [lo, hi] = bounds(values.filter((v) => v !== null && v !== undefined), min, max);
  const x = (i) => L + (values.length > 1 ? (i * (W - L - R)) / (values.length - 1) : 0);
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const svg = frame(title, 'chart', null, [W, H, L, R, T, B], lo, hi, unit);
  svg.append(
    s('text', { x: L, y: H - 4, class: 'tick' }, '0 s'),
    s('text', { x: W - R, y: H - 4, class: 'tick', 'text-anchor': 'end' }, `${values.length} s`),
  );
  // one polyline per run of seconds that have a figure
  let run = [];
  const flush = () => {
    if (run.length === 1) svg.append(s('circle', { cx: run[0][0], cy: run[0][1], r: 1.5, fill: color }));
    else if (run.length) svg.append(s('polyline', { points: run.map((p) => p.join(',')).join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5 }));
    run = [];
  };
  values.forEach((v, i) => (v === null || v === undefined ? flush() : run.push([x(i).toFixed(1), y(v).toFixed(1)])));
  flush();
  return svg;
}

function fmt(v) {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const PALETTE = ['#2b6cb0', '#2f855a', '#c53030', '#b7791f', '#6b46c1', '#319795', '#d53f8c', '#718096'];

// A chart over time steps for the dashboard: several series over the same steps, a point
// per step that has a figure, and one clickable column per step (the whole column is the
// target, so a point is easy to hit). starts: each step's start (epoch s); series:
// [{name, values}] with a value or null per step; label(t): an axis time's text;
// pick(i): called with the step clicked.
export function timeChart(title, starts, step, series, { unit = '', min = null, max = null, label = String, pick = null, id = null } = {}) {
  const W = 560, H = 170, L = 52, R = 8, T = 30, B = 22;
  const n = starts.length;
  const [lo, hi] = bounds(series.flatMap((se) => se.values.filter((v) => v !== null && v !== undefined)), min, max);
  const cw = (W - L - R) / Math.max(1, n);
  const x = (i) => L + (i + 0.5) * cw;
  const y = (v) => T + (H - T - B) * (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo));
  const svg = frame(title, 'chart time-chart', id, [W, H, L, R, T, B], lo, hi, unit);
  svg.append(
    n ? s('text', { x: L, y: H - 6, class: 'tick' }, label(starts[0])) : null,
    n ? s('text', { x: W - R, y: H - 6, class: 'tick', 'text-anchor': 'end' }, label(starts[n - 1] + step)) : null,
  );
  let lx = L + 8 + title.length * 6;
  series.forEach((se, k) => {
    const color = se.color || PALETTE[k % PALETTE.length];
    svg.append(s('text', { x: lx, y: 12, class: 'legend', fill: color }, '● ' + se.name));
    lx += 16 + se.name.length * 6;
    const g = s('g', { class: 'series', dataset: { series: se.name } });
    let run = [];
    const flush = () => {
      if (run.length > 1) g.append(s('polyline', { points: run.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5 }));
      run = [];
    };
    se.values.forEach((v, i) => {
      if (v === null || v === undefined) return flush();
      run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      g.append(s('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.2, fill: color, class: 'pt', dataset: { i, v } }));
    });
    flush();
    svg.append(g);
  });
  // the columns, last so that they take the clicks; each says its step's figures
  for (let i = 0; i < n; i++) {
    const tip = `${label(starts[i])} +${step} s: ` +
      series.map((se) => `${se.name} ${se.values[i] === null || se.values[i] === undefined ? '–' : fmt(se.values[i])}`).join(', ');
    const col = s('rect', { x: (L + i * cw).toFixed(1), y: T, width: cw.toFixed(1), height: H - T - B, class: 'hit', dataset: { i, start: starts[i] } },
      s('title', {}, tip));
    if (pick) col.addEventListener('click', () => pick(i));
    svg.append(col);
  }
  return svg;
}
