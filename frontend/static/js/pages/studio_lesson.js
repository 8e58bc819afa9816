// The lesson editor: title, kind, preview flag, duration and Markdown text autosaved with the
// lesson's version (a 409 is explained: load theirs or keep mine), a live preview of the
// text rendered by the server, the video uploaded with a real progress bar (percent,
// speed, Cancel, Retry), and captions and resources uploaded and deleted.

import { api } from "../api.js";
import { boot } from "../app.js";
import { Autosave, autosaveLabel } from "../autosave.js";
import { debounce } from "../debounce.js";
import { formErrors } from "../forms.js";
import { confirmDelete, resolveConflict } from "../studiodialogs.js";
import { $, announce, clear, errorState, h, setBusy, setProgress, toast } from "../ui.js";
import { durationToFill, formatBytes, formatSpeed, Upload, uploadErrorMessage } from "../upload.js";

boot();
const root = $("#lesson-editor");
const lessonId = Number(root.dataset.lessonId);
const lessonUrl = `/api/lessons/${lessonId}`;
const form = $("#lesson-form");
const errors = formErrors(form);
const FIELDS = ["title", "kind", "preview", "duration_seconds", "body"];
const LABELS = { title: "Title", kind: "Kind", preview: "Free preview", duration_seconds: "Duration (seconds)", body: "Text" };
const PREVIEW_DELAY_MS = 400;

let lesson = null;
let autosave = null;

// --- fields ----------------------------------------------------------------------------

function fieldValue(name) {
  const control = form.elements[name];
  if (name === "preview") return control.checked;
  if (name === "duration_seconds") return control.value.trim() === "" ? 0 : Number(control.value);
  return control.value;
}

function fillForm(values) {
  for (const name of FIELDS) {
    if (!(name in values)) continue;
    const control = form.elements[name];
    if (name === "preview") control.checked = Boolean(values.preview);
    else control.value = values[name] === null || values[name] === undefined ? "" : String(values[name]);
  }
}

function sameAsForm(values) {
  return FIELDS.every((name) => String(values[name] ?? (name === "preview" ? false : "")) === String(fieldValue(name)));
}

function showHeading(values) {
  if (!values.title) return;
  $("#lesson-heading").textContent = values.title;
  $("#lesson-crumb").textContent = values.title;
  document.title = `${values.title} · Studio · Learning Portal`;
}

// The server's sanitised HTML of the Markdown (catalog/content.py), as on the lesson page.
function showPreview(html) {
  $("#body-preview").innerHTML = html || "";
  if (!html) $("#body-preview").append(h("p", { class: "muted" }, "Nothing to preview yet."));
}

let previewRequest = 0;
const previewSoon = debounce(async (body) => {
  const number = ++previewRequest;
  $("#preview-state").textContent = "Updating…";
  try {
    const answer = await api("/api/lessons/preview", { method: "POST", body: { body } });
    if (number !== previewRequest) return; // a newer preview is on its way
    showPreview(answer.body_html);
    $("#preview-state").textContent = "";
  } catch (error) {
    if (number === previewRequest) $("#preview-state").textContent = `Preview unavailable: ${error.message}`;
  }
}, PREVIEW_DELAY_MS);

// --- autosave --------------------------------------------------------------------------

let resolving = false;
async function conflict() {
  if (resolving || autosave.state !== "conflict") return;
  resolving = true;
  try {
    const choice = await resolveConflict({ mine: autosave.changes, theirs: autosave.current, labels: LABELS });
    if (choice === "theirs") {
      const theirs = autosave.loadTheirs();
      lesson = { ...lesson, ...theirs };
      fillForm(theirs);
      showHeading(theirs);
      showPreview(theirs.body_html);
      announce("Their version is loaded.");
    } else if (choice === "mine") {
      await autosave.keepMine();
    }
  } finally {
    resolving = false;
  }
}

function showSaveState(save) {
  const status = $("#lesson-save");
  const retry = $("#lesson-save-retry");
  status.dataset.state = save.state;
  status.textContent = autosaveLabel(save.state);
  retry.hidden = !(save.state === "error" || save.state === "conflict");
  retry.textContent = save.state === "conflict" ? "Resolve…" : "Retry";
  if (save.state === "saved" && save.saved) {
    errors.reset();
    lesson = { ...lesson, ...save.saved };
    showHeading(save.saved);
  }
  if (save.state === "error") {
    if (save.error?.status === 400 && Object.keys(save.error.fields ?? {}).length) errors.fields(save.error.fields);
    else errors.top(`Your changes are not saved: ${save.error?.message ?? "unknown error"}. They are kept here; press Retry.`);
  }
  if (save.state === "conflict") conflict();
}

