// The waterfall of a big execution (the detail answered steps_paged): a virtualised list over the steps'
// depth-first positions. Only the rows on screen exist; their steps load a page at a time from
// /api/executions/<id>/steps (by offset, or under a step when it is unfolded), so scrolling never loads
// the whole execution. Folding a step hides the `descendants` positions after it.
import {api, el} from "./common.js";

export const ROW_HEIGHT = 30;  // px: every row the same height, so a position is a pixel offset
const PAGE = 200;
const OVERSCAN = 12;

export class PagedSteps {
  /**
   * @param {object} options
   * @param {string} options.executionId
   * @param {() => object} options.query  the attempt parameter, as the detail was read
   * @param {HTMLOListElement} options.rows  the scrolling list (#wf-rows)
   * @param {(step: object) => HTMLLIElement} options.renderRow
   * @param {() => void} options.onRendered  after rows were drawn (the page marks the selection)
   */
  constructor({executionId, query, rows, renderRow, onRendered}) {
    this.executionId = executionId;
    this.query = query;
    this.rows = rows;
    this.renderRow = renderRow;
    this.onRendered = onRendered;
    this.total = 0;
    this.traceId = "";
    this.steps = new Map();  // position -> step
    this.pages = new Map();  // page number -> Promise
    this.collapsed = new Map();  // position -> descendants hidden under it
    this.ranges = [];  // the outermost collapsed ranges, by position: [[position, descendants], ...]
    this.spacer = el("li", {class: "wf-spacer", attrs: {"aria-hidden": "true"}});
    this.frame = 0;
    this.active = false;
    rows.addEventListener("scroll", () => {
      if (this.active) this.schedule();
    });
  }

  /** The list shows a small execution again (another attempt): stop drawing into it. */
  stop() {
    this.active = false;
    this.traceId = "";
    this.rows.classList.remove("virtual");
  }

  /** Start over from a detail answer (its first page), or keep what is loaded if it is the same run. */
  reset(item) {
    const same = item.trace_id === this.traceId && item.steps_total === this.total;
    if (!same) {
      this.traceId = item.trace_id;
      this.total = item.steps_total;
      this.steps.clear();
      this.pages.clear();
      this.collapsed.clear();
      this.ranges = [];
    }
    for (const s of item.steps) this.steps.set(s.position, s);
    this.active = true;
    this.rows.classList.add("virtual");
    this.render();
  }

  url(params) {
    return [`/api/executions/${encodeURIComponent(this.executionId)}/steps`, {...this.query(), ...params}];
  }

  /** Load the page holding `position` (once); resolves when its steps are known. */
  ensure(position) {
    const page = Math.floor(position / PAGE);
    if (!this.pages.has(page)) {
      const [path, params] = this.url({offset: page * PAGE, limit: PAGE});
      const traceId = this.traceId;
      const loading = api(path, params).then((answer) => {
        if (answer.trace_id !== traceId) return;
        for (const s of answer.items) this.steps.set(s.position, s);
        this.schedule();
      }).catch((err) => {
        this.pages.delete(page);  // try again when it is on screen next time
        throw err;
      });
      this.pages.set(page, loading);
    }
    return this.pages.get(page);
  }

  async stepAt(position) {
    if (!this.steps.has(position)) await this.ensure(position);
    return this.steps.get(position);
  }

  visibleCount() {
    let hidden = 0;
    for (const [, d] of this.ranges) hidden += d;
    return this.total - hidden;
  }

  /** The position shown at visible index `v` (folded subtrees skipped). */
  positionAt(v) {
    let p = v;
    for (const [s, d] of this.ranges) {
      if (s < p) p += d;
      else break;
    }
    return p;
  }

  /** The visible index of a position that is not folded away. */
  visibleIndexOf(position) {
    let v = position;
    for (const [s, d] of this.ranges) {
      if (s + d < position) v -= d;
      else break;
    }
    return v;
  }

  /** The position after `position` on screen. */
  nextPosition(position) {
    return position + 1 + (this.collapsed.get(position) || 0);
  }

  isFolded(position) {
    return this.collapsed.has(position);
  }

  updateRanges() {
    const sorted = [...this.collapsed.entries()].sort((a, b) => a[0] - b[0]);
    this.ranges = [];
    let coveredTo = -1;
    for (const [s, d] of sorted) {
      if (s <= coveredTo) continue;  // inside a folded step: already hidden
      this.ranges.push([s, d]);
      coveredTo = s + d;
    }
  }

  /** Fold or unfold the step at `position`; unfolding loads the first page of its subtree. */
  toggle(step) {
    if (this.collapsed.has(step.position)) {
      this.collapsed.delete(step.position);
      const [path, params] = this.url({parent: step.span_id, limit: PAGE});
      api(path, params).then((answer) => {
        for (const s of answer.items) this.steps.set(s.position, s);
        this.schedule();
      }).catch(() => {});
    } else {
      this.collapsed.set(step.position, step.descendants);
    }
    this.updateRanges();
    this.render();
  }

  /** Unfold whatever hides `position`, load it, and scroll it into view; resolves with its step. */
  async reveal(position) {
    let changed = false;
    for (const [s, d] of [...this.collapsed]) {
      if (s < position && position <= s + d) {
        this.collapsed.delete(s);
        changed = true;
      }
    }
    if (changed) this.updateRanges();
    const step = await this.stepAt(position);
    const top = this.visibleIndexOf(position) * ROW_HEIGHT;
    const view = this.rows;
    if (top < view.scrollTop || top + ROW_HEIGHT > view.scrollTop + view.clientHeight) {
      view.scrollTop = Math.max(0, top - Math.floor(view.clientHeight / 3));
    }
    this.render();
    return step;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.active) this.render();
    });
  }

  render() {
    const view = this.rows;
    const count = this.visibleCount();
    this.spacer.style.height = `${count * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(view.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(count, Math.ceil((view.scrollTop + (view.clientHeight || 640)) / ROW_HEIGHT) + OVERSCAN);
    const frag = document.createDocumentFragment();
    frag.append(this.spacer);
    let position = this.positionAt(first);
    for (let v = first; v < last && position < this.total; v += 1) {
      const step = this.steps.get(position);
      let li;
      if (step) {
        li = this.renderRow(step);
      } else {
        li = el("li", {class: "wf-row wf-loading", text: "Loading…", attrs: {"aria-busy": "true"}});
        this.ensure(position).catch(() => {});
      }
      li.style.top = `${v * ROW_HEIGHT}px`;
      li.dataset.position = String(position);
      frag.append(li);
      position = this.nextPosition(position);
    }
    view.replaceChildren(frag);
    this.onRendered();
  }
}
