// The execution detail page: header metrics, the steps waterfall, step and execution payloads.
import {
  LIVE_STATUSES, api, apiParams, attemptsLabel, badge, clear, copyText, costBreakdown, costText, el, emit,
  formatDuration, formatInt, formatUsd,
  initTimeZoneLabel, isTyping, jsonText, permalink, renderJSON, setBadge, setPayloadNote, setTime, showError,
  withProject,
} from "./common.js";
import {PagedSteps} from "./paged_steps.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
const STEPS_PER_PAGE = 200;

const root = $("detail");
const executionId = root.dataset.executionId;
const pageParams = new URLSearchParams(window.location.search);
// The listing this page was opened from: carried in ?list=, else the last listing of this tab.
const listQuery = new URLSearchParams(pageParams.get("list") ?? sessionStorage.getItem("execlog.listing") ?? "");

const state = {
  item: null,
  attempt: pageParams.get("attempt") || "",
  selected: (window.location.hash.match(/^#step=([0-9a-f]{1,32})$/) || [])[1] || null,
  stepPage: 0,
  onlyProblems: false,
  neighbors: {prev: null, next: null},
  pollTimer: null,
  collapsed: new Set(),
  search: {query: "", matches: [], at: -1},
  paged: null,  // PagedSteps, when the execution is too big to load at once (item.steps_paged)
  selectedStep: null,
};

/** The big-execution waterfall, made on first use. */
function pagedSteps() {
  if (!state.paged) {
    state.paged = new PagedSteps({
      executionId,
      query: () => (state.attempt ? {attempt: state.attempt} : {}),
      rows: $("wf-rows"),
      renderRow: (step) => stepRow(step, timelineTotal(state.item), null),
      onRendered: markSelected,
    });
  }
  return state.paged;
}

function isPaged() {
  return Boolean(state.item && state.item.steps_paged);
}

function visibleSteps() {
  const steps = state.item ? state.item.steps : [];
  if (state.onlyProblems) return steps.filter((s) => s.status === "Failed" || s.status === "Skipped");
  if (!state.collapsed.size) return steps;
  // Steps come depth-first: a collapsed step hides the deeper steps that follow it.
  const out = [];
  let hideBelow = Infinity;
  for (const step of steps) {
    if (step.depth > hideBelow) continue;
    hideBelow = state.collapsed.has(step.span_id) ? step.depth : Infinity;
    out.push(step);
  }
  return out;
}

function parentIds() {
  return new Set((state.item ? state.item.steps : []).map((s) => s.parent_span_id));
}

// --- loading ---------------------------------------------------------------------------------------

async function load() {
  try {
    const item = await api(`/api/executions/${encodeURIComponent(executionId)}`,
      state.attempt ? {attempt: state.attempt} : null);
    showError($("error-banner"), null);
    const first = state.item === null;
    state.item = item;
    render(first);
    if (first) loadAudit();
    schedulePoll();
  } catch (err) {
    showError($("error-banner"), err);
    if (!state.item) $("exec-name").textContent = err.status === 404 ? "Execution not found" : "Could not load";
    if (err.status !== 404 && err.status !== 400) schedulePoll(true);
  }
}

function schedulePoll(force = false) {
  clearTimeout(state.pollTimer);
  const live = state.item && LIVE_STATUSES.has(state.item.status) && !state.attempt;
  $("live-indicator").hidden = !live;
  if (live || force) state.pollTimer = setTimeout(load, POLL_MS);
}

/** The execution's retry requests (who, when, from where, single or bulk, outcome and why), newest first. */
async function loadAudit() {
  try {
    const data = await api(`/api/executions/${encodeURIComponent(executionId)}/audit`);
    const rows = clear($("audit-rows"));
    $("audit-count").textContent = `(${data.items.length})`;
    for (const r of data.items) {
      rows.append(el("tr", {class: r.accepted ? "accepted" : "refused"},
        el("td", {}, setTime(el("time"), r.at)), el("td", {text: r.actor}), el("td", {class: "mono", text: r.address}),
        el("td", {text: r.mode}), el("td", {text: r.attempt ? `${r.code} (attempt ${r.attempt})` : r.code}),
        el("td", {class: "wrap", text: r.reason})));
    }
  } catch (err) {
    $("audit-count").textContent = `(${err.message})`;
  }
}

async function loadNeighbors() {
  try {
    state.neighbors = await api(`/api/executions/${encodeURIComponent(executionId)}/neighbors`, apiParams(listQuery));
  } catch (err) {
    state.neighbors = {prev: null, next: null};
  }
  for (const [key, button] of [["prev", $("prev-exec")], ["next", $("next-exec")]]) {
    const n = state.neighbors[key];
    button.disabled = !n;
    button.title = n ? `${key === "prev" ? "Previous" : "Next"}: ${n.name} (${key === "prev" ? "←" : "→"})` : "";
  }
}

function goToNeighbor(key) {
  const n = state.neighbors[key];
  if (!n) return;
  const q = listQuery.toString();
  window.location.href = withProject(`/executions/${encodeURIComponent(n.id)}${q ? `?list=${encodeURIComponent(q)}` : ""}`);
}

/** Milliseconds as a plain number (Execution Time (ms)): exact enough for sub-millisecond runs. */
function formatMs(ms) {
  return ms < 10 ? ms.toFixed(3) : formatInt(Math.round(ms));
}

// --- header ---------------------------------------------------------------------------------------

function metric(dl, label, value, options = {}) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return;
  const dd = el("dd", {class: options.class || ""});
  if (value instanceof Node) dd.append(value);
  else dd.textContent = Array.isArray(value) ? value.join(", ") : String(value);
  if (options.title) dd.title = options.title;
  dl.append(el("div", {class: "metric"}, el("dt", {text: label}), dd));
}

function renderHeader(item) {
  $("exec-name").textContent = item.name || "(unnamed)";
  document.title = `${item.name} · ${item.status} · execlog`;
  setBadge($("exec-status"), item.status);
  $("exec-kind").textContent = item.kind;
  const back = new URLSearchParams(listQuery);
  $("back-link").href = withProject(`/executions${back.toString() ? `?${back}` : ""}`);

  const dl = clear($("metrics"));
  // Started At, Duration and Ended At all describe the attempt shown (the reference's metrics); a
  // retried execution also says when its first attempt started.
  const retried = item.attempts && item.attempts.length > 1;
  metric(dl, "Started At", setTime(el("time"), item.attempt_started_at || item.started_at));
  metric(dl, "Duration", formatDuration(item.duration_ms),
    {title: `${item.duration_ms} ms${LIVE_STATUSES.has(item.status) ? " so far" : ""}`});
  // Automations list Started At and Duration (seed 000); tokens and model only when a step used a model.
  if (item.kind !== "automation" || item.total_tokens || (item.models && item.models.length)) {
    metric(dl, "Total Tokens", formatInt(item.total_tokens),
      {title: `${formatInt(item.input_tokens)} input · ${formatInt(item.output_tokens)} output`});
    metric(dl, item.models.length > 1 ? "Models" : "Model", item.models.length ? item.models : "—");
  }
  if (item.cost) {
    // The execution's cost is over every attempt; with several, the shown attempt's own cost too.
    const several = item.attempts && item.attempts.length > 1;
    metric(dl, several ? "Cost (all attempts)" : "Cost", costText(item.cost), {title: costBreakdown(item.cost)});
    if (several && item.attempt_cost) {
      metric(dl, `Cost of attempt ${item.shown_attempt}`, costText(item.attempt_cost),
        {title: costBreakdown(item.attempt_cost)});
    }
  }
  metric(dl, "Status", badge(item.status));
  const attemptText = item.attempts && item.attempts.length > 1
    ? `${item.shown_attempt} of ${item.max_attempts || item.attempts.length}` : attemptsLabel(item) || "1";
  metric(dl, "Attempt", attemptText);
  metric(dl, "Steps", `${formatInt(item.steps_total ?? item.steps.length)}${item.failed_steps ? ` · ${item.failed_steps} failed` : ""}${
    item.skipped_steps ? ` · ${item.skipped_steps} skipped` : ""}`);
  metric(dl, "Connectors Used", item.connectors);
  metric(dl, "Tools Used", item.tools);
  metric(dl, "Service", item.service);
  metric(dl, "Event", item.event);
  metric(dl, "Target", item.target);
  metric(dl, "Target Record ID", item.target_record_id, {class: "mono"});
  metric(dl, "Request ID", item.request_id, {class: "mono"});
  // Who asked for the attempt shown (the retry audit), else what the runner recorded.
  const shownAttempt = (item.attempts || []).find((a) => a.attempt === item.shown_attempt);
  metric(dl, "Triggered By", (shownAttempt && shownAttempt.triggered_by) || item.triggered_by);
  metric(dl, "Trigger", item.trigger);
  metric(dl, "Validation Message", item.validation_message, {class: "wrap"});
  metric(dl, "Raised Action", item.raised_action);
  metric(dl, "Executed Action IDs", item.executed_action_ids, {class: "mono wrap"});
  metric(dl, "Execution Time (ms)", LIVE_STATUSES.has(item.status) ? "" : formatMs(item.execution_time_ms),
    {title: `${item.execution_time_ms} ms`});
  metric(dl, "Ended At", item.ended_at ? setTime(el("time"), item.ended_at) : "");
  if (retried && item.attempt_started_at && item.attempt_started_at !== item.started_at) {
    metric(dl, "First Attempt Started At", setTime(el("time"), item.started_at));
  }
  metric(dl, "Conversation ID", item.conversation_id, {class: "mono"});
  metric(dl, "Execution ID", item.id, {class: "mono"});
  if (item.trace_id !== item.id) metric(dl, "Trace ID (this attempt)", item.trace_id, {class: "mono"});

  const banner = $("validation-banner");
  const message = item.validation_message || (item.status === "Failed" || item.status === "Rejected" ? item.status_message : "");
  banner.hidden = !message;
  banner.textContent = message ? `${item.raised_action ? `${item.raised_action}: ` : ""}${message}` : "";
  const failed = item.status === "Failed" || item.status === "Rejected";
  banner.classList.toggle("error", failed);
  banner.classList.toggle("warn", !failed);

  const compare = $("compare-attempts");
  compare.hidden = !(item.attempts && item.attempts.length > 1);
  if (!compare.hidden) {
    const shown = item.shown_attempt;
    const other = shown > 1 ? shown - 1 : item.attempts[item.attempts.length - 1].attempt;
    const [a, b] = other < shown ? [other, shown] : [shown, other];
    compare.href = `/compare?${new URLSearchParams({a: item.id, a_attempt: a, b: item.id, b_attempt: b})}`;
  }
  const picker = $("attempt-picker");
  const select = $("attempt-select");
  picker.hidden = !(item.attempts && item.attempts.length > 1);
  clear(select);
  for (const a of item.attempts || []) {
    const cost = a.cost && (a.cost.usd || a.cost.unpriced_steps) ? ` · ${costText(a.cost)}` : "";
    const option = el("option", {text: `Attempt ${a.attempt} · ${a.status}${cost}`, attrs: {value: String(a.attempt)}});
    if (a.attempt === item.shown_attempt) option.selected = true;
    select.append(option);
  }
}

// --- waterfall -------------------------------------------------------------------------------------

// No triangles: ▸ / ▾ are the fold toggles, so an action step must not look like one.
const KIND_ICONS = {trigger: "⚡", action: "⚒", connector: "⇄", tool: "⚙", llm: "✦", pause: "❚❚",
  response: "↩", node: "◆", step: "•", agent: "◆", automation: "◆"};

function timelineTotal(item) {
  let total = item.duration_ms || 0;
  for (const s of item.steps) total = Math.max(total, s.offset_ms + s.duration_ms);
  return total || 1;
}

// Tick spacings a reader can add up: 1, 2, 5 × 10^n ms below a second, then round seconds / minutes.
const NICE_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3,
  900e3, 1800e3, 3600e3, 7200e3, 21600e3, 43200e3, 86400e3];
