// The executions listing: filters in the URL, keyset pages, live rows, Quick View.
import {
  LIVE_STATUSES, api, apiParams, attemptsLabel, badge, clear, copyText, el, emit, formatDuration, formatInt,
  iconAction, initTimeZoneLabel, withProject, isTyping, listingQuery, permalink, renderJSON, setBadge, setPayloadNote, setTime,
  showError, costBreakdown, costText,
} from "./common.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
const SEARCH_DEBOUNCE_MS = 300;

const state = {
  params: new URLSearchParams(window.location.search),
  cursors: [null],   // cursor of each page visited; [0] is the first page
  page: 0,
  items: [],
  nextCursor: null,
  loading: null,
  quickIndex: -1,
  quickItem: null,
  loadSeq: 0,
};

// A link with from= / to= but no range means that custom range: the API checks it (a bad value is an
// error on the page, not a silently unfiltered listing).
if (!state.params.get("range") && (state.params.get("from") || state.params.get("to"))) {
  state.params.set("range", "custom");
}

// A reload keeps the page it was on (its cursor is in the URL), not the pages before it.
if (state.params.get("cursor")) {
  state.cursors = [null, state.params.get("cursor")];
  state.page = 1;
}

// --- URL state ------------------------------------------------------------------------------------

function setParam(key, value) {
  if (value === null || value === undefined || value === "") state.params.delete(key);
  else state.params.set(key, value);
}

function writeUrl() {
  const q = listingQuery(state.params);
  const cursor = state.cursors[state.page];
  if (cursor) q.set("cursor", cursor);
  const qs = q.toString();
  history.replaceState(null, "", `${window.location.pathname}${qs ? `?${qs}` : ""}`);
  // The detail page steps through this listing when opened from it.
  sessionStorage.setItem("execlog.listing", listingQuery(state.params).toString());
}

function resetPages() {
  state.cursors = [null];
  state.page = 0;
}

// --- loading ---------------------------------------------------------------------------------------

async function load() {
  const seq = ++state.loadSeq;
  const params = apiParams(state.params);
  const cursor = state.cursors[state.page];
  if (cursor) params.set("cursor", cursor);
  writeUrl();
  syncControls();
  document.body.classList.add("loading");
  try {
    const data = await api("/api/executions", params);
    if (seq !== state.loadSeq) return;  // a newer request superseded this one
    showError($("error-banner"), null);
    state.items = data.items;
    state.nextCursor = data.next_cursor;
    renderRows();
    renderCount(data);
    loadTotals(params);
  } catch (err) {
    if (seq !== state.loadSeq) return;
    showError($("error-banner"), err);
    state.items = [];
    state.nextCursor = null;
    renderRows();
    $("empty").hidden = true;
    $("count").textContent = "—";
    if (err.status === 400 && cursor) {
      // A stale or foreign cursor: start over from the first page.
      resetPages();
      return load();
    }
  } finally {
    if (seq === state.loadSeq) document.body.classList.remove("loading");
  }
}

// Totals of everything the filters select (not only this page): executions, failed, tokens, cost.
let totalsSeq = 0;
async function loadTotals(listParams) {
  const seq = ++totalsSeq;
  const params = new URLSearchParams(listParams);
  for (const k of ["cursor", "sort", "order", "limit"]) params.delete(k);
  try {
    const t = await api("/api/totals", params);
    if (seq !== totalsSeq) return;
    $("total-executions").textContent = formatInt(t.executions);
    $("total-failed").textContent = formatInt(t.failed);
    $("total-tokens").textContent = formatInt(t.tokens);
    $("total-cost").textContent = costText({usd: t.cost_usd, unpriced_steps: t.unpriced_steps});
  } catch (err) {
    if (seq !== totalsSeq) return;
    // The listing itself still answers (its own error shows above); the totals keep their place.
    for (const id of ["total-executions", "total-failed", "total-tokens", "total-cost"]) $(id).textContent = "—";
  }
}

