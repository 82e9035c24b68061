// The call ladder (sngrep's flow, Wireshark's flow graph) in SVG: one column per host
// (ip:port, with its User-Agent or Server), one arrow per message in time order with its
// method or status and time offset; retransmissions dashed, SDP offers and answers marked,
// media periods as bars between the hosts whose addresses carried them; the DNS look-ups
// tied to the call as dotted arrows to their server and back, with the question, the answer
// and its time; under each forwarded INVITE, how long the hop held it. Clicking an arrow
// (or moving with the arrow keys, j/k, Home/End) shows the message's raw text.
import { h, s, clear } from './dom.js';

const COL = 230, LEFT = 110, TOP = 64, ROW = 30;

function hostIp(addr) {
  return addr.startsWith('[') ? addr.slice(1, addr.indexOf(']')) : addr.split(':')[0];
}

// A header's value from raw SIP text (first match; compact forms too): display only.
function header(raw, names) {
  for (const line of (raw || '').split(/\r?\n/)) {
    if (line === '') break;
    const i = line.indexOf(':');
    if (i > 0 && names.includes(line.slice(0, i).trim().toLowerCase())) return line.slice(i + 1).trim();
  }
  return null;
}

function hasSdp(raw) {
  const t = header(raw, ['content-type', 'c']);
  return !!t && /application\/sdp/i.test(t);
}

// probe: the call's messages came from several probes (one call, each leg on its own
// probe): each arrow says which probe saw it
function label(m, probes) {
  const base = m.method ? m.method : `${m.status} ${m.reason || ''}`.trim();
  return (probes ? `[${m.probe ?? '?'}] ` : '') + base + (hasSdp(m.raw) ? ' +SDP' : '') +
    (m.retransmission ? ' (retrans)' : '');
}

// The DNS look-ups as rows: the query at its first try, the answer when one came.
function dnsRows(call) {
  const rows = [];
  for (const d of (call && call.dns) || []) {
    const tries = d.tries > 1 ? `, ${d.tries} tries` : '';
    rows.push({ time: d.time, frame: d.frames[0], from: d.host, to: d.server, dns: d,
                text: `DNS ${d.type} ${d.name}?` });
    if (d.answer_time !== null)
      rows.push({ time: d.answer_time, frame: d.frames[1], from: d.server, to: d.host, dns: d,
                  text: `${d.rcode} ${d.answers ? '(' + (d.answer || d.answers) + ') ' : ''}after ${d.duration_ms.toFixed(1)} ms${tries}` });
  }
  return rows;
}

