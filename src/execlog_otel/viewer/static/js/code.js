// Download Code in the viewer: the row action and the multi-select Zip bar of the listing, the
// executed code in Quick View, and the download button and code panel of the detail page.
// It fills the pages' data-slot elements when they dispatch execlog:row / execlog:quickview /
// execlog:detail. Span data is untrusted: the DOM is built with createElement/textContent only,
// and the syntax highlighter below only wraps text nodes in spans.

import {LIVE_STATUSES, api, clear, el, iconAction, toast} from "./common.js";

const selected = new Set();  // execution ids picked for the Zip
const MAX_ZIP = 100;

function codeHref(id) {
  return `/executions/${encodeURIComponent(id)}/code`;
}

function zipHref(ids) {
  const params = new URLSearchParams();
  for (const id of ids) params.append("id", id);
  return `/api/executions/code.zip?${params}`;
}

function downloadLink(id, label = "Download Code", cls = "act act-download") {
  const a = el("a", {class: cls, text: label,
                     title: "Download the executed code as a Python file that replays this execution"});
  a.href = codeHref(id);
  a.setAttribute("download", "");
  return a;
}

// A live execution has no final output yet: its replay file and code come when it ends, so the pages
// say that instead of offering a download (or claiming no code was recorded).
function liveNote(status) {
  return `This execution is ${status}: its code and a replay file are ready when it ends. ` +
    "The code of each step that already ran is in the step panel.";
}

function notYet(status, label = "Download Code") {
  return el("button", {class: "button code-not-yet", text: label, title: liveNote(status),
                       attrs: {type: "button", disabled: ""}});
}

// --- a small Python highlighter: tokens -> <span class="tok-…">text</span> ----------------------

const KEYWORDS = new Set(("False None True and as assert async await break class continue def del elif else except " +
  "finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case")
  .split(" "));
const BUILTINS = new Set(("print len range dict list set tuple str int float bool round sum min max sorted " +
  "enumerate zip map filter any all isinstance getattr setattr hasattr open repr type super object " +
  "Exception ValueError TypeError KeyError RuntimeError ConnectionError self cls").split(" "));
const TOKEN = new RegExp([
  "(#[^\\n]*)",                                                            // 1 comment
  "((?:[rRbBuUfF]{0,2})(?:'''[\\s\\S]*?(?:'''|$)|\"\"\"[\\s\\S]*?(?:\"\"\"|$)" +
    "|'(?:\\\\.|[^'\\\\\\n])*'?|\"(?:\\\\.|[^\"\\\\\\n])*\"?))",            // 2 string
  "(@[A-Za-z_][\\w.]*)",                                                   // 3 decorator
  "(\\b\\d[\\d_]*(?:\\.\\d*)?(?:[eE][+-]?\\d+)?j?\\b|\\b0[xob][\\da-fA-F_]+\\b)", // 4 number
  "([A-Za-z_]\\w*)",                                                       // 5 name
].join("|"), "g");

export function highlightPython(code, target) {
  clear(target);
  let last = 0;
  let afterDef = false;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(code); m !== null; m = TOKEN.exec(code)) {
    if (m[0] === "") { TOKEN.lastIndex += 1; continue; }
    if (m.index > last) target.append(document.createTextNode(code.slice(last, m.index)));
    let cls = "";
    if (m[1]) cls = "tok-comment";
    else if (m[2]) cls = "tok-string";
    else if (m[3]) cls = "tok-decorator";
    else if (m[4]) cls = "tok-number";
    else if (m[5]) {
      if (afterDef) cls = "tok-defname";
      else if (KEYWORDS.has(m[5])) cls = "tok-keyword";
      else if (BUILTINS.has(m[5])) cls = "tok-builtin";
    }
    afterDef = Boolean(m[5]) && (m[5] === "def" || m[5] === "class");
    target.append(cls ? el("span", {class: cls, text: m[0]}) : document.createTextNode(m[0]));
    last = m.index + m[0].length;
  }
  if (last < code.length) target.append(document.createTextNode(code.slice(last)));
  return target;
}