function renderCount(data) {
  const n = data.count_capped ? `${formatInt(data.count)}+` : formatInt(data.count);
  $("count").textContent = `${n} execution${data.count === 1 && !data.count_capped ? "" : "s"}`;
  $("count").dataset.count = data.count_capped ? `${data.count}+` : String(data.count);
  const first = state.page * (Number(state.params.get("limit")) || 50) + 1;
  $("page-label").textContent = state.items.length
    ? `Page ${state.page + 1} · rows ${formatInt(first)}–${formatInt(first + state.items.length - 1)}`
    : `Page ${state.page + 1}`;
  $("page-prev").disabled = state.page === 0;
  $("page-first").disabled = state.page === 0;
  $("page-next").disabled = !state.nextCursor;
}

// Counts per status in the status menu, under the other filters.
let facetsSeq = 0;

async function loadFacets() {
  const seq = ++facetsSeq;
  const params = apiParams(state.params);
  for (const k of ["status", "sort", "order", "limit"]) params.delete(k);
  try {
    const data = await api("/api/facets", params);
    if (seq !== facetsSeq) return;
    for (const span of $("status-filter").querySelectorAll(".facet-count")) {
      const n = data.status[span.dataset.facet] || 0;
      span.textContent = `${formatInt(n)}${data.capped ? "+" : ""}`;
      span.closest("label").classList.toggle("zero", n === 0);
    }
  } catch (err) {
    // The menu works without counts.
  }
}

async function goToPage(index) {
  if (index < 0) return false;
  if (index > state.page && !state.nextCursor) return false;
  if (index > state.page) state.cursors[index] = state.nextCursor;
  state.page = index;
  state.cursors.length = index + 1;
  await load();
  return true;
}

// --- rows ------------------------------------------------------------------------------------------

function detailHref(id) {
  const q = listingQuery(state.params).toString();
  return withProject(`/executions/${encodeURIComponent(id)}${q ? `?list=${encodeURIComponent(q)}` : ""}`);
}

function scopeHref(item) {
  const q = new URLSearchParams({kind: item.kind, name: item.name});
  return withProject(`/executions?${q}`);
}

function chips(cell, values, max = 3) {
  clear(cell);
  if (!values || !values.length) {
    cell.append(el("span", {class: "muted", text: "—"}));
    return;
  }
  for (const v of values.slice(0, max)) cell.append(el("span", {class: "chip", text: v, title: v}));
  if (values.length > max) {
    cell.append(el("span", {class: "chip more", text: `+${values.length - max}`, title: values.slice(max).join(", ")}));
  }
}

function fillRow(tr, item) {
  tr.dataset.id = item.id;
  tr.dataset.status = item.status;
  tr.classList.toggle("is-live", LIVE_STATUSES.has(item.status));
  const link = tr.querySelector(".name-link");
  link.textContent = item.name || "(unnamed)";
  link.href = detailHref(item.id);
  link.title = `Open ${item.name} (${item.id})`;
  const kindLabel = tr.querySelector(".kind-label");
  clear(kindLabel);
  const scope = el("a", {class: "scope-link", text: item.kind, title: `Only executions of ${item.name}`});
  scope.href = scopeHref(item);
  kindLabel.append(scope);
  if (item.request_id) kindLabel.append(el("span", {class: "req", text: ` · ${item.request_id}`, title: "Request ID"}));
  const statusBadge = setBadge(tr.querySelector(".badge"), item.status);
  tr.querySelector(".attempts").textContent = attemptsLabel(item);
  // Why it failed, at a glance (full text on hover and on the detail page).
  const why = tr.querySelector(".status-why");
  why.textContent = ["Failed", "Rejected"].includes(item.status) ? item.status_message || "" : "";
  why.title = why.textContent;
  if (why.textContent) statusBadge.title = `${item.status}: ${item.status_message}`;
  setTime(tr.querySelector("time"), item.started_at);
  const dur = tr.querySelector(".c-duration");
  dur.textContent = formatDuration(item.duration_ms);
  dur.title = `${item.duration_ms} ms${LIVE_STATUSES.has(item.status) ? " so far" : ""}`;
  const steps = tr.querySelector(".c-steps");
  clear(steps);
  steps.append(formatInt(item.steps));
  if (item.failed_steps || item.skipped_steps) {
    const sub = el("span", {class: "sub-num"});
    if (item.failed_steps) sub.append(el("span", {class: "failed", text: `${item.failed_steps} failed`}));
    if (item.failed_steps && item.skipped_steps) sub.append(" · ");
    if (item.skipped_steps) sub.append(el("span", {class: "skipped", text: `${item.skipped_steps} skipped`}));
    steps.append(sub);
  }
  chips(tr.querySelector(".c-connectors"), item.connectors, 2);
  chips(tr.querySelector(".c-tools"), item.tools, 2);
  const tokens = tr.querySelector(".c-tokens");
  tokens.textContent = item.total_tokens ? formatInt(item.total_tokens) : "—";
  tokens.title = item.total_tokens ? `${formatInt(item.input_tokens)} in · ${formatInt(item.output_tokens)} out` : "";
  const cost = tr.querySelector(".c-cost");
  cost.textContent = item.cost ? (item.cost.usd === 0 && !item.cost.total_tokens ? "—" : costText(item.cost)) : "—";
  cost.title = item.cost ? costBreakdown(item.cost) : "";
  cost.classList.toggle("unpriced", Boolean(item.cost && item.cost.unpriced_steps));
  chips(tr.querySelector(".c-model"), item.models, 2);
  const view = tr.querySelector(".act-view");
  view.href = detailHref(item.id);
  emit("execlog:row", {row: tr, item});
}

