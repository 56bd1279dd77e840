// The header's project switcher: every project the caller sees, and "All projects" for those who see all.
// Choosing one opens the same page (listing or Insights) in that project; from any other page, its listing.
import {api, clear, el, PROJECT} from "./common.js";

const select = document.getElementById("project-switcher");

function target(project) {
  const path = window.location.pathname;
  const page = path === "/insights" || path === "/projects" ? path : "/executions";
  return project ? `${page}?${new URLSearchParams({project})}` : page;
}

async function fill() {
  if (!select) return;
  let data;
  try {
    data = await api("/api/projects", {project: "*"});
  } catch (err) {
    select.hidden = true;  // not signed in yet, or no store: the page says so itself
    return;
  }
  clear(select);
  if (data.all_projects) select.append(el("option", {text: "All projects", attrs: {value: ""}}));
  else if (!PROJECT) select.append(el("option", {text: "All my projects", attrs: {value: ""}}));
  for (const p of data.items) select.append(el("option", {text: p.name, attrs: {value: p.name}}));
  select.value = PROJECT;
  select.dataset.ready = "true";
}

if (select) {
  select.addEventListener("change", () => { window.location.href = target(select.value); });
  fill();
}