const TICK_MIN_PX = 72;  // room for a label like "1 m 13 s" and a gap (overlaps are removed below)

function niceStep(ms) {
  return NICE_MS.find((n) => n >= ms) || Math.ceil(ms / 86400e3) * 86400e3;
}

function renderAxis(total) {
  const axis = clear($("wf-axis"));
  axis.append(el("span", {class: "wf-axis-label", text: "Step"}));
  const ticks = el("div", {class: "wf-ticks"});
  axis.append(ticks);
  const width = ticks.clientWidth || 300;
  const step = niceStep(total / Math.max(1, Math.floor(width / TICK_MIN_PX)));
  const labels = [];
  const add = (t, text) => {
    const tick = el("span", {class: "wf-tick", text});
    tick.style.left = `${(t / total) * 100}%`;
    ticks.append(tick);
    labels.push(tick);
    return tick;
  };
  for (let t = 0; t < total - step / 4; t += step) add(t, t === 0 ? "0" : formatDuration(t));
  // The end of the run, right-aligned; round ticks that would touch it (or each other) give way.
  const end = add(total, formatDuration(total));
  end.classList.add("end");
  const endLeft = end.getBoundingClientRect().left;
  let lastRight = -Infinity;
  for (const tick of labels.slice(0, -1)) {
    const r = tick.getBoundingClientRect();
    if (r.left < lastRight + 8 || r.right > endLeft - 8) {
      if (tick !== labels[0]) tick.remove();
      continue;
    }
    lastRight = r.right;
  }
}