function renderRows() {
  cursorIndex = -1;
  const tbody = $("rows");
  clear(tbody);
  const template = $("row-template");
  state.items.forEach((item, index) => {
    const tr = template.content.firstElementChild.cloneNode(true);
    tr.dataset.index = String(index);
    iconAction(tr.querySelector(".act-view"), "view", "View execution");
    iconAction(tr.querySelector(".act-copy"), "link", "Copy link");
    iconAction(tr.querySelector(".act-quick"), "quick", "Quick View");
    fillRow(tr, item);
    tbody.append(tr);
  });
  $("empty").hidden = state.items.length > 0;
  $("executions").classList.toggle("is-empty", state.items.length === 0);
  updateLiveIndicator();
}

function rowFor(id) {
  return $("rows").querySelector(`tr[data-id="${CSS.escape(id)}"]`);
}

$("rows").addEventListener("click", async (event) => {
  const tr = event.target.closest("tr.row");
  if (!tr) return;
  const index = Number(tr.dataset.index);
  const item = state.items[index];
  if (event.target.closest(".act-copy")) {
    await copyText(permalink(item.id), "Link copied");
  } else if (event.target.closest(".act-quick")) {
    openQuickView(index);
  } else if (!event.target.closest("a, button, .slot")) {
    // A click anywhere else on the row opens it, as the reference's "click a specific log".
    window.location.href = detailHref(item.id);
  }
});

// --- live rows ---------------------------------------------------------------------------------------

function liveIds() {
  return state.items.filter((it) => LIVE_STATUSES.has(it.status)).map((it) => it.id);
}

function updateLiveIndicator() {
  $("live-indicator").hidden = liveIds().length === 0;
}

async function pollLive() {
  const ids = liveIds();
  if (!ids.length || document.hidden) return;
  try {
    const data = await api("/api/executions", {ids: ids.join(",")});
    for (const fresh of data.items) {
      const index = state.items.findIndex((it) => it.id === fresh.id);
      if (index < 0) continue;
      state.items[index] = fresh;
      const tr = rowFor(fresh.id);
      if (tr) fillRow(tr, fresh);
      if (state.quickIndex === index && $("quick-view").open && !LIVE_STATUSES.has(fresh.status)) {
        openQuickView(index);  // finished while open: show its output
      }
    }
    updateLiveIndicator();
  } catch (err) {
    // Keep the rows as they are; the next poll tries again.
  }
}

setInterval(pollLive, POLL_MS);

// New executions: on the first page of the newest-first order, say how many arrived since it loaded.
const NEW_ROWS_POLL_MS = 5000;

