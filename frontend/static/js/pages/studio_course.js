// The course builder: the course's fields (autosaved with their version), publish and
// unpublish, and the curriculum: modules and lessons added, renamed inline, deleted after a
// confirm, and reordered by drag and drop, Move up / Move down buttons or the keyboard.

import { api } from "../api.js";
import { boot } from "../app.js";
import { Autosave, autosaveLabel } from "../autosave.js";
import { mountCoupons } from "../coupons.js";
import { formErrors } from "../forms.js";
import { bindReorderable, ReorderList } from "../reorder.js";
import { confirmDelete, resolveConflict } from "../studiodialogs.js";
import { $, announce, clear, errorState, h, LESSON_KIND_LABELS, minutesLabel, setBusy, toast } from "../ui.js";

boot();
const root = $("#builder");
const slug = root.dataset.slug;
const courseUrl = `/api/courses/${encodeURIComponent(slug)}`;
const form = $("#course-form");
const errors = formErrors(form);
const modulesList = $("#modules");

const COURSE_FIELDS = ["title", "summary", "description", "category", "level", "price", "currency", "capacity", "refund_policy", "refund_days", "refund_max_percent"];
// Whole numbers the server requires (an empty box is sent as is: the server says why not).
const WHOLE_NUMBERS = new Set(["refund_days", "refund_max_percent"]);
const FIELD_LABELS = {
  title: "Title",
  summary: "Summary",
  description: "Description",
  category: "Category",
  level: "Level",
  price: "Price",
  currency: "Currency",
  capacity: "Capacity",
  refund_policy: "Refund policy",
  refund_days: "Refund window (days)",
  refund_max_percent: "Refund up to (% of lessons completed)",
};

let course = null;
let autosave = null;
let coupons = null;
// Module and lesson versions as last seen (reorders move other items' versions too).
const versions = new Map();
const key = (kind, id) => `${kind}:${id}`;

function rememberVersions(fresh) {
  for (const module of fresh.modules) {
    versions.set(key("module", module.id), module.version);
    for (const lesson of module.lessons) versions.set(key("lesson", lesson.id), lesson.version);
  }
}

// --- course fields ---------------------------------------------------------------------

function fieldValue(name) {
  const value = form.elements[name].value;
  if (name === "capacity") return value.trim() === "" ? null : Number(value);
  if (WHOLE_NUMBERS.has(name)) return value.trim() === "" ? "" : Number(value);
  if (name === "price") return value.trim() || "0.00";
  return value;
}

function normalised(name, value) {
  if (value === null || value === undefined) return name === "capacity" ? null : "";
  if (name === "price") return Number(value).toFixed(2);
  if (name === "capacity" || WHOLE_NUMBERS.has(name)) return Number(value);
  return String(value);
}

function fillForm(values) {
  for (const name of COURSE_FIELDS) {
    if (!(name in values)) continue;
    const value = values[name];
    form.elements[name].value = value === null || value === undefined ? "" : String(value);
  }
}

function showHeading(values) {
  if (!values.title) return;
  $("#course-heading").textContent = values.title;
  $("#crumb").textContent = values.title;
  document.title = `${values.title} · Studio · Learning Portal`;
}

function showState() {
  const state = $("#course-state");
  state.textContent = course.published ? "Published" : "Draft";
  state.classList.toggle("published", course.published);
  state.classList.toggle("draft", !course.published);
  $("#publish").hidden = course.published;
  $("#unpublish").hidden = !course.published;
  $("#course-version").textContent = autosave ? `Version ${autosave.version}` : "";
}

async function showSaveState(save) {
  const status = $("#course-save");
  const retry = $("#course-save-retry");
  status.dataset.state = save.state;
  status.textContent = autosaveLabel(save.state);
  retry.hidden = !(save.state === "error" || save.state === "conflict");
  retry.textContent = save.state === "conflict" ? "Resolve…" : "Retry";
  showState();
  if (save.state === "saved" && save.saved) {
    errors.reset();
    // Only the course's own fields: the curriculum on this page is newer than the answer.
    for (const name of [...COURSE_FIELDS, "published", "version"]) if (name in save.saved) course[name] = save.saved[name];
    showHeading(save.saved);
    if (save.saved.currency) coupons?.setCurrency(save.saved.currency);
  }
  if (save.state === "error") {
    if (save.error?.status === 400 && Object.keys(save.error.fields ?? {}).length) errors.fields(save.error.fields);
    else errors.top(`Your changes are not saved: ${save.error?.message ?? "unknown error"}. They are kept here; press Retry.`);
  }
  if (save.state === "conflict") await conflict();
}

