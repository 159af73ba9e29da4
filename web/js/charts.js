// Our own inline-SVG charts: bars and lines with axes, tooltips on hover, one tab stop per chart
// with arrow keys moving between its points, and the same numbers as a table for anyone who
// prefers to read them. No chart library: nothing is fetched, and the CSP stays strict.

import { h, svg } from "./dom.js";

// The drawing is scaled to its box: narrow screens get a narrower drawing so text stays legible.
const chartWidth = () => (window.innerWidth < 600 ? 360 : 640);
let WIDTH = 640;
const HEIGHT = 240;
const PAD = { top: 12, right: 12, bottom: 34, left: 52 };

// Rounds the axis maximum up to a friendly number so ticks read well (1, 2, 2.5, 5 × 10^n).
export function niceMax(value, integer = false) {
  if (!(value > 0)) return 1;
  if (integer) return integerMax(value);
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

// For counts: four ticks of a whole, friendly step (or one tick per unit up to 4).
function integerMax(value) {
  if (value <= 4) return Math.ceil(value);
  const raw = value / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const s of [1, 2, 2.5, 5, 10]) {
    const step = s * power;
    if (Number.isInteger(step) && step >= raw) return step * 4;
  }
  return 40 * power;
}

// Counts get whole-number ticks only (no "0, 0, 1, 1, 1" for a maximum of 1).
function ticks(max, integer) {
  const count = integer ? Math.max(1, Math.min(4, max)) : 4;
  return Array.from({ length: count + 1 }, (_, i) => (max / count) * i);
}

function yAxis(max, format, plotHeight, integer) {
  return svg("g", { class: "axis y" }, ticks(max, integer).map((t) => {
    const y = PAD.top + plotHeight - (t / max) * plotHeight;
    return svg("g", {},
      svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: "gridline", "stroke-dasharray": t ? "3 3" : null }),
      svg("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end", text: format(t) }));
  }));
}

function xLabels(labels, xOf) {
  const every = Math.max(1, Math.ceil(labels.length / (WIDTH < 500 ? 4 : 8)));
  const last = labels.length - 1;
  // Every n-th label plus the last one, dropping a regular label that would collide with it.
  const shown = (i) => i === last || (i % every === 0 && last - i >= every / 2);
  return svg("g", { class: "axis x" }, labels.map((label, i) => shown(i)
    ? svg("text", { x: xOf(i), y: HEIGHT - PAD.bottom + 18, "text-anchor": "middle", text: shorten(label) })
    : null));
}

function shorten(label) {
  const text = String(label);
  return text.length > 12 ? text.slice(0, 11) + "…" : text;
}

function tooltipFor(figure) {
  const tip = h("div", { class: "tooltip", role: "presentation", hidden: true });
  figure.append(tip);
  return {
    show(target, text) {
      const box = target.getBoundingClientRect();
      const outer = figure.getBoundingClientRect();
      tip.textContent = text;
      tip.hidden = false;
      tip.style.left = `${box.left - outer.left + box.width / 2}px`;
      tip.style.top = `${box.top - outer.top}px`;
    },
    hide() { tip.hidden = true; },
  };
}

// Hovering a point shows its tooltip; the point itself is not a tab stop.
function hoverable(el, tip, text) {
  el.append(svg("title", { text }));
  el.addEventListener("mouseenter", () => tip.show(el, text));
  el.addEventListener("mouseleave", () => tip.hide());
  return { el, text };
}

// The whole drawing is one tab stop (a month of daily points was 90 of them). Arrow keys move
// between points (left and right along the axis, up and down between series), Home and End jump
// to the ends; the current point shows its tooltip and is read out by a live region.
function navigable(figure, drawing, tip, grid, title) {
  const live = h("p", { class: "visually-hidden chart-live", "aria-live": "polite" });
  figure.append(live);
  const multi = grid.length > 1;
  drawing.setAttribute("tabindex", "0");
  drawing.setAttribute("aria-label", `${title}. Use the arrow keys to read each value${multi ? "; up and down switch the series" : ""}.`);
  let series = 0;
  let index = -1;
  const show = () => {
    drawing.querySelectorAll(".active").forEach((el) => el.classList.remove("active"));
    const point = grid[series][index];
    point.el.classList.add("active");
    tip.show(point.el, point.text);
    live.textContent = point.text;
  };
  const keys = {
    ArrowRight: () => { index = Math.min(index + 1, grid[series].length - 1); },
    ArrowLeft: () => { index = Math.max(index - 1, 0); },
    ArrowDown: () => { series = Math.min(series + 1, grid.length - 1); },
    ArrowUp: () => { series = Math.max(series - 1, 0); },
    Home: () => { index = 0; },
    End: () => { index = grid[series].length - 1; },
  };
  drawing.addEventListener("keydown", (event) => {
    const move = keys[event.key];
    if (!move) return;
    event.preventDefault();
    move();
    show();
  });
  drawing.addEventListener("focus", () => { if (index < 0) index = 0; show(); });
  drawing.addEventListener("blur", () => {
    tip.hide();
    drawing.querySelectorAll(".active").forEach((el) => el.classList.remove("active"));
  });
}