function showsNewestFirst() {
  const sort = state.params.get("sort") || "started_at";
  const order = state.params.get("order") || "desc";
  const range = state.params.get("range");
  return state.page === 0 && sort === "started_at" && order === "desc" && !(range === "custom" && state.params.get("to"));
}

async function pollNew() {
  if (document.hidden || !showsNewestFirst() || !state.items.length) {
    $("new-rows").hidden = true;
    return;
  }
  const params = apiParams(state.params);
  params.set("from", state.items[0].started_at);
  params.set("limit", "1");
  try {
    const data = await api("/api/executions", params);
    // The count includes the rows already shown that started at the newest start; those are not new.
    const shownAtTop = state.items.filter((it) => it.started_at >= state.items[0].started_at).length;
    const fresh = data.count_capped ? data.count : Math.max(0, data.count - shownAtTop);
    const button = $("new-rows");
    button.hidden = fresh <= 0;
    button.textContent = `${formatInt(fresh)}${data.count_capped ? "+" : ""} new execution${fresh === 1 ? "" : "s"} · show`;
  } catch (err) {
    // Try again on the next tick.
  }
}

setInterval(pollNew, NEW_ROWS_POLL_MS);
$("new-rows").addEventListener("click", () => {
  $("new-rows").hidden = true;
  resetPages();
  load();
});

// Other modules (Retry) hand over the fresh state of a row they changed: show it like a live update
// (a row that became live again is then followed by pollLive).
document.addEventListener("execlog:item", (event) => {
  const fresh = event.detail && event.detail.item;
  const index = fresh ? state.items.findIndex((it) => it.id === fresh.id) : -1;
  if (index < 0) return;
  state.items[index] = fresh;
  const tr = rowFor(fresh.id);
  if (tr) fillRow(tr, fresh);
  updateLiveIndicator();
});

// --- controls ------------------------------------------------------------------------------------

function syncControls() {
  const kind = state.params.get("kind") || "all";
  for (const b of $("kind-switch").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
  }
  if (document.activeElement !== $("search")) $("search").value = state.params.get("q") || "";
  if (document.activeElement !== $("cost-above")) $("cost-above").value = state.params.get("cost_above") || "";
  const limit = state.params.get("limit") || "50";
  if (![...$("page-size").options].some((o) => o.value === limit)) {
    $("page-size").append(el("option", {text: limit, attrs: {value: limit}}));
  }
  $("page-size").value = limit;
  $("new-rows").hidden = true;
  const statuses = (state.params.get("status") || "").split(",").filter(Boolean);
  for (const box of $("status-filter").querySelectorAll("input[type=checkbox]")) {
    box.checked = statuses.includes(box.value);
  }
  $("status-summary").textContent = statuses.length ? statuses.join(", ") : "All";
  $("status-filter").classList.toggle("active", statuses.length > 0);
  const range = state.params.get("range") || "";
  for (const b of $("date-presets").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(b.dataset.range === range));
  }
  $("custom-range").hidden = range !== "custom";
  if (range === "custom") {
    $("range-from").value = toLocalInput(state.params.get("from"));
    $("range-to").value = toLocalInput(state.params.get("to"));
  }
  const sort = state.params.get("sort") || "started_at";
  const order = state.params.get("order") || "desc";
  for (const th of document.querySelectorAll("th[data-sort-col]")) {
    const active = th.dataset.sortCol === sort;
    if (active) th.setAttribute("aria-sort", order === "desc" ? "descending" : "ascending");
    else th.removeAttribute("aria-sort");
    th.querySelector(".sort-mark").textContent = active ? (order === "desc" ? "▼" : "▲") : "↕";
  }
  const name = state.params.get("name");
  $("scope-tabs").hidden = !name;
  $("page-title").textContent = name || (kind === "agent" ? "Agents · Execution Log"
    : kind === "automation" ? "Automations · Execution Log" : "Execution Log");
  $("scope-kind").textContent = name ? (kind === "agent" ? "Agent" : kind === "automation" ? "Automation" : "All kinds") : "";
  document.title = `${$("page-title").textContent} · execlog`;
  if ($("scope-select").value !== (name || "")) selectScope(name || "");
}