function mountForm() {
  fillForm(lesson);
  showPreview(lesson.body_html);
  autosave = new Autosave({
    send: (body) => api(lessonUrl, { method: "PATCH", body }),
    version: lesson.version,
    onChange: showSaveState,
  });
  const edit = (event) => {
    const name = event.target.dataset.field;
    if (!FIELDS.includes(name)) return;
    autosave.change({ [name]: fieldValue(name) });
    if (name === "body") previewSoon(fieldValue("body"));
  };
  // "input" fires for every kind of control (text, select, checkbox), once per edit.
  form.addEventListener("input", edit);
  form.addEventListener("submit", (event) => event.preventDefault());
  $("#lesson-save-retry").addEventListener("click", () => (autosave.state === "conflict" ? conflict() : autosave.retry()));
  window.addEventListener("beforeunload", (event) => {
    if (autosave.dirty || videoUpload?.state === "uploading") event.preventDefault();
  });
}

// Files changed the lesson (and its version): read it again. The version is taken only
// when the fields are still what this form shows, so a change made elsewhere still
// meets the conflict dialog.
async function refresh() {
  const fresh = await api(`/api/studio/lessons/${lessonId}`);
  if (!autosave.dirty && autosave.state !== "conflict" && autosave.state !== "saving" && sameAsForm(fresh)) autosave.rebase(fresh.version);
  lesson = { ...lesson, media: fresh.media, resources: fresh.resources, has_media: fresh.has_media };
  showFiles();
}

// A video this tab uploads gives the lesson its duration unless the instructor gave one:
// the course page and the student's progress show it. Only after an upload: merely
// opening the page writes nothing (two tabs open on one lesson would conflict).
let durationFromNextVideo = false;

function fillDuration(mediaSeconds) {
  if (!durationFromNextVideo) return;
  durationFromNextVideo = false;
  const seconds = durationToFill(fieldValue("duration_seconds"), mediaSeconds);
  if (seconds === null) return;
  form.elements.duration_seconds.value = String(seconds);
  autosave.change({ duration_seconds: seconds });
  announce(`Duration set to ${seconds} seconds from the video.`);
}

// --- files -----------------------------------------------------------------------------

function showFiles() {
  const media = lesson.media;
  clear(
    $("#video-current"),
    media?.url
      ? h(
          "div",
          { class: "studio-video" },
          h("video", { src: media.url, controls: true, preload: "metadata", "aria-label": `Video of ${lesson.title}` }),
          h(
            "p",
            { class: "muted small" },
            `Video attached · ${media.content_type}${media.size ? ` · ${formatBytes(media.size)}` : ""} `,
            h("button", { type: "button", class: "button small ghost danger-text", id: "video-remove" }, "Remove video"),
          ),
        )
      : h("p", { class: "muted" }, "No video yet."),
  );
  $("#video-remove")?.addEventListener("click", removeVideo);
  $("#video-current video")?.addEventListener("loadedmetadata", (event) => fillDuration(event.target.duration));
  const captions = media?.captions ?? [];
  clear(
    $("#captions"),
    captions.length
      ? captions.map((caption) =>
          h(
            "li",
            {},
            h("span", {}, `${caption.label} (${caption.lang})`),
            caption.id !== undefined
              ? h("button", { type: "button", class: "button small ghost danger-text", "aria-label": `Delete captions ${caption.label}`, onclick: () => removeFile("captions", caption.id, caption.label) }, "Delete")
              : null,
          ),
        )
      : h("li", { class: "muted" }, media ? "No captions yet." : "Upload the video first, then its captions."),
  );
  const resources = lesson.resources ?? [];
  clear(
    $("#resources"),
    resources.length
      ? resources.map((resource) =>
          h(
            "li",
            {},
            h("a", { href: resource.url }, resource.title),
            h("span", { class: "muted small" }, ` ${formatBytes(resource.size)}`),
            resource.id !== undefined
              ? h("button", { type: "button", class: "button small ghost danger-text", "aria-label": `Delete resource ${resource.title}`, onclick: () => removeFile("resource", resource.id, resource.title) }, "Delete")
              : null,
          ),
        )
      : h("li", { class: "muted" }, "No resources yet."),
  );
}

let videoUpload = null;

function showUpload(upload) {
  const box = $("#video-progress");
  const message = $("#video-message");
  box.hidden = upload.state === "idle";
  setProgress($("#video-bar"), upload.percent);
  $("#video-percent").textContent = `${Math.round(upload.percent)}%`;
  $("#video-speed").textContent = upload.state === "uploading" && upload.speed > 0 ? `${formatBytes(upload.loaded)} of ${formatBytes(upload.total)} · ${formatSpeed(upload.speed)}` : "";
  $("#video-cancel").hidden = upload.state !== "uploading";
  $("#video-retry").hidden = !upload.retryable;
  box.dataset.state = upload.state;
  $("#video-upload").disabled = upload.state === "uploading";
  if (upload.state === "uploading" && upload.loaded === 0) message.textContent = "Uploading…";
  if (upload.state === "cancelled") message.textContent = "Upload cancelled. Retry to send the file again.";
  if (upload.state === "error") message.textContent = uploadErrorMessage(upload.error);
  if (upload.state === "done") message.textContent = "Video uploaded.";
}

