// Shared helpers of the viewer pages. Every value that comes from a span is untrusted: the
// pages build DOM with createElement / textContent only, never markup strings.
//
// Extension points for other features (Download Code, Retry): the pages dispatch
//   document "execlog:row"        {detail: {row, item}}   after a listing row is rendered or updated
//   document "execlog:quickview"  {detail: {dialog, item}} when Quick View shows an execution
//   document "execlog:detail"     {detail: {root, item}}  when the detail page renders an execution
// and leave empty elements marked data-slot="download-code" | "retry" | "quickview-code" |
// "execution-code" | "step-code" for them to fill.

export const LIVE_STATUSES = new Set((document.body.dataset.liveStatuses || "Running,Queued,Pending,Paused")
  .split(",").filter(Boolean));

export class ApiError extends Error {}

// The project this page shows (its ?project=; empty: every project the caller sees). API calls and links
// carry it, so a permalink keeps its project.
export const PROJECT = document.body.dataset.project || "";

/** A same-site href with this page's project added (unless it names one already). */
export function withProject(href) {
  if (!PROJECT) return href;
  const url = new URL(href, window.location.origin);
  if (url.origin !== window.location.origin || url.searchParams.has("project")) return href;
  url.searchParams.set("project", PROJECT);
  return `${url.pathname}${url.search}${url.hash}`;
}

/** GET a JSON document from the API; throws ApiError carrying the server's message. */
export async function api(path, params) {
  const url = new URL(path, window.location.origin);
  if (params) {
    for (const [k, v] of params instanceof URLSearchParams ? params.entries() : Object.entries(params)) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.append(k, v);
    }
  }
  if (PROJECT && !url.searchParams.has("project")) url.searchParams.set("project", PROJECT);
  let response;
  try {
    response = await fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
  } catch (err) {
    throw new ApiError(`Cannot reach the server (${err.message}). Is execlog still running?`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error ? body.error : `${response.status} ${response.statusText}`;
    const error = new ApiError(message);
    error.status = response.status;
    throw error;
  }
  return body;
}

/** createElement with a class, text and attributes (never HTML). */
export function el(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  if (options.class) node.className = options.class;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  if (options.title) node.title = String(options.title);
  if (options.attrs) {
    for (const [k, v] of Object.entries(options.attrs)) {
      if (/^on/i.test(k)) continue; // never an event-handler attribute
      node.setAttribute(k, String(v));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// --- formatting -------------------------------------------------------------------------------

const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  hour12: false,
});
// This year's times leave the year out: the listing stays narrow.
const shortTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});
const numberFormat = new Intl.NumberFormat();

export function timeZoneName() {
  return timeZone;
}

export function formatTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return (d.getFullYear() === new Date().getFullYear() ? shortTimeFormat : timeFormat).format(d);
}

