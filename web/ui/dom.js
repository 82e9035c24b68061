// Building the page without ever parsing markup: every string that came from the network
// (SIP headers are attacker input) becomes a text node or an attribute value, never HTML.
// Nothing here uses innerHTML, outerHTML, insertAdjacentHTML or document.write.

const SVG = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// h('td', {class: 'x'}, 'text', child...)
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// s('line', {x1: 0, ...}): an SVG element
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function fmtTime(t) {
  if (t === null || t === undefined) return '';
  const d = new Date(t * 1000);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
         `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

export function fmtNum(v, digits = 2) {
  return v === null || v === undefined ? '–' : Number(v).toFixed(digits);
}

// MOS bands of the issue catalogue: 4.0 and 3.5 (docs/output.md thresholds)
export function mosClass(m) {
  if (m === null || m === undefined) return 'mos-none';
  return m >= 4.0 ? 'mos-good' : m >= 3.5 ? 'mos-fair' : 'mos-bad';
}