let resolving = false;
async function conflict() {
  if (resolving || autosave.state !== "conflict") return;
  resolving = true;
  try {
    const choice = await resolveConflict({ mine: autosave.changes, theirs: autosave.current, labels: FIELD_LABELS });
    if (choice === "theirs") {
      const theirs = autosave.loadTheirs();
      fillForm(theirs);
      showHeading(theirs);
      announce("Their version is loaded.");
    } else if (choice === "mine") {
      await autosave.keepMine();
    }
  } finally {
    resolving = false;
  }
}

function mountForm() {
  fillForm(course);
  autosave = new Autosave({
    send: (body) => api(courseUrl, { method: "PATCH", body }),
    version: course.version,
    onChange: (save) => showSaveState(save),
  });
  const edit = (event) => {
    const name = event.target.dataset.field;
    if (!COURSE_FIELDS.includes(name)) return;
    autosave.change({ [name]: fieldValue(name) });
  };
  // "input" fires for every kind of control (text, select, checkbox), once per edit.
  form.addEventListener("input", edit);
  form.addEventListener("submit", (event) => event.preventDefault());
  $("#course-save-retry").addEventListener("click", () => (autosave.state === "conflict" ? conflict() : autosave.retry()));
  // Leaving with unsaved edits: the browser asks first.
  window.addEventListener("beforeunload", (event) => {
    if (autosave.dirty) event.preventDefault();
  });
}

// A fresh copy of the course after a change that moved versions (a reorder, a publish):
// module and lesson versions are taken; the course's own version only when its fields
// are still what this page shows (otherwise someone else changed them: keep the conflict).
async function refresh() {
  try {
    const fresh = await api(`/api/studio/courses/${encodeURIComponent(slug)}`);
    rememberVersions(fresh);
    const same = COURSE_FIELDS.every((name) => normalised(name, fresh[name]) === normalised(name, fieldValue(name)));
    if (same && !autosave.dirty && autosave.state !== "conflict" && autosave.state !== "saving") autosave.rebase(fresh.version);
    course.published = fresh.published;
    showState();
  } catch {
    // A later change will refresh again; versions that are stale meet a 409 and say so.
  }
}

// --- publish ---------------------------------------------------------------------------

async function setPublished(publish) {
  const button = $(publish ? "#publish" : "#unpublish");
  const message = $("#publish-error");
  message.hidden = true;
  setBusy(button, true, publish ? "Publishing…" : "Unpublishing…");
  try {
    await autosave.save();
    const answer = await api(`${courseUrl}/${publish ? "publish" : "unpublish"}`, { method: "POST" });
    course.published = answer.published;
    if (!autosave.dirty && autosave.state !== "conflict" && answer.version !== undefined) autosave.rebase(answer.version);
    toast(publish ? "Published: students can find and enroll in it now." : "Unpublished: the course is a draft again.", { tone: "success" });
  } catch (error) {
    message.textContent = publish ? `Not published: ${error.message}` : `Not unpublished: ${error.message}`;
    message.hidden = false;
  } finally {
    setBusy(button, false);
    showState();
    (course.published ? $("#unpublish") : $("#publish")).focus();
  }
}

// --- curriculum ------------------------------------------------------------------------

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function showCount() {
  const lessons = course.modules.reduce((n, m) => n + m.lessons.length, 0);
  $("#curriculum-count").textContent = `${plural(course.modules.length, "module")} · ${plural(lessons, "lesson")}`;
}

// `before`/`after`: the modules a first or last lesson moves into with Up or Down.
function rowControls(kind, item, index, count, { before = null, after = null } = {}) {
  const upLabel = index === 0 && before ? `Move ${kind} ${item.title} to module ${before.title}` : `Move ${kind} ${item.title} up`;
  const downLabel = index === count - 1 && after ? `Move ${kind} ${item.title} to module ${after.title}` : `Move ${kind} ${item.title} down`;
  return h(
    "div",
    { class: "studio-row-actions" },
    h("button", { type: "button", class: "button small ghost", "data-move": "up", disabled: index === 0 && !before, "aria-label": upLabel }, "↑", h("span", { class: "move-label" }, " Up")),
    h("button", { type: "button", class: "button small ghost", "data-move": "down", disabled: index === count - 1 && !after, "aria-label": downLabel }, "↓", h("span", { class: "move-label" }, " Down")),
    h("button", { type: "button", class: "button small ghost danger-text", "data-delete": kind, "aria-label": `Delete ${kind} ${item.title}` }, "Delete"),
  );
}

