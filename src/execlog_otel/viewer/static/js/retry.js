// Retry in the viewer: the Retry affordance with attempts left (or why not) on failed listing rows and
// on the detail page, and bulk retry of the listing's selected rows with a preview before confirming.
// It fills the data-slot="retry" elements the pages leave and listens to their execlog:row /
// execlog:detail events. Values from spans (names, reasons from the runner) are untrusted: DOM is
// built with textContent only (el()).

import {
  ApiError, LIVE_STATUSES, api, attemptsLabel, clear, el, emit, iconAction, setBadge, toast,
} from "./common.js";

const FAILED = new Set(["Failed", "Rejected"]);
const POLL_MS = 1000;
const POLL_LIMIT = 600;  // stop following an attempt after ~10 minutes

// Short labels for refusals in the narrow row; the full reason is next to it and in the title.
const SHORT = {
  limit_reached: "Retry limit reached",
  not_retryable: "Not retryable",
  no_listener: "No retry listener",
  payload_truncated: "Cannot retry",
  payload_redacted: "Cannot retry",
  trigger_changed: "Trigger changed",
  unknown_automation: "Unknown to runner",
  runner_unreachable: "Runner unreachable",
  bad_signature: "Bad signature",
  retry_not_configured: "Retry not configured",
  in_progress: "Attempt running",
  already_started: "Retry started",
};

const ROW_REASONS = new Set(["not_retryable", "limit_reached", "payload_truncated", "payload_redacted"]);

// --- API -------------------------------------------------------------------------------------------

let csrfPromise = null;

function csrfToken() {
  if (!csrfPromise) {
    csrfPromise = api("/api/retry/csrf").then((data) => data.token).catch((err) => {
      csrfPromise = null;
      throw err;
    });
  }
  return csrfPromise;
}

/** POST JSON with the CSRF token; resolves to {status, body} whatever the status (refusals are answers). */
async function post(path, payload) {
  const token = await csrfToken();
  let response;
  try {
    response = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": token},
      body: JSON.stringify(payload || {}),
    });
  } catch (err) {
    throw new ApiError(`Cannot reach the server (${err.message}). Is execlog still running?`);
  }
  let body = {};
  try {
    body = await response.json();
  } catch (err) {
    body = {error: `${response.status} ${response.statusText}`};
  }
  if (response.status === 403) csrfPromise = null;  // a new token next time (e.g. after signing in again)
  return {status: response.status, body};
}

function retriesLeftText(d) {
  const n = d.attempts_left;
  return `${n} ${n === 1 ? "retry" : "retries"} left`;
}

/** Follow an execution until attempt >= ``attempt`` has ended; ``onItem`` gets each fresh state. */
function follow(id, attempt, onItem, onDone) {
  let polls = 0;
  const timer = setInterval(async () => {
    polls += 1;
    if (polls > POLL_LIMIT) {
      clearInterval(timer);
      return;
    }
    try {
      const data = await api("/api/executions", {ids: id});
      const item = data.items && data.items[0];
      if (!item || item.attempt < attempt) return;
      onItem(item);
      if (!LIVE_STATUSES.has(item.status)) {
        clearInterval(timer);
        if (onDone) onDone(item);
      }
    } catch (err) {
      // try again at the next tick
    }
  }, POLL_MS);
}

// --- listing rows: the reference's Info icon beside a Failed status ------------------------------------
//
// A failed row shows an Info button next to its status; it opens a pop-up with the failure (message,
// failed and skipped steps) and Retry Execution, or why the execution cannot be retried. Once the retry
// limit is reached the Info icon is gone (as in the reference) and the row says so. The row's first
// decision comes from the store alone (fast); the retryable ones are then confirmed with their runners,
// so the row never offers a retry its detail page refuses (e.g. a reconfigured trigger).

const decisions = new Map();  // execution id -> latest decision (from the preview endpoint)
let pendingRows = new Map();  // execution id -> row, waiting for one batched decision request
let batchTimer = null;