// The axis depends on the waterfall's width: lay it out again when that changes (800 px ↔ 1440 px).
let axisWidth = 0;
new ResizeObserver(() => {
  const w = $("wf-axis").clientWidth;
  if (state.item && w !== axisWidth) {
    axisWidth = w;
    renderAxis(timelineTotal(state.item));
  }
}).observe($("wf-axis"));

function stepRow(step, total, parents) {
  const li = el("li", {class: "wf-row", attrs: {role: "option", "aria-selected": "false", tabindex: "-1"}});
  li.dataset.spanId = step.span_id;
  li.dataset.status = step.status;
  li.dataset.kind = step.kind;
  const label = el("div", {class: "wf-label"});
  label.style.paddingLeft = `${0.2 + Math.min(step.depth, 12) * 1.1}rem`;
  const paged = parents === null;  // a big execution's row: its own counts say whether it folds
  if (paged ? step.descendants > 0 : parents.has(step.span_id) && !state.onlyProblems) {
    const open = paged ? !state.paged.isFolded(step.position) : !state.collapsed.has(step.span_id);
    label.append(el("button", {class: "wf-toggle", text: open ? "▾" : "▸", title: open ? "Collapse" : "Expand",
      attrs: {type: "button", "aria-expanded": String(open), "aria-label": `${open ? "Collapse" : "Expand"} ${step.name}`}}));
  } else {
    label.append(el("span", {class: "wf-toggle-space", attrs: {"aria-hidden": "true"}}));
  }
  label.append(el("span", {class: "wf-icon", text: KIND_ICONS[step.kind] || "•", title: step.kind,
    attrs: {"aria-hidden": "true"}}));
  label.append(el("span", {class: "wf-name", text: step.name, title: `${step.name} (${step.kind})`}));
  const chipsBox = el("span", {class: "wf-chips"});
  if (step.model) chipsBox.append(el("span", {class: "chip model", text: step.model, title: "Model"}));
  if (step.tool) chipsBox.append(el("span", {class: "chip tool", text: step.tool, title: "Tool"}));
  if (step.connector) chipsBox.append(el("span", {class: "chip connector", text: step.connector, title: "Connector"}));
  if (step.cost) {
    chipsBox.append(el("span", {class: `chip cost${step.cost.usd === null ? " unpriced" : ""}`,
      text: formatUsd(step.cost.usd), title: costBreakdown(step.cost)}));
  }
  if (step.total_tokens) {
    chipsBox.append(el("span", {class: "chip tokens", text: `${formatInt(step.total_tokens)} tok`,
      title: `${formatInt(step.input_tokens)} input · ${formatInt(step.output_tokens)} output tokens`}));
  }
  label.append(chipsBox);
  const status = badge(step.status);
  status.classList.add("small");
  const track = el("div", {class: "wf-track"});
  const bar = el("span", {class: "wf-bar"});
  bar.style.left = `${Math.min(100, (step.offset_ms / total) * 100)}%`;
  bar.style.width = `${Math.max(0.4, Math.min(100, (step.duration_ms / total) * 100))}%`;
  bar.title = `starts at +${formatDuration(step.offset_ms)}, takes ${formatDuration(step.duration_ms)}`;
  track.append(bar);
  const duration = el("span", {class: "wf-dur", text: formatDuration(step.duration_ms), title: `${step.duration_ms} ms`});
  li.append(label, status, track, duration);
  if (state.search.ids && state.search.ids.has(step.span_id)) li.classList.add("match");
  if (paged) {
    // One line per row (the list is virtualised at a fixed height): the error is the row's tooltip.
    if (step.error || step.skip_reason) li.title = step.error || `Skipped — ${step.skip_reason}`;
  } else if (step.status === "Failed" && step.error) {
    li.append(el("div", {class: "wf-note error", text: `✕ ${step.error}`}));
  } else if (step.status === "Skipped") {
    li.append(el("div", {class: "wf-note skipped", text: `Skipped${step.skip_reason ? ` — ${step.skip_reason}` : ""}`}));
  }
  return li;
}