function dataTable(title, headers, rows) {
  return h("details", {}, h("summary", { text: "Show data as a table" }),
    h("div", { class: "table-wrap" }, h("table", {},
      h("caption", { class: "visually-hidden", text: title }),
      h("thead", {}, h("tr", {}, headers.map((label, i) => h("th", { scope: "col", class: i ? "num" : null, text: label })))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c, i) => h(i ? "td" : "th", { class: i ? "num" : null, scope: i ? null : "row", text: c }))))))));
}

function frame(title, summary) {
  return h("figure", { class: "chart" }, h("figcaption", { text: title }),
    summary ? h("p", { class: "visually-hidden", text: summary }) : null);
}

// data: [{label, value}]
export function barChart({ title, data, format = String, integer = false }) {
  WIDTH = chartWidth();
  const figure = frame(title);
  if (!data.length) { figure.append(h("p", { class: "chart-empty", text: "No data for this period." })); return figure; }
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const max = niceMax(Math.max(...data.map((d) => Number(d.value) || 0)), integer);
  const slot = plotWidth / data.length;
  const barWidth = Math.max(2, Math.min(48, slot * 0.7));
  const xOf = (i) => PAD.left + slot * i + slot / 2;
  const tip = tooltipFor(figure);
  const bars = data.map((d, i) => {
    const height = ((Number(d.value) || 0) / max) * plotHeight;
    return hoverable(svg("rect", { class: "bar", x: xOf(i) - barWidth / 2, y: PAD.top + plotHeight - height,
      width: barWidth, height: Math.max(height, 0.5), rx: 2 }), tip, `${d.label}: ${format(d.value)}`);
  });
  const drawing = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "group" },
    yAxis(max, format, plotHeight, integer), xLabels(data.map((d) => d.label), xOf), svg("g", {}, bars.map((b) => b.el)));
  figure.insertBefore(drawing, figure.children[1] || null);
  navigable(figure, drawing, tip, [bars], title);
  figure.append(dataTable(title, ["", title], data.map((d) => [d.label, format(d.value)])));
  return figure;
}

// labels: x labels; series: [{name, values: [number per label]}]
export function lineChart({ title, labels, series, format = String, integer = false }) {
  WIDTH = chartWidth();
  const figure = frame(title);
  if (!labels.length) { figure.append(h("p", { class: "chart-empty", text: "No data for this period." })); return figure; }
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const max = niceMax(Math.max(...series.flatMap((s) => s.values.map((v) => Number(v) || 0))), integer);
  const xOf = (i) => PAD.left + (labels.length === 1 ? plotWidth / 2 : (plotWidth * i) / (labels.length - 1));
  const yOf = (v) => PAD.top + plotHeight - ((Number(v) || 0) / max) * plotHeight;
  const tip = tooltipFor(figure);
  const grid = series.map((s) => s.values.map((v, i) => hoverable(svg("circle", { class: "dot", cx: xOf(i), cy: yOf(v), r: 3.5 }), tip,
    `${labels[i]} · ${s.name}: ${format(v)}`)));
  const groups = series.map((s, si) => svg("g", { class: `series series-${si}` },
    svg("path", { class: "line", d: s.values.map((v, i) => `${i ? "L" : "M"}${xOf(i)},${yOf(v)}`).join(" ") }),
    grid[si].map((point) => point.el)));
  const legend = series.length > 1 ? h("div", { class: "legend", "aria-hidden": "true" },
    series.map((s, si) => h("span", { class: `series-${si}` }, h("span", { class: "swatch" }), s.name))) : null;
  const drawing = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "group" },
    yAxis(max, format, plotHeight, integer), xLabels(labels, xOf), groups);
  figure.append(legend || "", drawing);
  navigable(figure, drawing, tip, grid, title);
  figure.append(dataTable(title, ["", ...series.map((s) => s.name)],
    labels.map((label, i) => [label, ...series.map((s) => format(s.values[i]))])));
  return figure;
}
