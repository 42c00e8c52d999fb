"use strict";
// Charts drawn as SVG by the page itself: no library, no CDN (the page's CSP allows only 'self').
const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(name, attrs) {
  const el = document.createElementNS(SVG_NS, name);
  Object.entries(attrs || {}).forEach(([k, v]) => el.setAttribute(k, String(v)));
  return el;
}

function clockLabel(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function frame(svg, width, height, maxValue, firstAt, lastAt) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.append(svgEl("line", { x1: 30, y1: height - 18, x2: width, y2: height - 18, class: "axis" }));
  const top = svgEl("text", { x: 0, y: 12, class: "tick" }); top.textContent = String(maxValue);
  const zero = svgEl("text", { x: 0, y: height - 20, class: "tick" }); zero.textContent = "0";
  const from = svgEl("text", { x: 30, y: height - 4, class: "tick" }); from.textContent = clockLabel(firstAt);
  const to = svgEl("text", { x: width - 40, y: height - 4, class: "tick" }); to.textContent = clockLabel(lastAt);
  svg.append(top, zero, from, to);
}

// Deliveries per minute: one stacked bar a minute, delivered (ok) under failed (bad).
function deliveriesChart(svg, minutes) {
  const width = 600, height = 160, plot = height - 26;
  const max = Math.max(1, ...minutes.map((m) => m.delivered + m.failed));
  frame(svg, width, height, max, minutes[0].minute, minutes[minutes.length - 1].minute);
  const step = (width - 32) / minutes.length;
  minutes.forEach((m, i) => {
    const x = 32 + i * step;
    const okH = (m.delivered / max) * plot, badH = (m.failed / max) * plot;
    const base = height - 18;
    if (m.delivered) svg.append(svgEl("rect", { x, y: base - okH, width: step - 1, height: okH, class: "ok", "data-delivered": m.delivered }));
    if (m.failed) svg.append(svgEl("rect", { x, y: base - okH - badH, width: step - 1, height: badH, class: "bad", "data-failed": m.failed }));
  });
  svg.dataset.delivered = String(minutes.reduce((n, m) => n + m.delivered, 0));
  svg.dataset.failed = String(minutes.reduce((n, m) => n + m.failed, 0));
}

// Queue depth: a line through the samples of the last hour.
function depthChart(svg, samples) {
  const width = 600, height = 160, plot = height - 26;
  if (samples.length === 0) { svg.replaceChildren(); return; }
  const max = Math.max(1, ...samples.map((s) => s.queued));
  const now = samples[samples.length - 1].at, start = now - 3600;
  frame(svg, width, height, max, start, now);
  const xy = samples.map((s) => [32 + ((s.at - start) / 3600) * (width - 32), height - 18 - (s.queued / max) * plot]);
  svg.append(svgEl("polyline", { points: xy.map((p) => p.join(",")).join(" "), class: "line" }));
  const [x, y] = xy[xy.length - 1];
  svg.append(svgEl("circle", { cx: x, cy: y, r: 2.5, class: "dot" }));
  svg.dataset.samples = String(samples.length);
  svg.dataset.latest = String(samples[samples.length - 1].queued);
}

// A host's success rate per hour over the last day: a small line, gaps where nothing was sent.
function sparkline(hourly) {
  const width = 96, height = 22;
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "spark" });
  const step = width / hourly.length;
  let points = [];
  const flush = () => { if (points.length) svg.append(svgEl("polyline", { points: points.join(" "), class: "line" })); points = []; };
  hourly.forEach(([ok, bad], i) => {
    if (ok + bad === 0) { flush(); return; }
    const rate = ok / (ok + bad);
    points.push(`${(i + 0.5) * step},${height - 2 - rate * (height - 4)}`);
    if (bad) svg.append(svgEl("circle", { cx: (i + 0.5) * step, cy: height - 2 - rate * (height - 4), r: 1.6, class: "bad" }));
  });
  flush();
  const sent = hourly.reduce((n, [ok, bad]) => n + ok + bad, 0);
  svg.dataset.sent = String(sent);
  const title = svgEl("title"); title.textContent = `success per hour, last 24 h (${sent} attempts)`;
  svg.append(title);
  return svg;
}