function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${
    pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function selectScope(name) {
  const select = $("scope-select");
  if (name && ![...select.options].some((o) => o.value === name)) {
    select.append(el("option", {text: name, attrs: {value: name}}));
  }
  select.value = name;
}

async function loadNames() {
  const kind = state.params.get("kind") || "all";
  const select = $("scope-select");
  try {
    const data = await api("/api/names", {kind});
    clear(select);
    const label = kind === "agent" ? "All agents" : kind === "automation" ? "All automations" : "All names";
    select.append(el("option", {text: label, attrs: {value: ""}}));
    for (const n of data.items) {
      const suffix = kind === "all" ? ` (${n.kind})` : "";
      const option = el("option", {text: `${n.name}${suffix} · ${formatInt(n.executions)}`, attrs: {value: n.name}});
      option.dataset.kind = n.kind;
      select.append(option);
    }
    selectScope(state.params.get("name") || "");
  } catch (err) {
    showError($("error-banner"), err);
  }
}

function changeFilter(mutate) {
  const before = facetKey();
  mutate();
  resetPages();
  load();
  if (facetKey() !== before) loadFacets();
}

function facetKey() {
  const q = listingQuery(state.params);
  for (const k of ["status", "sort", "order", "limit"]) q.delete(k);
  return q.toString();
}

$("filters").addEventListener("submit", (event) => event.preventDefault());

$("kind-switch").addEventListener("click", (event) => {
  const b = event.target.closest("button[data-kind]");
  if (!b) return;
  changeFilter(() => {
    setParam("kind", b.dataset.kind === "all" ? "" : b.dataset.kind);
    setParam("name", "");  // a name belongs to one kind
  });
  loadNames();
});

$("scope-select").addEventListener("change", () => {
  const option = $("scope-select").selectedOptions[0];
  changeFilter(() => {
    setParam("name", $("scope-select").value);
    if (option && option.dataset.kind && !state.params.get("kind")) setParam("kind", option.dataset.kind);
  });
});

$("clear-scope").addEventListener("click", (event) => {
  event.preventDefault();
  changeFilter(() => setParam("name", ""));
});

let searchTimer = null;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => changeFilter(() => setParam("q", $("search").value.trim())), SEARCH_DEBOUNCE_MS);
});
$("search").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    clearTimeout(searchTimer);
    changeFilter(() => setParam("q", $("search").value.trim()));
  }
});

$("status-filter").addEventListener("change", () => {
  const chosen = [...$("status-filter").querySelectorAll("input:checked")].map((b) => b.value);
  changeFilter(() => setParam("status", chosen.join(",")));
});
$("status-clear").addEventListener("click", () => changeFilter(() => setParam("status", "")));
document.addEventListener("click", (event) => {
  // Close the status dropdown on an outside click.
  if (!event.target.closest("#status-filter")) $("status-filter").open = false;
});

$("date-presets").addEventListener("click", (event) => {
  const b = event.target.closest("button[data-range]");
  if (!b) return;
  if (b.dataset.range === "custom") {
    setParam("range", "custom");
    syncControls();
    $("range-from").focus();
    return;
  }
  changeFilter(() => {
    setParam("range", b.dataset.range);
    setParam("from", "");
    setParam("to", "");
  });
});

$("range-apply").addEventListener("click", () => {
  const from = $("range-from").value;
  const to = $("range-to").value;
  if (from && to && new Date(from) > new Date(to)) {
    showError($("error-banner"), new Error("The custom range starts after it ends."));
    return;
  }
  changeFilter(() => {
    setParam("range", "custom");
    // datetime-local is the viewer's local time; the URL and API get exact UTC instants.
    setParam("from", from ? new Date(from).toISOString() : "");
    setParam("to", to ? new Date(to).toISOString() : "");
  });
});

$("clear-filters").addEventListener("click", () => {
  changeFilter(() => {
    for (const k of ["name", "q", "status", "range", "from", "to", "sort", "order", "cost_above"]) setParam(k, "");
  });
});