function renderPagedSteps() {
  const item = state.item;
  const total = timelineTotal(item);
  renderAxis(total);
  for (const id of ["collapse-all", "steps-pager", "steps-truncated"]) $(id).hidden = true;
  // "Only failed / skipped" needs every step: a big execution's mini-map lists its failures instead.
  $("only-problems").closest("label").hidden = true;
  $("steps-empty").hidden = item.steps_total > 0;
  $("steps-count").textContent = `${formatInt(item.steps_total)} step${item.steps_total === 1 ? "" : "s"} · ${
    formatDuration(total)} total · loaded as you scroll`;
  pagedSteps().reset(item);
}

function renderSteps() {
  const item = state.item;
  if (isPaged()) {
    renderPagedSteps();
    return;
  }
  if (state.paged) state.paged.stop();
  $("only-problems").closest("label").hidden = false;
  const steps = visibleSteps();
  const total = timelineTotal(item);
  renderAxis(total);
  const pages = Math.max(1, Math.ceil(steps.length / STEPS_PER_PAGE));
  state.stepPage = Math.min(state.stepPage, pages - 1);
  const start = state.stepPage * STEPS_PER_PAGE;
  const rows = clear($("wf-rows"));
  const frag = document.createDocumentFragment();
  const parents = parentIds();
  for (const step of steps.slice(start, start + STEPS_PER_PAGE)) frag.append(stepRow(step, total, parents));
  $("collapse-all").hidden = state.onlyProblems || parents.size <= 1;
  $("collapse-all").textContent = state.collapsed.size ? "Expand all" : "Collapse all";
  rows.append(frag);
  $("steps-empty").hidden = steps.length > 0;
  $("steps-count").textContent = `${formatInt(item.steps.length)} step${item.steps.length === 1 ? "" : "s"}${
    state.onlyProblems ? ` · ${formatInt(steps.length)} failed or skipped` : ""} · ${formatDuration(total)} total`;
  $("steps-pager").hidden = pages <= 1;
  $("steps-page-label").textContent = `${formatInt(start + 1)}–${formatInt(Math.min(steps.length, start + STEPS_PER_PAGE))} of ${
    formatInt(steps.length)}`;
  $("steps-prev").disabled = state.stepPage === 0;
  $("steps-next").disabled = state.stepPage >= pages - 1;
  const truncated = $("steps-truncated");
  truncated.hidden = !item.steps_truncated;
  truncated.textContent = item.steps_truncated
    ? `Showing the first ${formatInt(item.steps.length)} spans of this execution; the rest are in otel_traces.` : "";
  markSelected();
}

