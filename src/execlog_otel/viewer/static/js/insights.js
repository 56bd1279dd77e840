// Insights: one chart per /api/insights/<chart> query, drawn with the vendored Chart.js (a static file
// of the package, under the page's strict Content-Security-Policy). Filters are the listing's URL
// parameters (kind, name, status, range/from/to), so the page and the listing share links; every chart
// opens the listing filtered to what was clicked. The numbers behind each chart are a table and a CSV.
import {api, apiParams, clear, el, formatInt, initTimeZoneLabel, RANGES, showError, withProject} from "./common.js";

const $ = (id) => document.getElementById(id);
const Chart = window.Chart;
const STATUS_COLOURS = {
  "Success": "#1f7a3f", "Failed": "#b42318", "Partially Executed": "#9a5b00", "Rejected": "#7a271a",
  "Running": "#1d5fbf", "Queued": "#5b6472", "Pending": "#98a2b3", "Paused": "#6b3fa0",
};
const PALETTE = ["#3b5bdb", "#0b7285", "#e67700", "#862e9c", "#2b8a3e", "#c92a2a", "#5c940d", "#1864ab",
                 "#a61e4d", "#495057"];
const FAILED = "Failed,Rejected";
const charts = {};  // chart id -> Chart instance (tests read positions from it)
window.execlogCharts = charts;

// How each chart is drawn: its type, the value column, the series column (time charts) and where a
// click on an element leads (extra listing parameters).
const SPECS = {
  status_over_time: {type: "bar", stacked: true, value: "executions", series: "status",
                     link: (row) => ({status: row.status})},
  failure_rate: {type: "line", value: "failure_rate", percent: true, link: () => ({status: FAILED})},
  duration: {type: "line", values: ["p50_ms", "p95_ms"], unit: "ms", link: () => ({})},
  cost_by_model: {type: "bar", stacked: true, value: "cost_usd", alt: "tokens", series: "model", usd: true,
                  link: () => ({})},
  cost_by_name: {type: "bar", stacked: true, value: "cost_usd", alt: "tokens", series: "name", usd: true,
                 link: (row) => ({name: row.name, kind: row.kind})},
  top_failing: {type: "hbar", label: "name", value: "failed",
                link: (row) => ({name: row.name, kind: row.kind, status: FAILED})},
  slowest_steps: {type: "hbar", label: "step", value: "p95_ms", unit: "ms", link: () => ({})},
  failing_steps: {type: "hbar", label: "step", value: "failures", link: () => ({status: "Failed,Rejected,Partially Executed"})},
  tools: {type: "hbar", label: "tool", value: "runs", link: () => ({})},
  connectors: {type: "hbar", label: "connector", value: "runs", link: () => ({})},
};

function pageParams() {
  const params = new URLSearchParams(window.location.search);
  if (!params.get("range") && !params.get("from")) params.set("range", "7d");
  return params;
}

function setParam(key, value) {
  const params = pageParams();
  if (value) params.set(key, value); else params.delete(key);
  if (key === "kind") params.delete("name");
  window.history.pushState(null, "", `${window.location.pathname}?${params}`);
  load();
}

/** The listing URL for this page's filters plus ``extra`` (a clicked bar's bucket, status, name …). */
function listingUrl(extra = {}) {
  const params = pageParams();
  const out = new URLSearchParams();
  for (const k of ["kind", "name", "status", "range", "from", "to"]) if (params.get(k)) out.set(k, params.get(k));
  for (const [k, v] of Object.entries(extra)) if (v) out.set(k, v);
  if (extra.from) out.set("range", "custom");
  return withProject(`/executions?${out}`);
}

