// A small line chart in SVG for a stream's per-second timeline (no charting library: the
// need is four lines over time, which this does in a page of code).
import { s } from './dom.js';

// values: numbers or null (no figure that second); returns an <svg>
export function lineChart(title, values, { unit = '', color = '#2b6cb0', min = null, max = null } = {}) {
  const W = 360, H = 120, L = 52, R = 8, T = 18, B = 20;
  const nums = values.filter((v) => v !== null && v !== undefined);
  const lo = min !== null ? min : Math.min(0, ...nums);
  let hi = max !== null ? max : Math.max(...nums, lo + 1e-9);
  if (hi <= lo) hi = lo + 1;
  const x = (i) => L + (values.length > 1 ? (i * (W - L - R)) / (values.length - 1) : 0);
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
  svg.append(
    s('text', { x: L, y: 12, class: 'chart-title' }, title),
    s('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }),
    s('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }),
    s('text', { x: L - 4, y: T + 4, class: 'tick', 'text-anchor': 'end' }, fmt(hi) + unit),
    s('text', { x: L - 4, y: H - B, class: 'tick', 'text-anchor': 'end' }, fmt(lo) + unit),
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