function markSelected() {
  for (const li of $("wf-rows").children) {
    const on = li.dataset.spanId === state.selected;
    li.classList.toggle("selected", on);
    li.setAttribute("aria-selected", String(on));
  }
}

// --- step panel ------------------------------------------------------------------------------------

/** Select the step at a position of a big execution (loading and unfolding to it as needed). */
async function selectPosition(position, {scroll = true, focus = false} = {}) {
  const paged = pagedSteps();
  const step = scroll ? await paged.reveal(position) : await paged.stepAt(position);
  if (!step) return;
  state.selected = step.span_id;
  state.selectedStep = step;
  markSelected();
  history.replaceState(null, "", `${window.location.pathname}${window.location.search}#step=${step.span_id}`);
  const li = $("wf-rows").querySelector(`li[data-span-id="${CSS.escape(step.span_id)}"]`);
  if (li && focus) li.focus({preventScroll: true});
  renderStepPanel(step);
}

/** A big execution opened on a step's permalink (#step=<span id>): where that step is, then select it. */
async function selectLinkedStep() {
  let position = 0;
  if (state.selected) {
    try {
      const params = {parent: state.selected, limit: 1, ...(state.attempt ? {attempt: state.attempt} : {})};
      const answer = await api(`/api/executions/${encodeURIComponent(executionId)}/steps`, params);
      position = answer.parent ? answer.parent.position : 0;
    } catch (err) {
      position = 0;  // not a step of this attempt: open at the top
    }
  }
  selectPosition(position, {scroll: position > 0});
}

function selectStep(spanId, {scroll = true, focus = false} = {}) {
  if (isPaged()) {
    const known = [...state.paged.steps.values()].find((s) => s.span_id === spanId);
    if (known) selectPosition(known.position, {scroll, focus});
    return;
  }
  const steps = visibleSteps();
  const index = steps.findIndex((s) => s.span_id === spanId);
  if (index < 0) return;
  state.selected = spanId;
  const page = Math.floor(index / STEPS_PER_PAGE);
  if (page !== state.stepPage) {
    state.stepPage = page;
    renderSteps();
  }
  markSelected();
  history.replaceState(null, "", `${window.location.pathname}${window.location.search}#step=${spanId}`);
  const li = $("wf-rows").querySelector(`li[data-span-id="${CSS.escape(spanId)}"]`);
  if (li && scroll) li.scrollIntoView({block: "nearest"});
  if (li && focus) li.focus({preventScroll: true});
  state.selectedStep = steps[index];
  renderStepPanel(steps[index]);
}

function renderStepPanel(step) {
  $("step-placeholder").hidden = true;
  $("step-detail").hidden = false;
  $("step-detail").dataset.spanId = step.span_id;
  $("step-name").textContent = step.name;
  setBadge($("step-status"), step.status);
  const error = $("step-error");
  error.hidden = !(step.status === "Failed" && step.error);
  error.textContent = step.status === "Failed" ? step.error : "";
  const skip = $("step-skip");
  skip.hidden = step.status !== "Skipped";
  skip.textContent = step.status === "Skipped" ? `Skipped: ${step.skip_reason || "no reason recorded"}` : "";
  const dl = clear($("step-meta"));
  const row = (label, value, cls = "") => {
    if (value === undefined || value === null || value === "" || value === 0) return;
    dl.append(el("dt", {text: label}), el("dd", {class: cls, text: value}));
  };
  row("Kind", step.kind);
  row("Started At", setTime(el("time"), step.started_at).textContent);
  row("Offset", `+${formatDuration(step.offset_ms)}`);
  row("Duration", `${formatDuration(step.duration_ms)} (${step.duration_ms} ms)`);
  row("Model", step.model);
  row("Tokens", step.total_tokens ? `${formatInt(step.total_tokens)} (${formatInt(step.input_tokens)} in · ${
    formatInt(step.output_tokens)} out)` : "");
  row("Cost", step.cost ? `${costText(step.cost)} (${costBreakdown(step.cost)})` : "");
  row("Tool", step.tool);
  row("Connector", step.connector);
  row("Service", step.service !== state.item.service ? step.service : "");
  row("Function", step.code && step.code.function ? `${step.code.function}${step.code.file ? ` — ${step.code.file}${
    step.code.line ? `:${step.code.line}` : ""}` : ""}` : "", "mono");
  row("Span", step.span_name !== step.name ? `${step.span_name} · ${step.span_id}` : step.span_id, "mono");
  renderJSON($("step-input"), step.input, "No input recorded for this step.");
  setPayloadNote($("step-input-note"), step.input);
  // A trigger has an input (its payload) only.
  const isTrigger = step.kind === "trigger";
  $("step-output-section").hidden = isTrigger;
  renderJSON($("step-output"), step.output, step.status === "Skipped" ? "Skipped: no output."
    : step.status === "Failed" ? "No output: the step failed." : "No output recorded for this step.");
  setPayloadNote($("step-output-note"), step.output);
  const events = clear($("step-events"));
  $("step-events-wrap").hidden = !step.events.length;
  for (const ev of step.events) {
    const li = el("li", {}, el("strong", {text: ev.name}), " ", setTime(el("time"), ev.time));
    const stack = ev.attributes && ev.attributes["exception.stacktrace"];
    const message = ev.attributes && ev.attributes["exception.message"];
    if (message) li.append(el("div", {class: "ev-msg", text: `${ev.attributes["exception.type"] || ""}: ${message}`}));
    if (stack) li.append(el("pre", {class: "stack", text: stack}));
    events.append(li);
  }
  const logs = clear($("step-logs"));
  $("step-logs-wrap").hidden = !(step.logs && step.logs.length);
  for (const lg of step.logs || []) {
    const severity = lg.severity || (lg.severity_number ? `SEV${lg.severity_number}` : "LOG");
    logs.append(el("li", {class: "log-record"}, setTime(el("time"), lg.time), " ",
      el("strong", {class: `severity sev-${Math.ceil((lg.severity_number || 0) / 4)}`, text: severity}), " ",
      el("span", {class: "log-body", text: lg.body || lg.event_name})));
  }
  renderJSON($("step-attrs"), {value: step.attributes});
}