function queueDecision(row, item) {
  pendingRows.set(item.id, row);
  if (!batchTimer) batchTimer = setTimeout(fetchDecisions, 30);
}

async function previewChunk(ids, checkRunner) {
  const {status, body} = await post("/api/retry/preview", {ids, check_runner: checkRunner});
  if (status !== 200) throw new ApiError(body.error || `HTTP ${status}`);
  return body.items;
}

/** One execution's retry decision confirmed by its runner (known automation, unchanged trigger). A POST with
 * the CSRF token: the status GET never contacts a runner, so the detail page and Quick View ask here and agree
 * with the listing's rows. */
async function decisionWithRunner(id) {
  const [d] = await previewChunk([id], true);
  return d;
}

async function fetchDecisions() {
  batchTimer = null;
  const rows = pendingRows;
  pendingRows = new Map();
  const ids = [...rows.keys()];
  const show = (d) => {
    const before = decisions.get(d.execution_id);
    decisions.set(d.execution_id, d);
    const row = rows.get(d.execution_id);
    if (!row || !row.isConnected || row.dataset.id !== d.execution_id) return;
    // The runner's confirmation usually agrees: keep the row (and an Info button someone is using) as is.
    if (before && row.dataset.retryCode === d.code && before.retryable === d.retryable
        && before.attempts_left === d.attempts_left) return;
    renderRowSlot(row, d);
  };
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    let items;
    try {
      items = await previewChunk(chunk, false);
    } catch (err) {
      for (const id of chunk) {
        const row = rows.get(id);
        if (row) retryLine(row).append(el("span", {class: "retry-why", text: "Retry unavailable", title: err.message}));
      }
      continue;
    }
    items.forEach(show);
    const retryable = items.filter((d) => d.retryable).map((d) => d.execution_id);
    if (!retryable.length) continue;
    try {
      (await previewChunk(retryable, true)).forEach(show);
    } catch (err) {
      // Keep the store's answer; the retry itself asks the runner again.
    }
  }
}

/** The retry state beside the status ("2 retries left", or why not), created on demand. */
function retryLine(row) {
  const cell = row.querySelector(".c-status .status-line") || row.querySelector(".c-status");
  let line = cell.querySelector(".retry-line");
  if (!line) {
    line = el("span", {class: "sub retry-line"});
    cell.append(line);
  }
  return clear(line);
}

function renderRowSlot(row, d) {
  const slot = row.querySelector('[data-slot="retry"]');
  if (!slot) return;
  clear(slot);
  row.dataset.retryCode = d.code;
  const line = retryLine(row);
  if (d.code !== "limit_reached") {
    const info = el("button", {class: "status-info", attrs: {type: "button", "aria-haspopup": "dialog",
      "aria-label": `${row.dataset.status || "Failed"}: details and Retry Execution`}});
    iconAction(info, "info", "Details and Retry Execution");
    info.addEventListener("click", (event) => {
      event.stopPropagation();
      openInfo(row, d, info);
    });
    slot.append(info);
  }
  if (d.retryable) {
    line.append(el("span", {class: "retry-left", text: retriesLeftText(d)}));
  } else {
    // A short label in the row; the whole reason is in the pop-up (and the tooltip), never cut.
    line.append(el("span", {class: "retry-why", text: SHORT[d.code] || "Cannot retry", title: d.reason,
                            attrs: {"data-code": d.code}}));
  }
}

// --- the Info pop-up ---------------------------------------------------------------------------------

let pop = null;

function infoPop() {
  if (pop) return pop;
  pop = el("div", {class: "status-pop", attrs: {popover: "auto", role: "dialog", "aria-labelledby": "status-pop-title"}});
  pop.id = "status-pop";
  document.body.append(pop);
  pop.addEventListener("toggle", (event) => {
    if (event.newState === "closed" && pop.opener && pop.opener.isConnected) pop.opener.focus({preventScroll: true});
  });
  return pop;
}