/** A <time> element: local time as text, the exact ISO time (UTC, ns precision as stored) on hover. */
export function setTime(node, iso) {
  node.textContent = formatTime(iso);
  if (iso) {
    node.dateTime = iso;
    node.title = `${iso} (UTC) · shown in ${timeZone}`;
  } else {
    node.removeAttribute("datetime");
    node.title = "";
  }
  return node;
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms === 0) return "0";
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} m`;
}

export function formatInt(n) {
  return n === null || n === undefined ? "—" : numberFormat.format(n);
}

export function formatBytes(n) {
  if (n === null || n === undefined) return "unknown size";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function attemptsLabel(item) {
  if (!item || !item.attempt || item.attempt <= 1) return "";
  return item.max_attempts ? `attempt ${item.attempt} of ${item.max_attempts}` : `attempt ${item.attempt}`;
}

/** Fill a status badge: text + icon (CSS, keyed on data-status) + shape; never colour alone. */
export function setBadge(badge, status) {
  badge.hidden = false;
  badge.dataset.status = status || "Unknown";
  const text = badge.querySelector(".badge-text");
  if (text) text.textContent = status || "Unknown";
  else badge.textContent = status || "Unknown";
  badge.title = STATUS_HELP[status] || "";
  return badge;
}

export function badge(status) {
  const node = el("span", {class: "badge"}, el("span", {class: "badge-icon", attrs: {"aria-hidden": "true"}}),
    el("span", {class: "badge-text"}));
  return setBadge(node, status);
}

export const STATUS_HELP = {
  Success: "The execution completed successfully.",
  Failed: "The execution did not complete successfully.",
  "Partially Executed": "The execution completed some steps but not all (failed or skipped steps).",
  Running: "The execution is in progress.",
  Queued: "Waiting in the queue of a throttled automation.",
  Pending: "Not yet picked up for processing.",
  Paused: "Paused by a pause step.",
  Rejected: "The execution ran past its allotted time.",
  Skipped: "This step did not run.",
};

// --- JSON ---------------------------------------------------------------------------------------

const MAX_HIGHLIGHT_CHARS = 200_000;

/** Pretty-print a value into a <pre> as DOM nodes (keys, strings, numbers get their own class). */
export function renderJSON(pre, payload, emptyText = "Nothing recorded.") {
  clear(pre);
  pre.classList.remove("empty-json");
  if (!payload || payload.value === undefined) {
    pre.classList.add("empty-json");
    pre.textContent = emptyText;
    return;
  }
  const text = jsonText(payload.value);
  if (text.length > MAX_HIGHLIGHT_CHARS) {
    pre.textContent = text;
    return;
  }
  const frag = document.createDocumentFragment();
  appendValue(frag, payload.value, "");
  pre.append(frag);
}

export function jsonText(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function appendValue(out, value, indent) {
  if (value === null) {
    out.append(el("span", {class: "j-null", text: "null"}));
  } else if (Array.isArray(value)) {
    if (!value.length) return out.append("[]");
    out.append("[\n");
    value.forEach((v, i) => {
      out.append(indent + "  ");
      appendValue(out, v, indent + "  ");
      out.append(i < value.length - 1 ? ",\n" : "\n");
    });
    out.append(indent + "]");
  } else if (typeof value === "object") {
    const keys = Object.keys(value);
    if (!keys.length) return out.append("{}");
    out.append("{\n");
    keys.forEach((k, i) => {
      out.append(indent + "  ", el("span", {class: "j-key", text: JSON.stringify(k)}), ": ");
      appendValue(out, value[k], indent + "  ");
      out.append(i < keys.length - 1 ? ",\n" : "\n");
    });
    out.append(indent + "}");
  } else if (typeof value === "string") {
    out.append(el("span", {class: "j-str", text: JSON.stringify(value)}));
  } else if (typeof value === "number") {
    out.append(el("span", {class: "j-num", text: String(value)}));
  } else {
    out.append(el("span", {class: "j-bool", text: String(value)}));
  }
}

/** The "truncated" note of a payload: says so and gives the original size. */
export function setPayloadNote(note, payload) {
  if (payload && payload.truncated) {
    note.hidden = false;
    note.textContent = `Truncated: the recorded payload was cut to the store's cap; original size ${
      formatBytes(payload.original_size)}${payload.original_size ? ` (${formatInt(payload.original_size)} bytes)` : ""}.`;
  } else {
    note.hidden = true;
    note.textContent = "";
  }
}

// --- clipboard, toast, links ----------------------------------------------------------------------

// How long the asynchronous clipboard may take before the fallback copies instead: its promise can stay
// pending (a page without focus), which left the button without any answer.
const CLIPBOARD_WAIT_MS = 1500;

export async function copyText(text, what = "Copied") {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      let timer;
      const late = new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error("the clipboard did not answer")), CLIPBOARD_WAIT_MS);
      });
      try {
        await Promise.race([navigator.clipboard.writeText(text), late]);
      } finally {
        clearTimeout(timer);
      }
      ok = true;
    }
  } catch (err) {
    ok = false;
  }
  if (!ok) {
    // Fallback for plain-http origins other than localhost: a selected, off-screen textarea.
    const area = el("textarea", {class: "offscreen", attrs: {readonly: "", "aria-hidden": "true"}});
    area.value = text;
    document.body.append(area);
    area.select();
    try {
      ok = document.execCommand("copy");
    } catch (err) {
      ok = false;
    }
    area.remove();
  }
  toast(ok ? what : "Copy failed: select the text and copy it by hand");
  return ok;
}

let toastTimer = null;

export function toast(message) {
  const node = document.getElementById("toast");
  if (!node) return;
  node.textContent = message;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 2200);
}

/** The stable permalink of an execution (EXECLOG_BASE_URL when set, else this origin). */
export function permalink(id) {
  const base = document.body.dataset.baseUrl || window.location.origin;
  return `${base}/executions/${encodeURIComponent(id)}${PROJECT ? `?${new URLSearchParams({project: PROJECT})}` : ""}`;
}

export function emit(name, detail) {
  document.dispatchEvent(new CustomEvent(name, {detail}));
}

// --- listing query (shared by the listing and the detail page's previous / next) --------------

export const RANGES = {"1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3};
const LISTING_KEYS = ["project", "kind", "name", "q", "status", "range", "from", "to", "sort", "order", "limit", "cost_above"];

/** The listing's own query (page URL form): only the keys that define its rows and order. */
export function listingQuery(params) {
  const out = new URLSearchParams();
  for (const k of LISTING_KEYS) {
    const v = params.get(k);
    if (v) out.set(k, v);
  }
  return out;
}

/** Page-URL listing query -> API query (relative date ranges resolved now). */
export function apiParams(params) {
  const out = new URLSearchParams();
  const kind = params.get("kind");
  if (kind && kind !== "all") out.set("kind", kind);
  for (const k of ["name", "q", "status", "sort", "order", "limit", "cost_above"]) {
    const v = params.get(k);
    if (v) out.set(k, v);
  }
  const range = params.get("range");
  if (range && RANGES[range]) {
    out.set("from", new Date(Date.now() - RANGES[range]).toISOString());
  } else if (range === "custom") {
    if (params.get("from")) out.set("from", params.get("from"));
    if (params.get("to")) out.set("to", params.get("to"));
  }
  if (PROJECT) out.set("project", PROJECT);
  return out;
}

// --- cost (USD, computed in ClickHouse from the price table in force) --------------------------------

/** US dollars as shown: "no price" for null (a model without a price), never "$0" for it. */
export function formatUsd(usd) {
  if (usd === null || usd === undefined) return "no price";
  if (usd === 0) return "$0";
  const digits = usd < 0.01 ? 4 : usd < 100 ? 2 : 0;
  return `$${usd.toLocaleString(undefined, {minimumFractionDigits: digits, maximumFractionDigits: digits})}`;
}

/** A cost object of the API as text: "$0.42", "$0.42 + 2 steps without price", "no price". */
export function costText(cost) {
  if (!cost) return "—";
  const usd = formatUsd(cost.usd);
  if (cost.usd !== null && cost.unpriced_steps) {
    return `${usd} + ${cost.unpriced_steps} step${cost.unpriced_steps === 1 ? "" : "s"} without price`;
  }
  return usd;
}

/** Its token breakdown, each kind once. */
export function costBreakdown(cost) {
  if (!cost) return "";
  const parts = [`${formatInt(cost.input_tokens)} input`];
  if (cost.cache_read_tokens) parts.push(`${formatInt(cost.cache_read_tokens)} cached input`);
  if (cost.cache_write_tokens) parts.push(`${formatInt(cost.cache_write_tokens)} cache write`);
  parts.push(`${formatInt(cost.output_tokens)} output`);
  if (cost.reasoning_tokens) parts.push(`${formatInt(cost.reasoning_tokens)} reasoning`);
  let text = `${parts.join(" · ")} tokens`;
  if (cost.reported_usd) text += `; ${formatUsd(cost.reported_usd)} reported by the runner`;
  if (cost.priced_as) text += `; priced as ${cost.priced_as}`;
  return text;
}

export function isTyping(event) {
  const t = event.target;
  return t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
}

export function showError(banner, error) {
  if (!error) {
    banner.hidden = true;
    banner.textContent = "";
    return;
  }
  banner.hidden = false;
  banner.textContent = error.message || String(error);
}

export function initTimeZoneLabel() {
  const label = document.getElementById("tz-label");
  if (label) label.textContent = `Times in ${timeZone}`;
}

// --- icons -----------------------------------------------------------------------------------------

// Stroke icons (24 × 24 paths) for compact buttons: drawn as SVG, so no font decides their look.
const ICON_PATHS = {
  view: "M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5",
  link: "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
  quick: "M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12zM12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z",
  download: "M12 4v11M7 10l5 5 5-5M5 20h14",
  retry: "M4 12a8 8 0 1 0 2.3-5.7M4 4v5h5",
  info: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 11v6M12 7.5v.5",
  compare: "M9 4H5v16h4M15 4h4v16h-4M12 2v20",
};

/** An inline SVG icon (aria-hidden: the button around it carries the label). */
export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon icon-${name}`);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICON_PATHS[name] || ICON_PATHS.info);
  svg.append(path);
  return svg;
}

/** Make a compact icon button (or link): the icon shows, the label is its accessible name and tooltip. */
export function iconAction(node, name, label) {
  node.classList.add("icon-act");
  node.setAttribute("aria-label", label);
  node.dataset.label = label;
  node.removeAttribute("title");  // the CSS tooltip (hover and keyboard focus) shows the label
  clear(node).append(icon(name));
  return node;
}