function moveStep(delta) {
  if (isPaged()) {
    const paged = state.paged;
    const at = state.selectedStep && state.selectedStep.position !== undefined
      ? paged.visibleIndexOf(state.selectedStep.position) : -1;
    const v = Math.max(0, Math.min(paged.visibleCount() - 1, at < 0 ? 0 : at + delta));
    selectPosition(paged.positionAt(v), {focus: true});
    return;
  }
  const steps = visibleSteps();
  if (!steps.length) return;
  let index = steps.findIndex((s) => s.span_id === state.selected);
  index = index < 0 ? (delta > 0 ? 0 : steps.length - 1) : Math.max(0, Math.min(steps.length - 1, index + delta));
  selectStep(steps[index].span_id, {focus: true});
}

// --- render ----------------------------------------------------------------------------------------

function render(first) {
  const item = state.item;
  renderHeader(item);
  renderSteps();
  renderMinimap(item);
  renderJSON($("exec-input"), item.input, "No input recorded.");
  setPayloadNote($("input-note"), item.input);
  renderJSON($("exec-output"), item.output, LIVE_STATUSES.has(item.status) ? "Not finished yet." : "No output recorded.");
  setPayloadNote($("output-note"), item.output);
  renderJSON($("exec-attrs"), {value: {span: item.attributes, resource: item.resource}});
  const steps = visibleSteps();
  if (isPaged()) {
    if (first) selectLinkedStep();
  } else if (state.selected && steps.some((s) => s.span_id === state.selected)) {
    selectStep(state.selected, {scroll: first});
  } else if (first && steps.length) {
    // Open on the first failed step when there is one (that is what people come for), else the first.
    const failed = steps.find((s) => s.status === "Failed");
    selectStep((failed || steps[0]).span_id, {scroll: Boolean(failed)});
  }
  if ($("step-search").value.trim() && !state.search.ids) runSearch();
  root.dataset.loaded = item.trace_id;
  emit("execlog:detail", {root, item});
}

// --- search within the execution -------------------------------------------------------------------

const HAYSTACK_CHARS = 20_000;  // per step: bounded work and memory for runs with big payloads
const haystacks = new WeakMap();

function haystack(step) {
  let text = haystacks.get(step);
  if (text === undefined) {
    const payload = (p) => (p && p.value !== undefined ? jsonText(p.value).slice(0, HAYSTACK_CHARS) : "");
    text = [step.name, step.kind, step.tool, step.connector, step.model, step.status, step.error, step.skip_reason,
      payload(step.input), payload(step.output)].filter(Boolean).join("\n").toLowerCase();
    haystacks.set(step, text);
  }
  return text;
}

/** Make a step visible in the waterfall (unfold its ancestors, leave "only failed") and select it. */
function revealStep(spanId) {
  if (!visibleSteps().some((s) => s.span_id === spanId)) {
    state.collapsed.clear();
    state.onlyProblems = false;
    $("only-problems").checked = false;
    renderSteps();
  }
  selectStep(spanId, {scroll: true});
}