function placePop(p, anchor, row) {
  // The row may have been re-rendered meanwhile (a live update): place it by the row's current icon.
  const target = anchor.isConnected ? anchor : (row && (row.querySelector(".status-info") || row.querySelector(".badge")));
  if (!target || !target.isConnected) return;
  const r = target.getBoundingClientRect();
  const width = p.offsetWidth;
  const height = p.offsetHeight;
  const left = Math.max(8, Math.min(r.left, window.innerWidth - width - 8));
  const below = r.bottom + 6;
  const top = below + height > window.innerHeight - 8 ? Math.max(8, r.top - height - 6) : below;
  p.style.left = `${left}px`;
  p.style.top = `${top}px`;
}

async function openInfo(row, d, anchor) {
  const p = infoPop();
  p.opener = anchor;
  const id = row.dataset.id;
  p.dataset.id = id;
  const name = row.querySelector(".name-link");
  const title = el("h2", {text: name ? name.textContent : id});
  title.id = "status-pop-title";
  const close = el("button", {class: "pop-close", text: "×", attrs: {type: "button", "aria-label": "Close"}});
  close.addEventListener("click", () => p.hidePopover());
  const status = row.dataset.status || "Failed";
  const head = el("div", {class: "pop-head"}, title, el("span", {class: "spacer"}), close);
  const badgeNode = row.querySelector(".c-status .badge").cloneNode(true);
  const why = row.querySelector(".status-why");
  const failure = el("div", {class: "banner error pop-failure", text: (why && why.textContent) || `${status}.`});
  const steps = el("ol", {class: "pop-steps"});
  const attemptText = `Attempt ${d.attempt}${d.max_attempts ? ` of ${d.max_attempts}` : ""}`;
  const retry = el("div", {class: "pop-retry"});
  if (d.retryable) {
    const button = el("button", {class: "button primary act-retry", text: "Retry Execution",
                                 attrs: {type: "button", "data-next-attempt": d.next_attempt}});
    button.addEventListener("click", () => {
      p.hidePopover();
      retryRow(row, d);
    });
    retry.append(button, el("span", {class: "retry-left", text: `${attemptText} · ${retriesLeftText(d)}`}));
  } else {
    retry.append(el("span", {class: "retry-why", text: SHORT[d.code] || "Cannot retry", attrs: {"data-code": d.code}}),
                 el("p", {class: "retry-reason", text: d.reason}));
  }
  const open = el("a", {class: "pop-open", text: "Open execution"});
  open.href = name ? name.href : `/executions/${encodeURIComponent(id)}`;
  clear(p).append(head, el("div", {class: "pop-status"}, badgeNode, el("span", {class: "muted", text: attemptText})),
                  failure, steps, retry, open);
  if (!p.matches(":popover-open")) p.showPopover();
  placePop(p, anchor, row);
  (p.querySelector(".act-retry") || close).focus({preventScroll: true});
  // The failed and skipped steps, as Quick View lists them.
  try {
    const item = await api(`/api/executions/${encodeURIComponent(id)}`, {steps: "false"});
    if (p.dataset.id !== id) return;
    if (item.status_message) failure.textContent = item.status_message;
    for (const step of item.problem_steps || []) {
      steps.append(el("li", {}, el("strong", {text: step.name}), step.detail ? ` — ${step.detail}` : "",
                      el("span", {class: "muted", text: ` (${step.status})`})));
    }
    placePop(p, anchor, row);
  } catch (err) {
    // The pop-up still has the failure message from the row.
  }
}

function showRowState(row, item) {
  emit("execlog:item", {item});  // the listing re-renders the whole row (steps, duration, …)
  if (row.dataset.status === item.status && row.dataset.attempt === String(item.attempt)) return;
  row.dataset.attempt = String(item.attempt);
  row.dataset.status = item.status;
  const badge = row.querySelector(".badge");
  if (badge) setBadge(badge, item.status);
  const attempts = row.querySelector(".attempts");
  if (attempts) attempts.textContent = attemptsLabel(item);
  row.classList.toggle("is-live", LIVE_STATUSES.has(item.status));
}

