// The projects landing page: each project the caller sees with executions, failures and cost (24 h, 7 d).
import {api, clear, el, setTime} from "./common.js";

const $ = (id) => document.getElementById(id);

function usd(value) {
  if (value === null || value === undefined) return "—";
  return `$${value < 0.01 && value > 0 ? value.toFixed(4) : value.toFixed(2)}`;
}

function row(p) {
  const href = `/executions?${new URLSearchParams({project: p.name})}`;
  const when = el("td", {class: "when"});
  if (p.last_started_at) setTime(when, p.last_started_at); else when.textContent = "—";
  return el("tr", {attrs: {"data-project": p.name}},
    el("th", {attrs: {scope: "row"}}, el("a", {class: "project-link", text: p.name, attrs: {href}})),
    el("td", {text: p.role || "—"}),
    el("td", {class: "num", text: p.executions_24h}),
    el("td", {class: `num${p.failed_24h ? " failed" : ""}`, text: p.failed_24h}),
    el("td", {class: "num", text: usd(p.cost_24h_usd)}),
    el("td", {class: "num", text: p.executions_7d}),
    el("td", {class: `num${p.failed_7d ? " failed" : ""}`, text: p.failed_7d}),
    el("td", {class: "num", text: usd(p.cost_7d_usd)}),
    when);
}

async function load() {
  const body = $("projects-body");
  try {
    const data = await api("/api/projects", {project: "*"});
    clear(body);
    if (!data.items.length) body.append(el("tr", {}, el("td", {attrs: {colspan: 9}, class: "muted", text: "No project has executions yet."})));
    for (const p of data.items) body.append(row(p));
    $("all-projects").hidden = !data.all_projects;
  } catch (err) {
    $("error-banner").textContent = err.message;
    $("error-banner").hidden = false;
  }
}

load();
