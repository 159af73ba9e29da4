// Tiny DOM builder. Text always goes in as text nodes, never as HTML, so server or model
// content can never become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) setAttr(el, key, value);
  append(el, children);
  return el;
}

function setAttr(el, key, value) {
  if (value === null || value === undefined || value === false) return;
  if (key === "class") el.className = value;
  else if (key === "text") el.textContent = value;
  else if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
  else if (key === "dataset") Object.assign(el.dataset, value);
  else if (key === "value" && "value" in el) el.value = value;
  else if (key === "checked" || key === "selected" || key === "disabled") el[key] = Boolean(value);
  else el.setAttribute(key, value === true ? "" : String(value));
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function formatNumber(value, digits = 0) {
  const n = Number(value || 0);
  return n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

// Costs are US dollars from LiteLLM's price map, mostly fractions of a cent per message: always
// four decimals, so a column of costs lines up and $0.0004 never reads as $0.00.
const COST_FORMAT = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 4, maximumFractionDigits: 4 });

export function formatCost(value) {
  const n = Number(value);
  return COST_FORMAT.format(Number.isFinite(n) ? n : 0);
}

export function formatDate(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function formatDay(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleDateString();
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) return "—";
  const n = Number(ms);
  return n >= 1000 ? (n / 1000).toFixed(1) + " s" : Math.round(n) + " ms";
}

export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function daysAgo(n) {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() - n);
  return date;
}