// --- the code panel (Quick View and detail page) ---------------------------------------------------

function codePanel(slot, info) {
  clear(slot);
  // One Download Code per view: the page header's (detail) or the dialog footer's (Quick View).
  const head = el("div", {class: "json-head code-head"},
    el("h3", {text: "Code"}),
    info.function ? el("code", {class: "code-fn", text: info.function,
                                title: info.file ? `${info.file}:${info.line}` : ""}) : null);
  slot.append(head);
  if (LIVE_STATUSES.has(info.status)) {
    slot.append(el("p", {class: "muted code-live", text: liveNote(info.status)}));
    slot.hidden = false;
    return;
  }
  if (info.source) {
    const pre = el("pre", {class: "code-block", attrs: {"aria-label": "Executed code"}});
    const code = el("code", {class: "language-python"});
    highlightPython(info.source, code);
    pre.append(code);
    slot.append(pre);
  } else {
    slot.append(el("p", {class: "muted", text: info.source_truncated
      ? "The source was larger than the payload cap, so it was not recorded."
      : "No source code was recorded for this execution."}));
  }
  slot.append(el("p", {class: "code-note muted", text: info.replayable
    ? `Download it as ${info.filename} and run python3 ${info.filename}: it replays this execution offline ` +
      "(logged steps answered from the log) and says whether the output matches."
    : `The downloaded file shows the logged context; it cannot re-execute: ${info.reason}`}));
  for (const step of info.steps || []) {
    if (!step.source || step.source === info.source) continue;
    const details = el("details", {class: "code-step"});
    details.append(el("summary", {text: `Step ${step.name}`}, " ", el("code", {class: "muted", text: step.function})));
    const pre = el("pre", {class: "code-block"});
    pre.append(highlightPython(step.source, el("code", {class: "language-python"})));
    details.append(pre);
    slot.append(details);
  }
  slot.hidden = false;
}

async function showCode(slot, id, isCurrent) {
  slot.hidden = false;
  clear(slot).append(el("p", {class: "muted", text: "Loading code…"}));
  try {
    const info = await api(`/api/executions/${encodeURIComponent(id)}/code`);
    if (!isCurrent()) return;
    codePanel(slot, info);
  } catch (err) {
    if (!isCurrent()) return;
    clear(slot).append(el("p", {class: "banner error", text: `Cannot load the code: ${err.message}`}));
  }
}

// --- listing: row action, selection and the Zip bar -----------------------------------------------

let bar = null;

function actionBar() {
  if (bar) return bar;
  bar = el("div", {class: "selection-bar", attrs: {role: "region", "aria-label": "Selected executions"}});
  bar.hidden = true;
  const count = el("span", {class: "selection-count", attrs: {"aria-live": "polite"}});
  const zip = el("a", {class: "button primary", text: "Download Zip",
                       title: "One Python file per selected execution, in a Zip"});
  zip.id = "download-zip";
  zip.setAttribute("download", "");
  const clearButton = el("button", {class: "link", text: "Clear selection", attrs: {type: "button"}});
  clearButton.addEventListener("click", () => {
    selected.clear();
    for (const box of document.querySelectorAll("input.select-execution")) box.checked = false;
    updateBar();
  });
  bar.append(count, zip, clearButton);
  document.body.append(bar);
  return bar;
}

function updateBar() {
  const b = actionBar();
  b.hidden = selected.size === 0;
  b.querySelector(".selection-count").textContent =
    `${selected.size} execution${selected.size === 1 ? "" : "s"} selected`;
  b.querySelector("#download-zip").href = zipHref([...selected]);
}

