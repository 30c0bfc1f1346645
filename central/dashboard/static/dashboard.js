// CamDX central dashboard: fetches /dashboard/data and draws it. Everything is built with DOM
// calls and textContent (never innerHTML), so names from the registry are always shown as text.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22', '#393b79', '#637939'];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

const time = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const ago = (iso) => (iso ? `${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))} s ago` : '—');

function fillBody(table, rows) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
}

function renderServers(data) {
  fillBody(
    document.getElementById('servers'),
    data.servers.map((s) => {
      const h = s.health;
      const badge = el('span', { class: `badge health-${h.state}`, 'data-health': h.state }, h.state);
      const health = el('td', {}, badge);
      if (h.reason) health.append(el('span', { class: 'reason' }, h.reason));
      const ocsp = h.ocspGood === null ? '—' : h.ocspGood ? 'good' : 'stale';
      return el(
        'tr',
        { 'data-server': s.id },
        el('td', { class: 'id' }, s.id),
        el('td', { class: 'id' }, s.address),
        health,
        el('td', { class: 'id' }, s.clients.join('\n') || '—'),
        el('td', {}, h.globalConfVersion ?? '—'),
        el('td', {}, h.unstampedSignatures ?? '—'),
        el('td', {}, ocsp),
        el('td', {}, s.monitored ? ago(h.lastUpAt) : 'not monitored'),
      );
    }),
  );
}

function renderMembers(data) {
  fillBody(
    document.getElementById('members'),
    data.members.map((m) => el('tr', { 'data-member': m.id }, el('td', { class: 'id' }, m.id), el('td', {}, m.name), el('td', { class: 'id' }, m.subsystems.join(', ') || '—'))),
  );
  fillBody(
    document.getElementById('services'),
    data.services.map((s) => el('tr', { 'data-service': s.id }, el('td', { class: 'id' }, s.id), el('td', { class: 'id' }, s.endpoints.map((e) => `${e.method} ${e.path}`).join('\n') || '—'))),
  );
}

function renderRights(data) {
  const table = document.getElementById('rights');
  const { subjects, services, cells } = data.rights;
  const byKey = new Map(cells.map((c) => [`${c.subject} ${c.service}`, c.rules]));
  table.tHead.replaceChildren(el('tr', {}, el('th', {}, 'subject \\ service'), ...services.map((s) => el('th', { class: 'id', 'data-service': s }, s))));
  fillBody(
    table,
    subjects.map((subject) =>
      el(
        'tr',
        { 'data-subject': subject.id },
        el('th', { class: 'id' }, subject.type === 'GLOBALGROUP' ? `${subject.id} (group)` : subject.type === 'LOCALGROUP' ? `${subject.id} (local group)` : subject.id),
        ...services.map((service) => {
          const rules = byKey.get(`${subject.id} ${service}`);
          if (!rules) return el('td', { class: 'deny', 'data-service': service }, '–');
          return el('td', { class: 'allow', 'data-service': service, 'data-rules': rules.length }, rules.map((r) => `${r.method} ${r.path}`).join('\n'));
        }),
      ),
    ),
  );
}

/** A line chart as inline SVG: one path per series, with data attributes describing it. */
function renderChart(container, name, times, series, labelOf) {
  const W = 760,
    H = 220,
    L = 48,
    R = 12,
    T = 12,
    B = 26;
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const top = max > 0 ? niceCeil(max) : 1;
  const x = (i) => L + (times.length > 1 ? (i * (W - L - R)) / (times.length - 1) : 0);
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const chart = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'data-chart': name, 'data-series-count': series.length, 'aria-label': `${name} chart` });
  for (const f of [0, 0.5, 1]) {
    chart.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(top * f), y2: y(top * f) }));
    chart.append(svg('text', { x: L - 6, y: y(top * f) + 4, 'text-anchor': 'end' }, formatRate(top * f)));
  }
  chart.append(svg('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }), svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
  if (times.length) {
    chart.append(svg('text', { x: L, y: H - 8 }, time(times[0])), svg('text', { x: W - R, y: H - 8, 'text-anchor': 'end' }, time(times[times.length - 1])));
  }
  const legend = el('ul', { class: 'legend' });
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const d = s.values.map((v, j) => `${j ? 'L' : 'M'}${x(j).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const label = labelOf(s);
    const path = svg('path', {
      class: 'series',
      d,
      stroke: colour,
      'data-series': label,
      'data-points': s.values.length,
      'data-max': Math.max(...s.values),
      'data-last': s.values[s.values.length - 1] ?? 0,
    });
    path.append(svg('title', {}, label));
    chart.append(path);
    const swatch = svg('svg', { width: 14, height: 4 });
    swatch.append(svg('rect', { width: 14, height: 4, fill: colour }));
    legend.append(el('li', {}, swatch, label));
  });
  const parts = [chart, legend];
  if (!series.length) parts.push(el('p', { class: 'empty' }, times.length ? 'no exchanges seen yet' : 'no data yet'));
  container.replaceChildren(...parts);
}

function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((c) => c >= v);
}

const formatRate = (v) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2));

function render(data) {
  document.getElementById('instance').textContent = data.instance;
  const left = Math.round((Date.parse(data.globalConf.expiresAt) - Date.now()) / 1000);
  document.getElementById('conf').textContent = `global configuration v${data.globalConf.version}, signed ${time(Date.parse(data.globalConf.generatedAt))}, expires in ${left} s`;
  renderChart(document.getElementById('traffic-chart'), 'traffic', data.history.times, data.history.traffic, (s) => `${s.client} → ${s.service}`);
  renderChart(document.getElementById('errors-chart'), 'errors', data.history.times, data.history.errors, (s) => s.fault);
  renderServers(data);
  renderRights(data);
  renderMembers(data);
}

let delay = 5000;
async function refresh() {
  const status = document.getElementById('status');
  try {
    const res = await fetch('/dashboard/data', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = await res.json();
    render(data);
    delay = Math.max(1000, Math.min(30000, data.pollIntervalMs));
    status.className = 'muted';
    status.textContent = `updated ${time(Date.now())}; refreshes every ${delay / 1000} s`;
    document.body.dataset.updated = data.now;
  } catch (err) {
    status.className = 'error';
    status.textContent = `cannot reach central (${err.message}); retrying`;
  }
  setTimeout(refresh, delay);
}

document.addEventListener('DOMContentLoaded', refresh);
