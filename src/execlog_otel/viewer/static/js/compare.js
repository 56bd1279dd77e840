// Compare two executions or two attempts: the server computes the diff (/api/compare); this page shows
// it side by side, the first divergence highlighted. Span data is untrusted: text only (el()).
import {api, badge, clear, el, formatDuration, formatInt, formatUsd, initTimeZoneLabel, setTime, showError} from "./common.js";

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(window.location.search);

function signed(n, format) {
  if (n === null || n === undefined) return "—";
  if (n === 0) return "±0";
  return `${n > 0 ? "+" : "−"}${format(Math.abs(n))}`;
}

function sideCard(label, s) {
  const href = `/executions/${encodeURIComponent(s.id)}${s.attempt ? `?attempt=${s.attempt}` : ""}`;
  const link = el("a", {text: `${s.name} · attempt ${s.attempt}`});
  link.href = href;
  return el("div", {class: "compare-side"}, el("span", {class: "compare-label", text: label}), link, " ",
    badge(s.status), el("div", {class: "muted"}, setTime(el("time"), s.started_at),
      ` · ${formatDuration(s.duration_ms)} · ${formatInt(s.steps)} steps · ${formatInt(s.total_tokens)} tokens` +
      ` · ${s.cost_usd === null || s.cost_usd === undefined ? "no cost" : formatUsd(s.cost_usd)}`));
}

function diffList(diffs) {
  const list = el("ul", {class: "json-diff"});
  for (const d of diffs) {
    const text = (v) => (v === null || v === undefined ? "∅" : JSON.stringify(v));
    list.append(el("li", {class: `diff-${d.change}`}, el("code", {text: d.path}), " ",
      el("span", {class: "diff-a", text: text(d.a)}), " → ", el("span", {class: "diff-b", text: text(d.b)})));
  }
  return list;
}

function ioSection(title, diffs) {
  return el("div", {class: "json-section"}, el("h3", {text: `${title}: ${diffs.length ? `${diffs.length} change${
    diffs.length === 1 ? "" : "s"}` : "same"}`}), diffs.length ? diffList(diffs) : null);
}

function stepRow(row, index, first) {
  const tr = el("tr", {class: `${row.differs ? "differs" : "same"}${index === first ? " first-divergence" : ""}`});
  tr.dataset.index = String(index);
  const name = el("td", {class: "c-step"});
  name.style.paddingLeft = `${0.5 + Math.min(row.depth, 10) * 0.9}rem`;
  name.append(row.name);
  if (index === first) name.append(el("span", {class: "divergence-tag", text: "first divergence"}));
  const side = (s) => (s ? badge(s.status) : el("span", {class: "muted", text: "not in this run"}));
  const cell = (...kids) => el("td", {}, ...kids);
  const num = (text) => el("td", {class: "num", text});
  const io = el("td", {class: "c-io"});
  const changes = row.input_diff.length + row.output_diff.length;
  if (changes) {
    const details = el("details", {}, el("summary", {text: `${changes} change${changes === 1 ? "" : "s"}`}));
    if (row.input_diff.length) details.append(el("strong", {text: "Input"}), diffList(row.input_diff));
    if (row.output_diff.length) details.append(el("strong", {text: "Output"}), diffList(row.output_diff));
    io.append(details);
  } else {
    io.append(el("span", {class: "muted", text: row.a && row.b ? "same" : "—"}));
  }
  tr.append(name, cell(side(row.a)), num(row.a ? formatDuration(row.a.duration_ms) : "—"), cell(side(row.b)),
    num(row.b ? formatDuration(row.b.duration_ms) : "—"), num(signed(row.duration_ms_change, formatDuration)),
    el("td", {class: "num"}, el("div", {text: signed(row.tokens_change, formatInt)}),
      el("div", {class: "muted", text: signed(row.cost_usd_change, formatUsd)})), io);
  return tr;
}

function render(data) {
  $("compare-title").textContent = `Compare ${data.a.name}`;
  document.title = `Compare ${data.a.name} · execlog`;
  clear($("compare-sides")).append(sideCard("A", data.a), sideCard("B", data.b));
  const first = data.first_divergence;
  const summary = clear($("compare-summary"));
  summary.append(`Status ${data.a.status} → ${data.b.status} · duration ${signed(data.duration_ms_change, formatDuration)}` +
    ` · tokens ${signed(data.tokens_change, formatInt)} · cost ${signed(data.cost_usd_change, formatUsd)}` +
    ` · ${formatInt(data.changed_steps)} of ${
      formatInt(data.steps.length)} steps differ. `);
  if (first !== null) {
    const jump = el("a", {text: `First divergence: ${data.steps[first].name}`});
    jump.href = "#first-divergence";
    summary.append(jump);
  } else {
    summary.append("No step diverges.");
  }
  clear($("compare-io")).append(ioSection("Input", data.input_diff), ioSection("Output", data.output_diff));
  const rows = clear($("compare-rows"));
  const onlyChanged = $("only-changed").checked;
  data.steps.forEach((row, index) => {
    if (onlyChanged && !row.differs) return;
    const tr = stepRow(row, index, first);
    if (index === first) tr.id = "first-divergence";
    rows.append(tr);
  });
  $("compare-count").textContent = `${formatInt(data.steps.length)} aligned steps`;
  $("compare").dataset.loaded = "true";
}

let data = null;
$("only-changed").addEventListener("change", () => data && render(data));

async function load() {
  try {
    data = await api("/api/compare", query);
    render(data);
    const first = $("first-divergence");
    if (first) first.scrollIntoView({block: "center"});
  } catch (err) {
    showError($("error-banner"), err);
    $("compare-summary").textContent = "";
  }
}

initTimeZoneLabel();
load();