/** A big execution is searched on the server: it answers the positions of the matching steps. */
async function runPagedSearch(query) {
  const search = state.search;
  search.query = query;
  search.matches = [];
  search.ids = new Set();
  search.at = -1;
  if (query) {
    const params = {q: query, ...(state.attempt ? {attempt: state.attempt} : {})};
    try {
      const found = await api(`/api/executions/${encodeURIComponent(executionId)}/steps/search`, params);
      if (search.query !== query) return;  // typed on since
      search.matches = found.positions;
      search.ids = new Set(found.span_ids);
      search.capped = found.capped;
    } catch (err) {
      showError($("error-banner"), err);
    }
  }
  state.paged.render();
  if (search.matches.length) jumpToMatch(1);
  else showSearchCount();
}

function runSearch() {
  if (!state.item) return;  // typed before the steps arrived: render() runs it once they are here
  const query = $("step-search").value.trim().toLowerCase();
  const search = state.search;
  if (isPaged()) {
    runPagedSearch(query);
    return;
  }
  search.query = query;
  const steps = state.item ? state.item.steps : [];
  search.matches = query ? steps.filter((s) => haystack(s).includes(query)).map((s) => s.span_id) : [];
  search.ids = new Set(search.matches);
  search.at = -1;
  renderSteps();
  if (search.matches.length) jumpToMatch(1);
  else showSearchCount();
}

function showSearchCount() {
  const {query, matches, at} = state.search;
  $("step-search-count").textContent = !query ? "" : matches.length
    ? `${formatInt(at + 1)} of ${formatInt(matches.length)}${state.search.capped ? "+" : ""}` : "no match";
  $("step-search-prev").disabled = matches.length < 2;
  $("step-search-next").disabled = matches.length < 2;
}

function jumpToMatch(delta) {
  const search = state.search;
  if (!search.matches.length) return;
  search.at = (search.at + delta + search.matches.length) % search.matches.length;
  if (isPaged()) selectPosition(search.matches[search.at]);
  else revealStep(search.matches[search.at]);
  showSearchCount();
}

let searchTimer = null;
$("step-search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 150);
});
$("step-search").addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  event.preventDefault();
  clearTimeout(searchTimer);
  if ($("step-search").value.trim().toLowerCase() !== state.search.query) runSearch();
  else jumpToMatch(event.shiftKey ? -1 : 1);
});
$("step-search-next").addEventListener("click", () => jumpToMatch(1));
$("step-search-prev").addEventListener("click", () => jumpToMatch(-1));

// --- the mini-map: where the failures and the slowest steps are ---------------------------------------

const MINIMAP_SLOWEST = 10;
const MINIMAP_MAX_FAILED = 200;
let minimapKey = "";

/** A big execution's mini-map, from the server's overview (its failures and slowest steps by position). */
async function renderPagedMinimap(item) {
  const key = `${item.trace_id}:${item.steps_total}:${item.failed_steps}`;
  if (key === minimapKey) return;
  minimapKey = key;
  const map = $("minimap");
  let overview;
  try {
    overview = await api(`/api/executions/${encodeURIComponent(executionId)}/steps/overview`,
      state.attempt ? {attempt: state.attempt} : null);
  } catch (err) {
    minimapKey = "";
    return;
  }
  clear(map);
  map.hidden = false;
  const track = el("div", {class: "mm-track"});
  map.append(track);
  const mark = (m, cls, label) => {
    const b = el("button", {class: `mm-mark ${cls}`, attrs: {type: "button", "aria-label": label, tabindex: "-1"}});
    b.title = label;
    b.dataset.position = String(m.position);
    b.style.left = `${(m.position / Math.max(1, overview.total - 1)) * 100}%`;
    track.append(b);
  };
  const slowest = overview.slowest.filter((m) => m.status !== "Failed");
  for (const m of slowest) mark(m, "mm-slow", `Slow: ${m.name} — ${formatDuration(m.duration_ms)}`);
  for (const m of overview.failed) mark(m, "mm-fail", `Failed: ${m.name}${m.error ? ` — ${m.error}` : ""}`);
  map.append(el("span", {class: "mm-legend muted"},
    el("span", {class: "mm-key mm-fail-key", attrs: {"aria-hidden": "true"}}),
    ` ${formatInt(overview.failed_total)} failed · `,
    el("span", {class: "mm-key mm-slow-key", attrs: {"aria-hidden": "true"}}),
    ` ${formatInt(slowest.length)} slowest`));
}