document.querySelector("thead").addEventListener("click", (event) => {
  const b = event.target.closest("button[data-sort]");
  if (!b) return;
  const current = state.params.get("sort") || "started_at";
  const order = state.params.get("order") || "desc";
  changeFilter(() => {
    if (current === b.dataset.sort) {
      setParam("order", order === "desc" ? "asc" : "");
    } else {
      setParam("sort", b.dataset.sort === "started_at" ? "" : b.dataset.sort);
      setParam("order", "");
    }
  });
});

$("cost-above").addEventListener("change", () => {
  const raw = $("cost-above").value.trim();
  if (raw && !(Number(raw) >= 0)) {
    showError($("error-banner"), new Error("Cost above: enter an amount in US dollars, e.g. 0.05"));
    return;
  }
  changeFilter(() => setParam("cost_above", raw));
});

$("page-size").addEventListener("change", () => {
  changeFilter(() => setParam("limit", $("page-size").value === "50" ? "" : $("page-size").value));
});

$("page-next").addEventListener("click", () => goToPage(state.page + 1));
$("page-prev").addEventListener("click", () => goToPage(state.page - 1));
$("page-first").addEventListener("click", () => goToPage(0));

// --- Quick View ------------------------------------------------------------------------------------

const dialog = $("quick-view");

function metaRow(dl, label, value, options = {}) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return;
  const dd = el("dd", {class: options.class || ""});
  if (value instanceof Node) dd.append(value);
  else dd.textContent = Array.isArray(value) ? value.join(", ") : String(value);
  if (options.title) dd.title = options.title;
  dl.append(el("dt", {text: label}), dd);
}

function fillQuickMeta(item) {
  const dl = clear($("qv-meta"));
  metaRow(dl, "Kind", item.kind);
  metaRow(dl, "Execution ID", item.id, {class: "mono"});
  metaRow(dl, "Started At", setTime(el("time"), item.started_at));
  metaRow(dl, "Duration", formatDuration(item.duration_ms), {title: `${item.duration_ms} ms`});
  metaRow(dl, "Attempts", attemptsLabel(item));
  metaRow(dl, "Steps", `${formatInt(item.steps)}${item.failed_steps ? ` · ${item.failed_steps} failed` : ""}${
    item.skipped_steps ? ` · ${item.skipped_steps} skipped` : ""}`);
  metaRow(dl, "Total Tokens", item.total_tokens ? formatInt(item.total_tokens) : "",
    {title: `${item.input_tokens} in · ${item.output_tokens} out`});
  metaRow(dl, "Model", item.models);
  if (item.cost) metaRow(dl, "Cost", costText(item.cost), {title: costBreakdown(item.cost)});
  metaRow(dl, "Connectors Used", item.connectors);
  metaRow(dl, "Tools Used", item.tools);
  metaRow(dl, "Service", item.service);
  metaRow(dl, "Event", item.event);
  metaRow(dl, "Target", item.target);
  metaRow(dl, "Target Record ID", item.target_record_id);
  metaRow(dl, "Request ID", item.request_id, {class: "mono"});
  metaRow(dl, "Triggered By", item.triggered_by);
  metaRow(dl, "Trigger", item.trigger);
  metaRow(dl, "Raised Action", item.raised_action);
  metaRow(dl, "Executed Action IDs", item.executed_action_ids);
  metaRow(dl, "Execution Time", item.execution_time_ms !== undefined ? `${item.execution_time_ms < 10 ? item.execution_time_ms.toFixed(3) : formatInt(Math.round(item.execution_time_ms))} ms` : "");
}

function renderProblems(item) {
  const steps = item.problem_steps || [];
  const list = clear($("qv-problem-list"));
  $("qv-problems").hidden = steps.length === 0;
  for (const step of steps) {
    const b = badge(step.status);
    b.classList.add("small");
    list.append(el("li", {}, b, " ", el("strong", {text: step.name}),
      step.detail ? el("span", {class: step.status === "Failed" ? "problem-detail failed" : "problem-detail",
        text: ` — ${step.detail}`}) : null));
  }
}