// Ask the viewer to retry the attempt it offered; a network failure reads like any other refusal.
async function requestRetry(d) {
  try {
    return await post(`/api/executions/${encodeURIComponent(d.execution_id)}/retry`, {attempt: d.next_attempt});
  } catch (err) {
    return {status: 0, body: {code: "viewer_unreachable", error: err.message}};
  }
}

async function retryRow(row, d) {
  const slot = row.querySelector('[data-slot="retry"]');
  if (slot) clear(slot);
  retryLine(row).append(el("span", {class: "retry-started", text: "Retrying…"}));
  const {body} = await requestRetry(d);
  if (body.accepted) {
    toast(body.message || `Attempt ${body.attempt} started`);
    retryLine(row).append(el("span", {class: "retry-started", text: `Attempt ${body.attempt} started…`}));
    follow(d.execution_id, body.attempt, (item) => showRowState(row, item), (item) => {
      decisions.delete(item.id);
      if (FAILED.has(item.status)) queueDecision(row, item);
      else clearRowRetry(row);
    });
  } else {
    const message = body.error || "The retry failed.";
    toast(message);
    retryLine(row).append(el("span", {class: "retry-why", text: SHORT[body.code] || "Retry failed", title: message,
                                      attrs: {"data-code": body.code || "", role: "alert"}}));
  }
}

function clearRowRetry(row) {
  const slot = row.querySelector('[data-slot="retry"]');
  if (slot) clear(slot);
  const line = row.querySelector(".retry-line");
  if (line) line.remove();
  delete row.dataset.retryCode;
}

document.addEventListener("execlog:row", (event) => {
  const {row, item} = event.detail;
  const slot = row.querySelector('[data-slot="retry"]');
  if (!slot) return;
  if (!FAILED.has(item.status)) {
    clearRowRetry(row);
    return;
  }
  const known = decisions.get(item.id);
  if (known && known.status === item.status && known.attempt === item.attempt) renderRowSlot(row, known);
  else queueDecision(row, item);
});

// --- bulk: the selection's "Retry selected…" and its preview dialog ------------------------------------

function selectedIds() {
  return [...document.querySelectorAll("input.select-execution:checked")].map((box) => box.dataset.id)
    .filter(Boolean);
}

function ensureBulkButton() {
  const bar = document.querySelector(".selection-bar");
  if (!bar || bar.querySelector(".retry-selected")) return;
  const button = el("button", {class: "retry-selected", text: "Retry selected…",
                               title: "Preview which selected executions will be retried, then confirm",
                               attrs: {type: "button"}});
  button.addEventListener("click", () => openPreview(selectedIds()));
  bar.insertBefore(button, bar.querySelector("button.link"));
}

document.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.matches("input.select-execution")) {
    ensureBulkButton();
  }
});

let dialog = null;

function previewDialog() {
  if (dialog) return dialog;
  dialog = el("dialog", {class: "retry-dialog", attrs: {"aria-labelledby": "retry-dialog-title"}});
  const title = el("h2", {text: "Retry selected executions"});
  title.id = "retry-dialog-title";
  const summary = el("p", {class: "retry-summary", attrs: {"aria-live": "polite"}});
  const list = el("ul", {class: "retry-preview"});
  const confirm = el("button", {class: "button primary retry-confirm", text: "Retry", attrs: {type: "button"}});
  const cancel = el("button", {class: "retry-cancel", text: "Close", attrs: {type: "button"}});
  cancel.addEventListener("click", () => dialog.close());
  dialog.append(title, summary, list, el("div", {class: "retry-dialog-foot"}, confirm, cancel));
  document.body.append(dialog);
  return dialog;
}