function bucketLabel(iso, seconds) {
  const d = new Date(iso);
  const opts = seconds >= 86400 ? {month: "short", day: "numeric"}
    : {month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"};
  return d.toLocaleString(undefined, opts);
}

function formatValue(spec, v, key) {
  if (v === null || v === undefined) return "no price";
  if (key === "cost_usd" || (spec.usd && key === spec.value)) return `$${Number(v).toFixed(Number(v) < 1 ? 4 : 2)}`;
  if (spec.percent && key === spec.value) return `${(v * 100).toFixed(1)}%`;
  if (typeof v === "number") return formatInt(v);
  return String(v);
}

function objects(data) {
  return data.rows.map((r) => Object.fromEntries(data.columns.map((c, i) => [c, r[i]])));
}

function fillTable(card, spec, data) {
  const thead = card.querySelector("thead");
  const tbody = card.querySelector("tbody");
  clear(thead);
  clear(tbody);
  thead.append(el("tr", {}, ...data.columns.map((c) => el("th", {text: c}))));
  for (const row of data.rows) {
    tbody.append(el("tr", {}, ...row.map((v, i) => el("td", {text: formatValue(spec, v, data.columns[i])}))));
  }
}

/** Every bucket of the range (ISO text as the query writes it), so quiet intervals show as gaps. */
function allBuckets(data, rows) {
  const step = data.bucket_seconds * 1000;
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  const out = new Set();
  for (let t = Math.floor(Date.parse(data.from) / step) * step; t <= Date.parse(data.to) && out.size < 500; t += step) {
    out.add(iso(t));
  }
  for (const r of rows) out.add(r.bucket);
  return [...out].sort();
}

/** Chart.js config for a chart's rows: time series (one dataset per series value) or ranked bars. */
function config(id, spec, data, metric) {
  const rows = objects(data);
  const valueKey = metric || spec.value;
  const links = [];  // [datasetIndex][index] -> listing parameters
  let labels;
  let datasets;
  if (spec.type === "hbar") {
    labels = rows.map((r) => String(r[spec.label]));
    datasets = [{label: spec.value, data: rows.map((r) => r[spec.value]), backgroundColor: PALETTE[0]}];
    links.push(rows.map((r) => spec.link(r)));
  } else {
    const buckets = allBuckets(data, rows);
    labels = buckets.map((b) => bucketLabel(b, data.bucket_seconds));
    const bucketRange = (b) => {
      const from = new Date(b);
      const to = new Date(from.getTime() + data.bucket_seconds * 1000 - 1);
      return {from: from.toISOString(), to: to.toISOString()};
    };
    const keys = spec.values ? spec.values : [null];
    datasets = [];
    if (spec.series) {
      const names = [...new Set(rows.map((r) => r[spec.series]))];
      names.forEach((name, i) => {
        const byBucket = new Map(rows.filter((r) => r[spec.series] === name).map((r) => [r.bucket, r]));
        datasets.push({
          label: String(name), data: buckets.map((b) => (byBucket.get(b) || {})[valueKey] ?? null),
          backgroundColor: STATUS_COLOURS[name] || PALETTE[i % PALETTE.length],
          borderColor: STATUS_COLOURS[name] || PALETTE[i % PALETTE.length],
        });
        links.push(buckets.map((b) => ({...spec.link(byBucket.get(b) || {[spec.series]: name}), ...bucketRange(b)})));
      });
    } else {
      keys.forEach((key, i) => {
        const k = key || valueKey;
        const byBucket = new Map(rows.map((r) => [r.bucket, r]));
        datasets.push({label: k, data: buckets.map((b) => (byBucket.get(b) || {})[k] ?? null),
                       borderColor: PALETTE[i], backgroundColor: PALETTE[i], spanGaps: true});
        links.push(buckets.map((b) => ({...spec.link(byBucket.get(b) || {}), ...bucketRange(b)})));
      });
    }
  }
  const horizontal = spec.type === "hbar";
  const valueAxis = {
    beginAtZero: true, stacked: Boolean(spec.stacked),
    ticks: {callback: (v) => (spec.percent && !metric ? `${Math.round(v * 100)}%`
      : spec.usd && valueKey === "cost_usd" ? `$${v}` : v)},
  };
  if (spec.percent) valueAxis.max = 1;
  if (!spec.percent && !(spec.usd && valueKey === "cost_usd")) valueAxis.ticks.precision = 0;  // counts
  return {
    type: horizontal ? "bar" : spec.type,
    data: {labels, datasets},
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, indexAxis: horizontal ? "y" : "x",
      interaction: {mode: "nearest", intersect: true},
      plugins: {
        legend: {display: datasets.length > 1, position: "bottom", labels: {boxWidth: 10}},
        tooltip: {callbacks: {label: (ctx) => `${ctx.dataset.label}: ${formatValue(spec, ctx.raw, valueKey)}`}},
      },
      scales: horizontal
        ? {x: valueAxis, y: {ticks: {autoSkip: false}}}
        : {x: {stacked: Boolean(spec.stacked), ticks: {maxRotation: 0, autoSkipPadding: 12}}, y: valueAxis},
      onClick: (event, elements) => {
        if (!elements.length) return;
        const {datasetIndex, index} = elements[0];
        window.location.assign(listingUrl(links[datasetIndex][index]));
      },
      onHover: (event, elements) => {
        event.native.target.classList.toggle("clickable", elements.length > 0);
      },
    },
  };
}

function draw(card, id, spec, data, metric) {
  if (charts[id]) charts[id].destroy();
  const empty = data.rows.length === 0;
  card.querySelector(".insight-empty").hidden = !empty;
  card.querySelector(".insight-canvas").hidden = empty;
  if (!empty) charts[id] = new Chart(card.querySelector("canvas"), config(id, spec, data, metric));
  card.dataset.state = empty ? "empty" : "drawn";
}

