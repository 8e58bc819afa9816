// Small DOM helpers shared by the pages. Content always goes in as text nodes (never as
// HTML), and no inline style is ever written: sizes and states are classes/attributes.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// --- formatting -----------------------------------------------------------------------

export function money(amount, currency = "usd") {
  const value = Number(amount);
  if (!Number.isFinite(value)) return "";
  if (value === 0) return "Free";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency.toUpperCase()}`;
  }
}

export function duration(seconds) {
  const total = Math.max(0, Math.round(Number(seconds) || 0));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

// What a lesson is, in the outline ("video" and "text"; other kinds show no label).
export const LESSON_KIND_LABELS = Object.freeze({ video: "Video", text: "Reading" });

export function minutesLabel(seconds) {
  const total = Number(seconds) || 0;
  // A short clip is not "0 min".
  if (total > 0 && total < 60) return `${Math.round(total)} s`;
  const minutes = Math.round(total / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

export function dateTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

export function timeAgo(iso, now = Date.now()) {
  const date = new Date(iso).getTime();
  if (Number.isNaN(date)) return "";
  const seconds = Math.round((now - date) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return dateTime(iso);
}

// The enums' labels come with the page (base.html's #portal-labels, rendered from
// catalog/shapes.py and enrollment/shapes.py); without it a value shows as itself.
function pageLabels() {
  const node = globalThis.document?.getElementById?.("portal-labels");
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch {
    return {};
  }
}
const LABELS = pageLabels();

export const LEVEL_LABELS = LABELS.level ?? {};
export const levelLabel = (level) => LEVEL_LABELS[level] ?? level ?? "";

export const STATUS_LABELS = LABELS.enrollment_status ?? {};
// Which enrollment statuses hold a seat (live) and which open the lessons (access), from
// enrollment/models.py; the defaults serve pages without the labels (and the Node tests).
const LIVE = new Set(LABELS.enrollment_live ?? ["pending", "active", "completed"]);
const ACCESS = new Set(LABELS.enrollment_access ?? ["active", "completed"]);
export const isLive = (status) => LIVE.has(status);
export const hasAccess = (status) => ACCESS.has(status);

export function statusBadge(status) {
  return h("span", { class: `badge status status-${status}`, dataset: { status } }, STATUS_LABELS[status] ?? status);
}

export function seatsText(seatsTaken, capacity) {
  if (capacity === null || capacity === undefined) return "Open enrollment · unlimited seats";
  const left = Math.max(0, capacity - seatsTaken);
  if (left === 0) return "Full · no seats left";
  return `${left} of ${capacity} seat${capacity === 1 ? "" : "s"} left`;
}

// --- the signed-in user, as the page template rendered it -------------------------------

export function pageUser() {
  const data = document.body.dataset;
  if (!data.userId) return null;
  return {
    id: Number(data.userId),
    name: data.userName || "",
    email: data.userEmail || "",
    instructor: data.userInstructor === "true",
    verified: data.userVerified !== "false",
  };
}

// --- live regions: toasts and the connection indicator --------------------------------

// A toast in the page's polite live region (screen readers announce it). `link` adds a
// link after the message ({href, text}); hovering or focusing the toast holds it open, so
// the link can be reached before it leaves.
export function toast(message, { tone = "info", timeout = 6000, title, link } = {}) {
  const region = document.getElementById("toasts");
  if (!region) return null;
  const close = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss" }, "×");
  const item = h(
    "div",
    { class: `toast toast-${tone}` },
    h(
      "div",
      { class: "toast-body" },
      title ? h("strong", { class: "toast-title" }, title) : null,
      h("span", {}, message),
      link ? h("a", { class: "toast-link", href: link.href }, link.text) : null,
    ),
    close,
  );
  let timer = null;
  const remove = () => {
    clearTimeout(timer);
    item.classList.add("leaving");
    setTimeout(() => item.remove(), 200);
  };
  const hold = () => clearTimeout(timer);
  const release = () => {
    clearTimeout(timer);
    if (timeout && !item.matches(":hover, :focus-within")) timer = setTimeout(remove, timeout);
  };
  close.addEventListener("click", remove);
  item.addEventListener("mouseenter", hold);
  item.addEventListener("focusin", hold);
  item.addEventListener("mouseleave", release);
  item.addEventListener("focusout", () => setTimeout(release, 0));
  region.append(item);
  if (timeout) timer = setTimeout(remove, timeout);
  while (region.children.length > 4) region.firstElementChild.remove();
  return item;
}

// Tell screen readers about a live change that has no visible live region of its own.
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick is announced even when the text repeats.
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

const CONNECTION_LABELS = {
  idle: "Connecting…",
  connecting: "Connecting…",
  live: "Live",
  offline: "Offline",
};

export function mountConnectionIndicator(socket, element = document.getElementById("connection")) {
  if (!element) return;
  const label = element.querySelector(".connection-label");
  const detail = element.querySelector(".connection-detail");
  let retryTimer = null;
  const render = () => {
    const state = socket.state;
    element.dataset.state = state;
    label.textContent = CONNECTION_LABELS[state] ?? state;
    let more = "";
    if (state === "offline" && socket.nextRetryAt) {
      const seconds = Math.max(0, Math.ceil((socket.nextRetryAt - Date.now()) / 1000));
      more = seconds > 0 ? ` · retrying in ${seconds}s` : " · retrying";
    }
    if (detail) detail.textContent = more;
    element.title = state === "live" ? "Live updates are on" : label.textContent + more;
  };
  socket.on("status", () => {
    render();
    clearInterval(retryTimer);
    if (socket.state === "offline") retryTimer = setInterval(render, 1000);
  });
  socket.on("retry", render);
  render();
}

export function setBusy(button, busy, busyText) {
  if (!button) return;
  if (busy) {
    button.dataset.label = button.dataset.label || button.textContent;
    if (busyText) button.textContent = busyText;
  } else if (button.dataset.label) {
    button.textContent = button.dataset.label;
  }
  button.disabled = busy;
  button.setAttribute("aria-busy", busy ? "true" : "false");
}

export function emptyState(title, text, action) {
  return h("div", { class: "empty-state" }, h("p", { class: "empty-title" }, title), text ? h("p", { class: "muted" }, text) : null, action ?? null);
}

export function errorState(message, onRetry) {
  return h(
    "div",
    { class: "error-state", role: "alert" },
    h("p", {}, message),
    onRetry ? h("button", { type: "button", class: "button secondary", onclick: onRetry }, "Try again") : null,
  );
}

export function skeletonCards(count = 6) {
  return Array.from({ length: count }, () =>
    h("div", { class: "card course-card skeleton", "aria-hidden": "true" }, h("div", { class: "skeleton-line wide" }), h("div", { class: "skeleton-line" }), h("div", { class: "skeleton-line short" })),
  );
}

// A progress bar: a native <progress> (accessible by itself) plus a text label.
export function progressBar(percent, label) {
  const value = Math.max(0, Math.min(100, Number(percent) || 0));
  const bar = h("progress", { class: "progress", max: "100", value: String(value), "aria-label": label || "Course progress" });
  bar.textContent = `${Math.round(value)}%`;
  return bar;
}

export function setProgress(bar, percent) {
  const value = Math.max(0, Math.min(100, Number(percent) || 0));
  bar.value = value;
  bar.textContent = `${Math.round(value)}%`;
}

// Same-site relative paths only (no "//host" or "javascript:" redirects after sign-in).
// Browsers drop tab, CR and LF anywhere in a URL ("/\t/evil.example" is "//evil.example")
// and C0 controls or spaces at its ends, so those go before the checks, and the cleaned
// path is what the caller navigates to.
export function safeNext(value, fallback = "/dashboard") {
  if (typeof value !== "string") return fallback;
  const path = value.replace(/[\x00-\x1f\x7f]/g, "").trim();
  if (!path.startsWith("/") || path.startsWith("//") || path.startsWith("/\\")) return fallback;
  return path;
}