function previewLine(d) {
  const row = document.querySelector(`tr.row[data-id="${CSS.escape(d.execution_id)}"]`);
  const name = (row && row.querySelector(".name-link") && row.querySelector(".name-link").textContent) || d.name;
  const li = el("li", {class: d.retryable ? "will-retry" : "will-not-retry", attrs: {"data-id": d.execution_id}});
  li.append(el("span", {class: "retry-name", text: name || d.execution_id, title: d.execution_id}), " ",
            el("span", {class: "retry-verdict",
                        text: d.retryable ? `will be retried as attempt ${d.next_attempt} of ${d.max_attempts}`
                          : `will not be retried: ${d.reason}`}));
  return li;
}

async function openPreview(ids) {
  const dlg = previewDialog();
  const summary = dlg.querySelector(".retry-summary");
  const list = clear(dlg.querySelector(".retry-preview"));
  const confirm = dlg.querySelector(".retry-confirm");
  confirm.disabled = true;
  confirm.hidden = false;
  confirm.textContent = "Retry";
  summary.textContent = ids.length ? "Checking the selected executions with their runners…"
    : "Select executions in the listing first.";
  if (!dlg.open) dlg.showModal();
  if (!ids.length) return;
  let result;
  try {
    result = await post("/api/retry/preview", {ids});
  } catch (err) {
    summary.textContent = err.message;
    return;
  }
  if (result.status !== 200) {
    summary.textContent = result.body.error || `Preview failed (HTTP ${result.status}).`;
    return;
  }
  const items = result.body.items;
  for (const d of items) list.append(previewLine(d));
  const will = items.filter((d) => d.retryable);
  summary.textContent = `${will.length} of ${items.length} selected execution${items.length === 1 ? "" : "s"} ` +
    `will be retried${items.length - will.length ? `; ${items.length - will.length} will not (see why below)` : ""}.`;
  confirm.disabled = will.length === 0;
  confirm.textContent = will.length ? `Retry ${will.length}` : "Nothing to retry";
  confirm.onclick = () => runBulk(will);
}

async function runBulk(will) {
  const dlg = previewDialog();
  const confirm = dlg.querySelector(".retry-confirm");
  const summary = dlg.querySelector(".retry-summary");
  confirm.disabled = true;
  summary.textContent = "Retrying…";
  const attempts = Object.fromEntries(will.map((d) => [d.execution_id, d.next_attempt]));
  let result;
  try {
    result = await post("/api/retry/bulk", {ids: will.map((d) => d.execution_id), attempts});
  } catch (err) {
    summary.textContent = err.message;
    return;
  }
  if (result.status !== 200) {
    summary.textContent = result.body.error || `Retry failed (HTTP ${result.status}).`;
    return;
  }
  const {items, accepted, refused} = result.body;
  summary.textContent = `${accepted} retr${accepted === 1 ? "y" : "ies"} started` +
    (refused ? `, ${refused} refused (see why below).` : ".");
  confirm.hidden = true;
  for (const outcome of items) {
    const li = dlg.querySelector(`li[data-id="${CSS.escape(outcome.id)}"] .retry-verdict`);
    if (li) li.textContent = outcome.accepted ? outcome.message : `not retried: ${outcome.error}`;
    const row = document.querySelector(`tr.row[data-id="${CSS.escape(outcome.id)}"]`);
    if (row && outcome.accepted) {
      const slot = row.querySelector('[data-slot="retry"]');
      if (slot) clear(slot);
      retryLine(row).append(el("span", {class: "retry-started", text: `Attempt ${outcome.attempt} started…`}));
      follow(outcome.id, outcome.attempt, (item) => showRowState(row, item), (item) => {
        decisions.delete(item.id);
        if (FAILED.has(item.status)) queueDecision(row, item);
        else clearRowRetry(row);
      });
    }
  }
}

// --- detail page -----------------------------------------------------------------------------------

let detailKey = "";