async function openQuickView(index) {
  const listed = state.items[index];
  if (!listed) return;
  state.quickIndex = index;
  state.quickItem = listed;
  // The Quick View row is the listing's one cursor row: after Esc, that row is the marked and focused one.
  setCursor(index, {focus: false});
  $("qv-title").textContent = listed.name;
  setBadge($("qv-status"), listed.status);
  setTime($("qv-time"), listed.started_at);
  $("qv-position").textContent = `${index + 1} of ${state.items.length} on page ${state.page + 1}`;
  $("qv-open").href = detailHref(listed.id);
  $("qv-prev").disabled = index === 0 && state.page === 0;
  $("qv-next").disabled = index === state.items.length - 1 && !state.nextCursor;
  fillQuickMeta(listed);
  $("qv-problems").hidden = true;
  renderJSON($("qv-input"), null, "Loading…");
  renderJSON($("qv-output"), null, "Loading…");
  dialog.dataset.id = listed.id;
  if (!dialog.open) dialog.showModal();
  try {
    const item = await api(`/api/executions/${encodeURIComponent(listed.id)}`, {steps: "false"});
    if (state.quickItem !== listed) return;  // moved on meanwhile
    state.quickItem = item;
    showError($("qv-error"), item.validation_message ? new Error(item.validation_message) : null);
    fillQuickMeta(item);
    setBadge($("qv-status"), item.status);
    renderProblems(item);
    renderJSON($("qv-input"), item.input, "No input recorded.");
    setPayloadNote($("qv-input-note"), item.input);
    renderJSON($("qv-output"), item.output, LIVE_STATUSES.has(item.status) ? "Not finished yet." : "No output recorded.");
    setPayloadNote($("qv-output-note"), item.output);
    dialog.dataset.loaded = item.id;
    emit("execlog:quickview", {dialog, item});
  } catch (err) {
    showError($("qv-error"), err);
  }
}

let turningPage = false;

async function moveQuickView(step) {
  if (turningPage) return undefined;  // a key pressed while the next page loads would skip rows
  const target = state.quickIndex + step;
  if (target >= 0 && target < state.items.length) return openQuickView(target);
  // Cross into the next / previous page, following the table's order.
  turningPage = true;
  try {
    if (step > 0 && state.nextCursor) {
      if (await goToPage(state.page + 1)) return openQuickView(0);
    } else if (step < 0 && state.page > 0) {
      if (await goToPage(state.page - 1)) return openQuickView(state.items.length - 1);
    }
  } finally {
    turningPage = false;
  }
  return undefined;
}

$("qv-prev").addEventListener("click", () => moveQuickView(-1));
$("qv-next").addEventListener("click", () => moveQuickView(1));
$("qv-close").addEventListener("click", () => dialog.close());
$("qv-copy").addEventListener("click", () => state.quickItem && copyText(permalink(state.quickItem.id), "Link copied"));
dialog.addEventListener("click", (event) => {
  if (event.target === dialog) dialog.close();  // a click on the backdrop
  const copy = event.target.closest(".copy-json");
  if (copy && state.quickItem) {
    const payload = state.quickItem[copy.dataset.copy];
    copyText(payload ? JSON.stringify(payload.value, null, 2) : "", `${copy.dataset.copy === "input" ? "Input" : "Output"} copied`);
  }
});
dialog.addEventListener("close", () => {
  // Enter now opens this row, the one Quick View showed. The close event can arrive after the next key
  // (e.g. "/" already focused the search box): only take focus back from the row the browser restored.
  const tr = $("rows").querySelector(`tr[data-index="${cursorIndex}"]`);
  const active = document.activeElement;
  if (tr && (!active || active === document.body || active.matches("tr.row"))) tr.focus({preventScroll: true});
  state.quickItem = null;
  delete dialog.dataset.id;
  delete dialog.dataset.loaded;
});
// Listing keys (when Quick View is closed): / search, j / k move the row cursor, Enter opens, q Quick View.
let cursorIndex = -1;