function renderMinimap(item) {
  if (item.steps_paged) {
    renderPagedMinimap(item);
    return;
  }
  const map = $("minimap");
  const steps = item.steps;
  const failed = steps.filter((s) => s.status === "Failed");
  const slowest = [...steps].sort((a, b) => b.duration_ms - a.duration_ms).slice(0, MINIMAP_SLOWEST)
    .filter((s) => s.status !== "Failed");
  const key = `${item.trace_id}:${steps.length}:${failed.length}`;
  if (key === minimapKey) return;
  minimapKey = key;
  clear(map);
  map.hidden = steps.length < 20;  // a short run fits on the screen: no overview needed
  if (map.hidden) return;
  const position = new Map(steps.map((s, i) => [s.span_id, i]));
  const track = el("div", {class: "mm-track"});
  map.append(track);
  const mark = (step, cls, label) => {
    const b = el("button", {class: `mm-mark ${cls}`, attrs: {type: "button", "aria-label": label, tabindex: "-1"}});
    b.title = label;
    b.dataset.spanId = step.span_id;
    b.style.left = `${(position.get(step.span_id) / Math.max(1, steps.length - 1)) * 100}%`;
    track.append(b);
  };
  for (const s of slowest) mark(s, "mm-slow", `Slow: ${s.name} — ${formatDuration(s.duration_ms)}`);
  for (const s of failed.slice(0, MINIMAP_MAX_FAILED)) mark(s, "mm-fail", `Failed: ${s.name}${s.error ? ` — ${s.error}` : ""}`);
  const legend = el("span", {class: "mm-legend muted"},
    el("span", {class: "mm-key mm-fail-key", attrs: {"aria-hidden": "true"}}),
    ` ${formatInt(failed.length)} failed · `,
    el("span", {class: "mm-key mm-slow-key", attrs: {"aria-hidden": "true"}}),
    ` ${formatInt(slowest.length)} slowest`);
  map.append(legend);
}

$("minimap").addEventListener("click", (event) => {
  const mark = event.target.closest(".mm-mark");
  if (mark && mark.dataset.position !== undefined) selectPosition(Number(mark.dataset.position));
  else if (mark) revealStep(mark.dataset.spanId);
});

// --- events ----------------------------------------------------------------------------------------

$("wf-rows").addEventListener("click", (event) => {
  const toggle = event.target.closest(".wf-toggle");
  if (toggle && isPaged()) {
    state.paged.toggle(state.paged.steps.get(Number(toggle.closest("li.wf-row").dataset.position)));
    return;
  }
  if (toggle) {
    const id = toggle.closest("li.wf-row").dataset.spanId;
    if (state.collapsed.has(id)) state.collapsed.delete(id);
    else state.collapsed.add(id);
    renderSteps();
    return;
  }
  const li = event.target.closest("li.wf-row");
  if (li && isPaged()) {
    if (li.dataset.spanId) selectPosition(Number(li.dataset.position), {scroll: false});
  } else if (li) {
    selectStep(li.dataset.spanId, {scroll: false});
  }
});
$("collapse-all").addEventListener("click", () => {
  if (state.collapsed.size) {
    state.collapsed.clear();
  } else {
    const root = state.item.steps.length ? state.item.steps[0].parent_span_id : "";
    for (const id of parentIds()) if (id !== root) state.collapsed.add(id);
  }
  state.stepPage = 0;
  renderSteps();
});
$("steps-prev").addEventListener("click", () => { state.stepPage -= 1; renderSteps(); });
$("steps-next").addEventListener("click", () => { state.stepPage += 1; renderSteps(); });
$("only-problems").addEventListener("change", () => {
  state.onlyProblems = $("only-problems").checked;
  state.stepPage = 0;
  renderSteps();
});
$("attempt-select").addEventListener("change", () => {
  state.attempt = $("attempt-select").value;
  const latest = state.item && state.item.attempts.length
    && String(state.item.attempts[state.item.attempts.length - 1].attempt) === state.attempt;
  const params = new URLSearchParams(window.location.search);
  if (latest) {
    state.attempt = "";
    params.delete("attempt");
  } else {
    params.set("attempt", state.attempt);
  }
  state.selected = null;
  state.selectedStep = null;
  history.replaceState(null, "", `${window.location.pathname}${params.toString() ? `?${params}` : ""}`);
  state.item = null;
  load();
});
$("copy-link").addEventListener("click", () => copyText(permalink(executionId), "Link copied"));
$("prev-exec").addEventListener("click", () => goToNeighbor("prev"));
$("next-exec").addEventListener("click", () => goToNeighbor("next"));
root.addEventListener("click", (event) => {
  const copy = event.target.closest(".copy-json");
  if (!copy || !state.item) return;
  const step = state.selectedStep;
  const payload = {
    input: state.item.input, output: state.item.output,
    "step-input": step && step.input, "step-output": step && step.output,
  }[copy.dataset.copy];
  copyText(payload ? jsonText(payload.value) : "", "JSON copied");
});
document.addEventListener("keydown", (event) => {
  if (isTyping(event) || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "ArrowLeft" || event.key === "k") {
    event.preventDefault();
    goToNeighbor("prev");
  } else if (event.key === "ArrowRight" || event.key === "j") {
    event.preventDefault();
    goToNeighbor("next");
  } else if (event.key === "ArrowDown" && (state.selected || document.activeElement === $("wf-rows"))) {
    event.preventDefault();
    moveStep(1);
  } else if (event.key === "ArrowUp" && (state.selected || document.activeElement === $("wf-rows"))) {
    event.preventDefault();
    moveStep(-1);
  }
});

initTimeZoneLabel();
load();
loadNeighbors();