function handle(kind, item) {
  return h(
    "button",
    {
      type: "button",
      class: "drag-handle",
      draggable: "true",
      "data-reorder-handle": "",
      "aria-label": `Reorder ${kind} ${item.title}`,
      "aria-describedby": "reorder-help",
    },
    h("span", { "aria-hidden": "true" }, "⠿"),
  );
}

function titleInput(kind, item, label) {
  const input = h("input", { class: "studio-title-input", value: item.title, maxlength: "200", "aria-label": label, dataset: { rename: kind } });
  input.addEventListener("change", () => rename(kind, item, input));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      input.blur();
    }
  });
  return input;
}

function neighbours(module) {
  const at = course.modules.indexOf(module);
  return { before: course.modules[at - 1] ?? null, after: course.modules[at + 1] ?? null };
}

function lessonItem(module, lesson, index, count) {
  const facts = [LESSON_KIND_LABELS[lesson.kind] ?? lesson.kind, lesson.duration_seconds ? minutesLabel(lesson.duration_seconds) : null, lesson.has_media ? "video uploaded" : null].filter(Boolean).join(" · ");
  return h(
    "li",
    { class: "studio-lesson", "data-reorder": "lesson", dataset: { id: String(lesson.id) } },
    handle("lesson", lesson),
    h(
      "div",
      { class: "studio-item-main" },
      titleInput("lesson", lesson, `Title of lesson ${index + 1} in ${module.title}`),
      h("p", { class: "muted small" }, facts, lesson.preview ? [" ", h("span", { class: "chip preview-chip" }, "Free preview")] : null),
    ),
    h("a", { class: "button small", href: `/studio/lessons/${lesson.id}`, "aria-label": `Edit lesson ${lesson.title}` }, "Edit"),
    rowControls("lesson", lesson, index, count, neighbours(module)),
  );
}

function renderLessons(module, list) {
  clear(list, module.lessons.map((lesson, index) => lessonItem(module, lesson, index, module.lessons.length)));
  if (!module.lessons.length) list.append(h("li", { class: "muted small studio-empty" }, "No lessons yet."));
}

// After a move, focus follows the moved item: the same Move button, or the other one when
// the item reached the end, or (keyboard, drag) its handle.
function refocus(list, id, via) {
  const item = list.querySelector(`:scope > [data-id="${id}"]`);
  if (!item) return;
  const own = (direction) => [...item.querySelectorAll(`[data-move="${direction}"]`)].find((b) => b.closest("[data-reorder]") === item && !b.disabled);
  const other = via?.direction === "up" ? "down" : "up";
  const control = via?.direction ? (own(via.direction) ?? own(other)) : null;
  (control ?? item.querySelector("[data-reorder-handle]"))?.focus();
}

function moveFailed(error) {
  toast(`The new order was not saved: ${error.message}`, { tone: "error" });
}

function focusLesson(id, via) {
  const item = modulesList.querySelector(`[data-reorder="lesson"][data-id="${id}"]`);
  if (item) refocus(item.parentElement, id, via);
}

// A lesson into another module: at `index` of its lessons (0-based), shown at once,
// announced, then saved (PATCH module + position); a refused save puts it back. Moves
// asked for while one is being saved wait for it, in order: none is dropped.
let transfers = Promise.resolve();
function transferLesson(lessonId, target, index, via) {
  transfers = transfers.then(() => transferNow(lessonId, target, index, via)).catch(moveFailed);
  return transfers;
}

async function transferNow(lessonId, target, index, via) {
  const source = course.modules.find((module) => module.lessons.some((lesson) => lesson.id === lessonId));
  const lesson = source?.lessons.find((candidate) => candidate.id === lessonId);
  if (!lesson || !course.modules.includes(target) || source === target) return;
  const at = Math.min(index, target.lessons.length);
  const before = { source: source.lessons, target: target.lessons };
  source.lessons = source.lessons.filter((other) => other !== lesson);
  target.lessons = [...target.lessons.slice(0, at), lesson, ...target.lessons.slice(at)];
  renderModules();
  focusLesson(lesson.id, via);
  announce(`Moved ${lesson.title} to ${target.title}, position ${at + 1} of ${target.lessons.length}`);
  try {
    const saved = await api(`/api/lessons/${lesson.id}`, { method: "PATCH", body: { module: target.id, position: at + 1, version: versions.get(key("lesson", lesson.id)) } });
    versions.set(key("lesson", lesson.id), saved.version);
    refresh();
  } catch (error) {
    source.lessons = before.source;
    target.lessons = before.target;
    renderModules();
    focusLesson(lesson.id, via);
    announce(`Could not move ${lesson.title}: ${String(error.message).replace(/\.$/, "")}. It is back in ${source.title}.`);
    moveFailed(error);
  }
}