function setCursor(index, {focus = true, scroll = true} = {}) {
  cursorIndex = index;
  for (const tr of $("rows").querySelectorAll("tr.cursor")) {
    tr.classList.remove("cursor");
    tr.removeAttribute("aria-current");
  }
  const tr = $("rows").querySelector(`tr[data-index="${cursorIndex}"]`);
  if (tr) {
    tr.classList.add("cursor");
    tr.setAttribute("aria-current", "true");
    if (focus) tr.focus({preventScroll: true});
    if (scroll) tr.scrollIntoView({block: "nearest"});
  }
}

function moveCursor(step) {
  if (!state.items.length) return;
  setCursor(Math.max(0, Math.min(state.items.length - 1, cursorIndex + step)));
}

// A row that gets focus (Tab into its actions, or a click) becomes the cursor row. Not scrolled: a
// click's mouseup must land where its mousedown did. Not while Quick View closes: the browser then
// gives focus back to the row it was opened from, but the cursor is the row Quick View showed last.
$("rows").addEventListener("focusin", (event) => {
  const tr = event.target.closest("tr.row");
  if (!tr || dialog.open || dialog.dataset.id) return;
  if (Number(tr.dataset.index) !== cursorIndex) setCursor(Number(tr.dataset.index), {focus: false, scroll: false});
});

document.addEventListener("keydown", (event) => {
  if (dialog.open || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "Escape" && event.target === $("search")) {
    $("search").blur();
    return;
  }
  if (isTyping(event)) return;
  if (event.key === "/") {
    event.preventDefault();
    $("search").focus();
    $("search").select();
  } else if (event.key === "j" || event.key === "ArrowDown") {
    event.preventDefault();
    moveCursor(1);
  } else if (event.key === "k" || event.key === "ArrowUp") {
    event.preventDefault();
    moveCursor(-1);
  } else if (event.key === "Enter" && cursorIndex >= 0 && state.items[cursorIndex]
             && !event.target.closest("a, button, summary, dialog, [popover]")) {
    // Enter on a focused button or link does what that control does; on a row (or the page) it opens
    // the cursor row. A focused row is the cursor row (focusin), but for the moment after Quick View closes:
    // the browser has given focus back to the row it was opened from, and the cursor is the row it showed.
    window.location.href = detailHref(state.items[cursorIndex].id);
  } else if (event.key === "q" && cursorIndex >= 0) {
    openQuickView(cursorIndex);
  }
});

document.addEventListener("keydown", (event) => {
  if (!dialog.open || isTyping(event)) return;
  if (event.key === "ArrowRight") {
    event.preventDefault();
    moveQuickView(1);
  } else if (event.key === "ArrowLeft") {
    event.preventDefault();
    moveQuickView(-1);
  }
});

// --- Compare: two selected rows side by side ----------------------------------------------------------

document.addEventListener("change", (event) => {
  if (!(event.target instanceof HTMLInputElement) || !event.target.matches("input.select-execution")) return;
  const bar = document.querySelector(".selection-bar");
  if (!bar) return;
  let link = bar.querySelector(".compare-selected");
  if (!link) {
    link = el("a", {class: "button compare-selected", text: "Compare",
                    title: "The two selected executions side by side (same agent or automation)"});
    bar.insertBefore(link, bar.querySelector("button.link"));
  }
  const ids = [...document.querySelectorAll("input.select-execution:checked")].map((b) => b.dataset.id);
  link.hidden = ids.length !== 2;
  if (ids.length === 2) {
    // The older run is A (the baseline), the newer B: the listing shows newest first.
    const [newer, older] = ids.map((id) => state.items.find((it) => it.id === id)).filter(Boolean)
      .sort((x, y) => (x.started_at < y.started_at ? 1 : -1));
    link.href = `/compare?${new URLSearchParams({a: (older || {}).id || ids[1], b: (newer || {}).id || ids[0]})}`;
  }
});

// --- start ---------------------------------------------------------------------------------------

initTimeZoneLabel();
loadNames();
load();
loadFacets();