document.addEventListener("execlog:detail", async (event) => {
  const {root, item} = event.detail;
  const slot = root.querySelector('[data-slot="retry"]');
  if (!slot) return;
  const latest = !item.attempts || !item.attempts.length
    || item.shown_attempt === item.attempts[item.attempts.length - 1].attempt;
  const key = `${item.id}:${item.status}:${item.shown_attempt}:${latest}`;
  if (key === detailKey) return;  // live refreshes re-render every 2 s: ask once per state
  detailKey = key;
  clear(slot);
  if (!latest || LIVE_STATUSES.has(item.status)) return;
  if (!FAILED.has(item.status)) return;
  let d;
  try {
    d = await decisionWithRunner(item.id);
  } catch (err) {
    slot.append(el("span", {class: "retry-why", text: "Retry unavailable", title: err.message}));
    return;
  }
  if (detailKey !== key) return;
  renderDetailSlot(slot, d);
});

function renderDetailSlot(slot, d) {
  clear(slot);
  if (d.retryable) {
    const button = el("button", {class: "button primary act-retry", text: "Retry Execution",
                                 title: "Run the automation again with this execution's trigger payload",
                                 attrs: {type: "button"}});
    button.addEventListener("click", () => retryDetail(slot, d, button));
    slot.append(button, el("span", {class: "retry-left",
                                    text: `Attempt ${d.attempt} of ${d.max_attempts} · ${retriesLeftText(d)}`}));
  } else {
    slot.append(el("span", {class: "retry-why", text: SHORT[d.code] || "Cannot retry", attrs: {"data-code": d.code}}),
                el("span", {class: "retry-reason", text: d.reason}));
  }
}

async function retryDetail(slot, d, button) {
  button.disabled = true;
  button.textContent = "Retrying…";
  const {body} = await requestRetry(d);
  if (body.accepted) {
    toast(body.message || `Attempt ${body.attempt} started`);
    clear(slot).append(el("span", {class: "retry-started", text: `Attempt ${body.attempt} started…`}));
    // Show the new attempt as soon as it is in the store (the page then follows it live).
    const wait = setInterval(async () => {
      try {
        const data = await api("/api/executions", {ids: d.execution_id});
        const item = data.items && data.items[0];
        if (item && item.attempt >= body.attempt) {
          clearInterval(wait);
          const params = new URLSearchParams(window.location.search);
          params.delete("attempt");
          window.location.search = params.toString();
        }
      } catch (err) {
        // next tick
      }
    }, POLL_MS);
  } else {
    toast(body.error || "The retry failed.");
    clear(slot).append(el("span", {class: "retry-why", text: SHORT[body.code] || "Retry failed",
                                   attrs: {"data-code": body.code || ""}}),
                       el("span", {class: "retry-reason", text: body.error || "The retry failed.",
                                   attrs: {role: "alert"}}));
  }
}

// --- Quick View: the reference's pop-up of a failed execution offers Retry Execution too -------------

let quickItem = null;

document.addEventListener("execlog:quickview", async (event) => {
  const {dialog, item} = event.detail;
  quickItem = item.id;
  const actions = dialog.querySelector('[data-slot="quickview-actions"]');
  if (!actions) return;
  for (const old of actions.querySelectorAll(".retry-qv")) old.remove();
  if (!FAILED.has(item.status)) return;
  let d;
  try {
    // Asked with the runner, like the detail page: Quick View and the detail never disagree.
    d = await decisionWithRunner(item.id);
  } catch (err) {
    return;
  }
  if (quickItem !== item.id) return;
  const box = el("span", {class: "retry-qv"});
  actions.append(box);
  renderDetailSlot(box, d);
  const row = document.querySelector(`tr.row[data-id="${CSS.escape(item.id)}"]`);
  const button = box.querySelector(".act-retry");
  if (button && row) {
    // Retry from Quick View works like the row's Retry: the row follows the new attempt.
    button.replaceWith(button.cloneNode(true));
    box.querySelector(".act-retry").addEventListener("click", () => {
      dialog.close();
      retryRow(row, d);
    });
  }
});