function startVideoUpload(file) {
  videoUpload = new Upload({
    url: `${lessonUrl}/media`,
    form: () => {
      const data = new FormData();
      data.append("file", file);
      return data;
    },
    onChange: showUpload,
  });
  return runVideoUpload(videoUpload.start());
}

async function runVideoUpload(attempt) {
  const upload = await attempt;
  if (upload.state !== "done") return;
  $("#video-file").value = "";
  durationFromNextVideo = true;
  await refresh().catch(() => {});
  toast("Video uploaded.", { tone: "success" });
}

async function removeVideo() {
  if (!(await confirmDelete("Remove the video?", "The video and its captions will be deleted. This cannot be undone.", { action: "Remove" }))) return;
  try {
    await api(`${lessonUrl}/media`, { method: "DELETE" });
    await refresh();
    announce("Video removed");
  } catch (error) {
    toast(`The video was not removed: ${error.message}`, { tone: "error" });
  }
}

async function removeFile(kind, id, title) {
  const what = kind === "captions" ? "captions" : "resource";
  if (!(await confirmDelete(`Delete this ${what}?`, `“${title}” will be deleted. This cannot be undone.`))) return;
  try {
    await api(kind === "captions" ? `/api/captions/${id}` : `/api/resources/${id}`, { method: "DELETE" });
    await refresh();
    announce(`Deleted ${what} ${title}`);
  } catch (error) {
    toast(`Not deleted: ${error.message}`, { tone: "error" });
  }
}

// A small upload (captions, a resource) with its message line.
async function smallUpload({ url, data, button, message, done }) {
  const upload = new Upload({ url, form: () => data, onChange: (u) => (message.textContent = u.state === "uploading" ? `Uploading… ${Math.round(u.percent)}%` : "") });
  setBusy(button, true, "Uploading…");
  await upload.start();
  setBusy(button, false);
  if (upload.state === "done") {
    message.textContent = done;
    await refresh().catch(() => {});
    return true;
  }
  message.textContent = uploadErrorMessage(upload.error);
  return false;
}

function mountFiles() {
  showFiles();
  $("#video-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const file = $("#video-file").files[0];
    if (!file) {
      $("#video-message").textContent = "Choose a video file first.";
      $("#video-file").focus();
      return;
    }
    startVideoUpload(file);
  });
  $("#video-cancel").addEventListener("click", () => videoUpload?.cancel());
  $("#video-retry").addEventListener("click", () => {
    if (videoUpload) runVideoUpload(videoUpload.retry());
  });
  $("#captions-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("#captions-file").files[0];
    const lang = $("#captions-lang").value.trim();
    const label = $("#captions-label").value.trim();
    const message = $("#captions-message");
    if (!file || !lang) {
      message.textContent = file ? "Give the captions' language (e.g. en)." : "Choose a WebVTT file first.";
      return;
    }
    const data = new FormData();
    data.append("captions", file);
    data.append("caption_lang", lang);
    if (label) data.append("caption_label", label);
    if (await smallUpload({ url: `${lessonUrl}/media`, data, button: event.submitter ?? event.target.querySelector("button"), message, done: "Captions uploaded." })) {
      event.target.reset();
    }
  });
  $("#resources-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("#resource-file").files[0];
    const message = $("#resources-message");
    if (!file) {
      message.textContent = "Choose a file first.";
      return;
    }
    const data = new FormData();
    data.append("file", file);
    data.append("title", $("#resource-title").value.trim() || file.name);
    if (await smallUpload({ url: `${lessonUrl}/resources`, data, button: event.submitter ?? event.target.querySelector("button"), message, done: "Resource uploaded." })) {
      event.target.reset();
    }
  });
}

// --- start -----------------------------------------------------------------------------

async function load() {
  try {
    lesson = await api(`/api/studio/lessons/${lessonId}`);
  } catch (error) {
    clear($("#editor-error"), errorState(`The lesson could not be loaded: ${error.message}`, () => location.reload()));
    return;
  }
  showHeading(lesson);
  $("#course-crumb").textContent = lesson.course.title;
  $("#lesson-where").textContent = `${lesson.course.title} · ${lesson.module.title}`;
  mountForm();
  mountFiles();
  $("#editor-body").hidden = false;
}

load();