function selectBox(row, id, name) {
  let box = row.querySelector("input.select-execution");
  if (!box) {
    box = el("input", {class: "select-execution", attrs: {type: "checkbox"}});
    box.addEventListener("click", (event) => event.stopPropagation());
    box.addEventListener("change", () => {
      if (box.checked && selected.size >= MAX_ZIP) {
        box.checked = false;
        toast(`A Zip holds at most ${MAX_ZIP} executions.`);
      } else if (box.checked) {
        selected.add(box.dataset.id);
      } else {
        selected.delete(box.dataset.id);
      }
      updateBar();
    });
    const cell = row.querySelector(".c-name") || row.firstElementChild;
    cell.prepend(box);
  }
  box.dataset.id = id;
  box.setAttribute("aria-label", `Select ${name || id} for the Zip download`);
  box.checked = selected.has(id);
}

document.addEventListener("execlog:row", (event) => {
  const {row, item} = event.detail;
  const slot = row.querySelector('[data-slot="download-code"]');
  if (slot) {
    const link = LIVE_STATUSES.has(item.status) ? notYet(item.status, "") : downloadLink(item.id);
    link.classList.add("act", "act-download");
    clear(slot).append(iconAction(link, "download",
      LIVE_STATUSES.has(item.status) ? `Download Code: ready when it ends` : "Download Code"));
  }
  selectBox(row, item.id, item.name);
});

let quickId = null;
document.addEventListener("execlog:quickview", (event) => {
  const {dialog, item} = event.detail;
  quickId = item.id;
  const actions = dialog.querySelector('[data-slot="quickview-actions"]');
  if (actions) {
    clear(actions).append(LIVE_STATUSES.has(item.status) ? notYet(item.status)
      : downloadLink(item.id, "Download Code", "button"));
  }
  const slot = dialog.querySelector('[data-slot="quickview-code"]');
  if (slot) showCode(slot, item.id, () => quickId === item.id);
});

let detailId = null;

function latestAttempt(item) {
  return item.attempts && item.attempts.length ? item.attempts[item.attempts.length - 1].attempt : item.shown_attempt;
}
document.addEventListener("execlog:detail", (event) => {
  const {root, item} = event.detail;
  const button = root.querySelector('[data-slot="download-code"]');
  const live = LIVE_STATUSES.has(item.status) && item.shown_attempt === latestAttempt(item);
  if (button) clear(button).append(live ? notYet(item.status) : downloadLink(item.id, "Download Code", "button"));
  const slot = root.querySelector('[data-slot="execution-code"]');
  const key = `${item.id}:${item.status}`;
  if (slot && detailId !== key) {
    detailId = key;
    showCode(slot, item.id, () => detailId === key);
  }
});

// --- detail page: the selected step's code ---------------------------------------------------------

const stepsById = new Map();

function showStepCode(root) {
  const slot = root.querySelector('[data-slot="step-code"]');
  const detail = document.getElementById("step-detail");
  if (!slot || !detail) return;
  const step = stepsById.get(detail.dataset.spanId || "");
  const code = step && step.code;
  clear(slot);
  if (!code || !code.source) {
    slot.hidden = true;
    return;
  }
  slot.append(el("div", {class: "json-head code-head"}, el("h4", {text: "Code"}),
    el("code", {class: "code-fn", text: code.function || "", title: code.file ? `${code.file}:${code.line}` : ""})));
  const pre = el("pre", {class: "code-block"});
  pre.append(highlightPython(code.source, el("code", {class: "language-python"})));
  slot.append(pre);
  slot.hidden = false;
}

let stepObserver = null;
document.addEventListener("execlog:detail", (event) => {
  const {root, item} = event.detail;
  for (const step of item.steps || []) stepsById.set(step.span_id, step);
  const detail = document.getElementById("step-detail");
  if (detail && !stepObserver) {
    stepObserver = new MutationObserver(() => showStepCode(root));
    stepObserver.observe(detail, {attributes: true, attributeFilter: ["data-span-id"]});
  }
  showStepCode(root);
});