// Up on a module's first lesson, Down on its last: to the end of the module before, or
// the start of the one after.
function moveToModule(module, from, direction, via) {
  const target = neighbours(module)[direction === "up" ? "before" : "after"];
  const lesson = module.lessons[from];
  if (!target || !lesson) return;
  transferLesson(lesson.id, target, direction === "up" ? target.lessons.length : 0, via);
}

function moduleItem(module, index, count) {
  const lessons = h("ol", { class: "studio-lessons", "aria-label": `Lessons of ${module.title}` });
  renderLessons(module, lessons);
  let lastVia = null;
  const reorder = new ReorderList({
    items: module.lessons,
    persist: async (lesson, position) => {
      const saved = await api(`/api/lessons/${lesson.id}`, { method: "PATCH", body: { position, version: versions.get(key("lesson", lesson.id)) } });
      versions.set(key("lesson", lesson.id), saved.version);
    },
    render: (items, moved) => {
      module.lessons = items;
      renderLessons(module, lessons);
      refocus(lessons, moved.id, lastVia);
    },
    announce,
  });
  bindReorderable(
    lessons,
    "lesson",
    (from, to, via) => {
      lastVia = via;
      reorder.move(from, to).then(refresh, moveFailed);
    },
    (from, direction, via) => moveToModule(module, from, direction, via),
    (element, index, via) => transferLesson(Number(element.dataset.id), module, index, via),
  );
  const addTitle = h("input", { maxlength: "200", placeholder: "New lesson title", required: true, id: `new-lesson-${module.id}` });
  const addKind = h("select", { id: `new-lesson-kind-${module.id}` }, Object.entries(LESSON_KIND_LABELS).map(([value, label]) => h("option", { value }, label)));
  const add = h(
    "form",
    { class: "studio-add", novalidate: true },
    h("label", { class: "visually-hidden", for: addTitle.id }, `New lesson title in ${module.title}`),
    addTitle,
    h("label", { class: "visually-hidden", for: addKind.id }, "Kind of the new lesson"),
    addKind,
    h("button", { type: "submit", class: "button" }, "Add lesson"),
  );
  add.addEventListener("submit", (event) => {
    event.preventDefault();
    addLesson(module, addTitle, addKind.value, reorder);
  });
  return h(
    "li",
    { class: "studio-module", "data-reorder": "module", dataset: { id: String(module.id) } },
    h(
      "div",
      { class: "studio-row" },
      handle("module", module),
      h("div", { class: "studio-item-main" }, titleInput("module", module, `Title of module ${index + 1}`)),
      rowControls("module", module, index, count),
    ),
    lessons,
    add,
  );
}

function renderModules() {
  clear(modulesList, course.modules.map((module, index) => moduleItem(module, index, course.modules.length)));
  if (!course.modules.length) modulesList.append(h("li", { class: "muted studio-empty" }, "No modules yet: add the first one below."));
  showCount();
}

let lastModuleVia = null;
let moduleReorder = null;
function mountCurriculum() {
  moduleReorder = new ReorderList({
    items: course.modules,
    persist: async (module, position) => {
      const saved = await api(`/api/modules/${module.id}`, { method: "PATCH", body: { position, version: versions.get(key("module", module.id)) } });
      versions.set(key("module", module.id), saved.version);
    },
    render: (items, moved) => {
      course.modules = items;
      renderModules();
      refocus(modulesList, moved.id, lastModuleVia);
    },
    announce,
  });
  bindReorderable(modulesList, "module", (from, to, via) => {
    lastModuleVia = via;
    moduleReorder.items = course.modules;
    moduleReorder.move(from, to).then(refresh, moveFailed);
  });
  modulesList.addEventListener("click", (event) => {
    const button = event.target.closest("[data-delete]");
    if (button) remove(button.dataset.delete, Number(button.closest("[data-reorder]").dataset.id));
  });
  $("#add-module").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#new-module-title");
    const title = input.value.trim();
    if (!title) {
      input.focus();
      return;
    }
    const button = event.target.querySelector("button");
    setBusy(button, true, "Adding…");
    try {
      const module = await api(`${courseUrl}/modules`, { method: "POST", body: { title } });
      course.modules.push({ ...module, lessons: module.lessons ?? [] });
      versions.set(key("module", module.id), module.version);
      renderModules();
      input.value = "";
      announce(`Added module ${module.title}, position ${course.modules.length} of ${course.modules.length}`);
    } catch (error) {
      toast(`The module was not added: ${error.message}`, { tone: "error" });
    } finally {
      setBusy(button, false);
      input.focus();
    }
  });
  renderModules();
}