function card(chart) {
  const node = $("chart-card").content.firstElementChild.cloneNode(true);
  node.dataset.chart = chart.id;
  node.querySelector(".insight-title").textContent = chart.title;
  node.querySelector("canvas").setAttribute("aria-label", chart.title);
  const spec = SPECS[chart.id];
  if (spec && spec.alt) {
    const seg = el("div", {class: "seg insight-metric", attrs: {role: "group", "aria-label": "Measure"}},
      el("button", {text: "Cost", attrs: {type: "button", "data-metric": spec.value, "aria-pressed": "true"}}),
      el("button", {text: "Tokens", attrs: {type: "button", "data-metric": spec.alt, "aria-pressed": "false"}}));
    node.querySelector(".insight-head").insertBefore(seg, node.querySelector(".insight-csv"));
  }
  return node;
}

let charts_list = null;

async function load() {
  const params = pageParams();
  syncControls(params);
  const query = apiParams(params);
  $("listing-link").href = listingUrl();
  showError($("error"), null);
  document.body.dataset.insights = "loading";
  try {
    charts_list = charts_list || (await api("/api/insights")).charts;
  } catch (err) {
    showError($("error"), err);
    return;
  }
  const grid = $("charts");
  if (!grid.children.length) for (const c of charts_list) grid.append(card(c));
  await Promise.all(charts_list.map(async (c) => {
    const node = grid.querySelector(`[data-chart="${c.id}"]`);
    const spec = SPECS[c.id];
    node.querySelector(".insight-csv").href = `/api/insights/${c.id}?${query}&format=csv`;
    try {
      const data = await api(`/api/insights/${c.id}`, query);
      $("range-label").textContent = `${new Date(data.from).toLocaleString()} – ${new Date(data.to).toLocaleString()}`;
      fillTable(node, spec, data);
      draw(node, c.id, spec, data, null);
      for (const b of node.querySelectorAll(".insight-metric button")) {
        b.setAttribute("aria-pressed", String(b.dataset.metric === spec.value));
        b.onclick = () => {
          for (const o of node.querySelectorAll(".insight-metric button")) {
            o.setAttribute("aria-pressed", String(o === b));
          }
          draw(node, c.id, spec, data, b.dataset.metric);
        };
      }
    } catch (err) {
      node.dataset.state = "error";
      showError($("error"), err);
    }
  }));
  document.body.dataset.insights = "ready";
}

// --- filters (the listing's URL parameters) -------------------------------------------------------
function syncControls(params) {
  const kind = params.get("kind") || "all";
  for (const b of $("kind-switch").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
  const range = params.get("range") || (params.get("from") ? "custom" : "7d");
  for (const b of $("date-presets").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.range === range));
  $("custom-range").hidden = range !== "custom";
  $("status-select").value = params.get("status") || "";
  loadNames(kind === "all" ? "" : kind, params.get("name") || "");
}

let namesKind = null;
async function loadNames(kind, selected) {
  const select = $("scope-select");
  if (namesKind !== kind) {
    namesKind = kind;
    try {
      const {items} = await api("/api/names", kind ? {kind} : {});
      clear(select);
      select.append(el("option", {text: "All names", attrs: {value: ""}}));
      for (const it of items) select.append(el("option", {text: `${it.name} (${it.kind})`, attrs: {value: it.name}}));
    } catch (err) {
      showError($("error"), err);
    }
  }
  if (selected && ![...select.options].some((o) => o.value === selected)) {
    select.append(el("option", {text: selected, attrs: {value: selected}}));
  }
  select.value = selected;
}

$("kind-switch").addEventListener("click", (event) => {
  const b = event.target.closest("button");
  if (b) setParam("kind", b.dataset.kind === "all" ? "" : b.dataset.kind);
});
$("scope-select").addEventListener("change", () => setParam("name", $("scope-select").value));
$("status-select").addEventListener("change", () => setParam("status", $("status-select").value));
$("date-presets").addEventListener("click", (event) => {
  const b = event.target.closest("button");
  if (!b) return;
  if (b.dataset.range === "custom") {
    $("custom-range").hidden = false;
    return;
  }
  const params = pageParams();
  params.set("range", b.dataset.range);
  params.delete("from");
  params.delete("to");
  window.history.pushState(null, "", `${window.location.pathname}?${params}`);
  load();
});
$("range-apply").addEventListener("click", () => {
  const params = pageParams();
  const from = $("range-from").value;
  const to = $("range-to").value;
  params.set("range", "custom");
  if (from) params.set("from", new Date(from).toISOString()); else params.delete("from");
  if (to) params.set("to", new Date(to).toISOString()); else params.delete("to");
  window.history.pushState(null, "", `${window.location.pathname}?${params}`);
  load();
});
window.addEventListener("popstate", load);

initTimeZoneLabel();
if (RANGES && Chart) load(); else showError($("error"), new Error("The chart library did not load."));