export function ladder(messages, streams, onSelect, call) {
  const probes = new Set(messages.map((m) => m.probe)).size > 1;
  const hosts = [];
  const agent = new Map();
  for (const m of messages) {
    for (const a of [m.src, m.dst]) if (!hosts.includes(a)) hosts.push(a);
    const ua = header(m.raw, m.method ? ['user-agent'] : ['server', 'user-agent']);
    if (ua && !agent.has(m.src)) agent.set(m.src, ua);
  }
  // DNS: the asking host's column by address (its queries leave from another port), the
  // server a column of its own
  const dns = dnsRows(call);
  const hostOf = (ip) => hosts.find((x) => hostIp(x) === ip) || (hosts.push(ip), ip);
  for (const r of dns) { r.from = hostOf(r.from); r.to = hostOf(r.to); }
  // rows: messages and look-ups in time order (a message's row index is rowOf[i])
  const rows = messages.map((m, i) => ({ time: m.time, frame: m.frame, msg: i }))
    .concat(dns).sort((a, b) => a.time - b.time || a.frame - b.frame);
  const rowOf = [];
  rows.forEach((r, k) => { if (r.msg !== undefined) rowOf[r.msg] = k; });
  const col = (a) => LEFT + hosts.indexOf(a) * COL;
  const width = LEFT + Math.max(1, hosts.length - 1) * COL + 140;
  const height = TOP + rows.length * ROW + 30;
  const t0 = rows.length ? rows[0].time : 0;
  const svg = s('svg', { class: 'ladder', width, height, viewBox: `0 0 ${width} ${height}`, role: 'list',
                         'aria-label': 'call ladder' });
  svg.append(s('defs', {},
    s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' },
      s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }))));

  // columns with their hosts and user agents
  hosts.forEach((a) => {
    const x = col(a);
    svg.append(
      s('text', { x, y: 18, class: 'host', 'text-anchor': 'middle' }, a),
      s('text', { x, y: 34, class: 'agent', 'text-anchor': 'middle' }, (agent.get(a) || '').slice(0, 40)),
      s('line', { x1: x, y1: 44, x2: x, y2: height - 10, class: 'lifeline' }));
  });

  // media periods: placed on the time axis between the message rows around them
  const rowY = (i) => TOP + i * ROW;
  const yAt = (t) => {
    if (!rows.length) return TOP;
    if (t <= rows[0].time) return rowY(0) - 8;
    for (let i = 0; i + 1 < rows.length; i++) {
      const a = rows[i].time, b = rows[i + 1].time;
      if (t <= b) return rowY(i) + (b > a ? ((t - a) / (b - a)) * ROW : 0);
    }
    return rowY(rows.length - 1) + 8;
  };
  (streams || []).forEach((st, k) => {
    const a = hosts.find((x) => hostIp(x) === hostIp(st.src));
    const b = hosts.find((x) => hostIp(x) === hostIp(st.dst));
    const y1 = yAt(st.first_time), y2 = Math.max(yAt(st.last_time), y1 + 4);
    let x1, x2;
    if (a && b && a !== b) {
      x1 = Math.min(col(a), col(b)) + 6 + (k % 2) * 10;
      x2 = Math.max(col(a), col(b)) - 6 - ((k + 1) % 2) * 10;
    } else { // media between addresses no column carries: in the lane on the right
      x1 = width - 120 + (k % 4) * 12;
      x2 = x1 + 8;
    }
    svg.append(s('rect', { x: x1, y: y1, width: Math.max(4, x2 - x1), height: y2 - y1, class: 'media' },
      s('title', {}, `${st.src} → ${st.dst} ${st.codec || ''} ${st.packets} packets`)));
  });

  // the look-ups: dotted arrows, not selectable (their frames are DNS, not SIP)
  rows.forEach((r, k) => {
    if (!r.dns) return;
    const y = rowY(k), x1 = col(r.from), x2 = col(r.to);
    const slow = r.dns.duration_ms !== null && r.dns.duration_ms > 500;
    const failed = r.dns.rcode !== null && r.dns.rcode !== 'NOERROR';
    svg.append(s('g', { class: ['dns', slow ? 'slow' : '', failed ? 'failed' : ''].join(' ').trim(),
                        dataset: { frame: r.frame } },
      s('path', { d: `M ${x1} ${y} L ${x2} ${y}`, class: 'arrow', 'marker-end': 'url(#arrow)' }),
      s('text', { x: (x1 + x2) / 2, y: y - 5, class: 'label', 'text-anchor': 'middle' }, r.text),
      s('text', { x: 8, y: y + 4, class: 'offset' }, `+${(r.time - t0).toFixed(3)} s`),
      s('text', { x: width - 8, y: y + 4, class: 'frame', 'text-anchor': 'end' }, `#${r.frame}`)));
  });
  // how long each hop held the INVITE, under the copy it sent on
  const held = new Map();
  for (const hp of (call && call.hops) || []) {
    const out = call.path[hp.out];
    if (out) held.set(out.frame, hp);
  }

  // one arrow per message
  const groups = messages.map((m, i) => {
    const y = rowY(rowOf[i]), x1 = col(m.src), x2 = col(m.dst);
    const cls = ['msg', m.method ? 'request' : 'response', m.retransmission ? 'retrans' : ''].join(' ').trim();
    const g = s('g', { class: cls, tabindex: -1, role: 'listitem', dataset: { index: i, frame: m.frame } });
    const lineAttrs = x1 === x2
      ? { d: `M ${x1} ${y} h 40 v 10 h -40`, fill: 'none' }
      : { d: `M ${x1} ${y} L ${x2} ${y}` };
    g.append(
      s('rect', { x: Math.min(x1, x2) - 4, y: y - 16, width: Math.abs(x2 - x1) + 48, height: ROW - 4, class: 'hit' }),
      s('path', Object.assign({ class: 'arrow', 'marker-end': 'url(#arrow)' }, lineAttrs)),
      s('text', { x: (x1 + x2) / 2 + (x1 === x2 ? 20 : 0), y: y - 5, class: 'label', 'text-anchor': 'middle', 'data-probe': m.probe ?? '' }, label(m, probes)),
      s('text', { x: 8, y: y + 4, class: 'offset' }, `+${(m.time - t0).toFixed(3)} s`),
      s('text', { x: width - 8, y: y + 4, class: 'frame', 'text-anchor': 'end' }, `#${m.frame}`));
    const hp = held.get(m.frame);
    if (hp && !m.retransmission)
      g.append(s('text', { x: Math.min(x1, x2) + 6, y: y + 11, class: hp.held_ms > 1000 ? 'hold slow' : 'hold' },
        `held ${hp.held_ms.toFixed(1)} ms by ${hp.host}`));
    g.addEventListener('click', () => select(i));
    svg.append(g);
    return g;
  });

  const detail = h('div', { class: 'detail', id: 'message-detail' }, h('p', { class: 'muted' }, 'Click a message to read it.'));
  let current = -1;
  function select(i) {
    if (i < 0 || i >= messages.length) return;
    if (current >= 0) groups[current].classList.remove('selected');
    current = i;
    groups[i].classList.add('selected');
    groups[i].scrollIntoView({ block: 'nearest', inline: 'nearest' });
    const m = messages[i];
    clear(detail).append(
      h('h3', {}, `#${m.frame} ${label(m, probes)}`),
      h('p', { class: 'muted' }, `${m.src} → ${m.dst} over ${m.transport}, +${(m.time - t0).toFixed(3)} s`),
      h('pre', { class: 'raw', id: 'raw-text' }, m.raw === null ? '(raw text not kept)' : m.raw));
    if (onSelect) onSelect(m);
  }
  const wrap = h('div', { class: 'ladder-wrap', tabindex: 0, 'aria-label': 'call ladder: arrow keys move between messages' }, svg);
  wrap.addEventListener('keydown', (e) => {
    const k = e.key;
    const next = k === 'ArrowDown' || k === 'j' ? current + 1 : k === 'ArrowUp' || k === 'k' ? current - 1
               : k === 'Home' ? 0 : k === 'End' ? messages.length - 1 : null;
    if (next === null) return;
    e.preventDefault();
    select(Math.max(0, Math.min(messages.length - 1, next)));
  });
  const selectFrame = (frame) => {
    const i = messages.findIndex((m) => m.frame === frame);
    if (i >= 0) select(i);
    return i >= 0;
  };
  // the call's audio levels (issue 24: /levels, per 100 ms and direction) as two strips on
  // the ladder's own time axis, in the right lane: caller's, then callee's; darker is louder
  const levels = (lv) => {
    const lane = [['caller', width - 64], ['callee', width - 52]];
    for (const [side, x] of lane) {
      const g = s('g', { class: `levels ${side}` }, s('title', {}, `${side}'s audio level`));
      (lv[side] || []).forEach((db, i) => {
        if (db === null) return; // nothing came: no mark
        const t = lv.start + (i * lv.bin_ms) / 1000;
        const y1 = yAt(t), y2 = yAt(t + lv.bin_ms / 1000);
        const o = Math.max(0.05, Math.min(1, (db + 60) / 60));
        g.append(s('rect', { x, y: y1, width: 10, height: Math.max(0.5, y2 - y1), class: 'level',
                             'fill-opacity': o.toFixed(2), dataset: { time: t.toFixed(3), dbov: db } }));
      });
      svg.append(g);
    }
  };
  return { el: h('div', { class: 'ladder-view' }, wrap, detail), select, selectFrame, levels };
}