async function addLesson(module, input, kind, reorder) {
  const title = input.value.trim();
  if (!title) {
    input.focus();
    return;
  }
  try {
    const lesson = await api(`/api/modules/${module.id}/lessons`, { method: "POST", body: { title, kind } });
    module.lessons.push(lesson);
    reorder.items = module.lessons;
    versions.set(key("lesson", lesson.id), lesson.version);
    renderModules();
    announce(`Added lesson ${lesson.title} to ${module.title}`);
    $(`#new-lesson-${module.id}`)?.focus();
  } catch (error) {
    toast(`The lesson was not added: ${error.message}`, { tone: "error" });
  }
}

function findItem(kind, id) {
  for (const module of course.modules) {
    if (kind === "module" && module.id === id) return { item: module, module };
    const lesson = module.lessons.find((l) => l.id === id);
    if (kind === "lesson" && lesson) return { item: lesson, module };
  }
  return null;
}

async function rename(kind, item, input) {
  const title = input.value.trim();
  if (!title || title === item.title) {
    input.value = item.title;
    return;
  }
  const url = kind === "module" ? `/api/modules/${item.id}` : `/api/lessons/${item.id}`;
  let version = versions.get(key(kind, item.id));
  for (;;) {
    try {
      const saved = await api(url, { method: "PATCH", body: { title, version } });
      item.title = saved.title;
      versions.set(key(kind, item.id), saved.version);
      announce(`Renamed ${kind} to ${saved.title}. Saved.`);
      renderModules();
      return;
    } catch (error) {
      if (error.code !== "edit_conflict") {
        toast(`The ${kind} was not renamed: ${error.message}`, { tone: "error" });
        return;
      }
      const theirs = error.detail.current ?? {};
      const choice = await resolveConflict({ mine: { title }, theirs, labels: { title: "Title" } });
      versions.set(key(kind, item.id), theirs.version);
      if (choice !== "mine") {
        item.title = theirs.title ?? item.title;
        renderModules();
        return;
      }
      version = theirs.version;
    }
  }
}

async function remove(kind, id) {
  const found = findItem(kind, id);
  if (!found) return;
  const { item, module } = found;
  const text =
    kind === "module"
      ? `The module “${item.title}” and its ${plural(item.lessons.length, "lesson")} will be deleted, with their videos and files. This cannot be undone.`
      : `The lesson “${item.title}” will be deleted, with its video and files. This cannot be undone.`;
  if (!(await confirmDelete(`Delete this ${kind}?`, text))) return;
  try {
    await api(kind === "module" ? `/api/modules/${id}` : `/api/lessons/${id}`, { method: "DELETE" });
  } catch (error) {
    toast(`Not deleted: ${error.message}`, { tone: "error" });
    return;
  }
  if (kind === "module") course.modules = course.modules.filter((m) => m.id !== id);
  else module.lessons = module.lessons.filter((l) => l.id !== id);
  renderModules();
  announce(`Deleted ${kind} ${item.title}`);
  (kind === "module" ? $("#new-module-title") : $(`#new-lesson-${module.id}`))?.focus();
  refresh();
}

// --- start -----------------------------------------------------------------------------

async function load() {
  try {
    course = await api(`/api/studio/courses/${encodeURIComponent(slug)}`);
  } catch (error) {
    clear($("#builder-error"), errorState(`The course could not be loaded: ${error.message}`, () => location.reload()));
    return;
  }
  rememberVersions(course);
  showHeading(course);
  mountForm();
  showState();
  mountCurriculum();
  coupons = mountCoupons({ slug, currency: course.currency });
  coupons.load();
  $("#publish").addEventListener("click", () => setPublished(true));
  $("#unpublish").addEventListener("click", () => setPublished(false));
  $("#builder-body").hidden = false;
}

load();
