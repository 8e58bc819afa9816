// The account page: profile (PATCH /api/me), password (POST /api/me/password), where one
// is signed in (GET/DELETE /api/me/sessions), the data export (a link to /api/me/export)
// and erasure (DELETE /api/me, confirmed with the password in a dialog). The pure helpers
// first (tested by tests/account.test.mjs), then the page's wiring.

import { api } from "./api.js";
import { formErrors } from "./forms.js";
import { forgetOfflineData } from "./offline.js";
import { $, announce, clear, dateTime, emptyState, errorState, h, setBusy, timeAgo, toast } from "./ui.js";

// --- pure helpers ---------------------------------------------------------------------------

const BROWSERS = [
  [/Edg(e|A|iOS)?\//, "Edge"],
  [/OPR\/|Opera/, "Opera"],
  [/SamsungBrowser\//, "Samsung Internet"],
  [/Firefox\/|FxiOS\//, "Firefox"],
  [/Chrome\/|CriOS\/|Chromium\/|HeadlessChrome\//, "Chrome"],
  [/Safari\//, "Safari"],
];
const SYSTEMS = [
  [/iPhone|iPad|iPod/, "iOS"],
  [/Android/, "Android"],
  [/CrOS/, "ChromeOS"],
  [/Windows/, "Windows"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/Linux|X11/, "Linux"],
];

// "Firefox on Linux", "curl", "Unknown device": a user agent in a few words.
export function deviceLabel(userAgent) {
  const agent = String(userAgent ?? "").trim();
  if (!agent) return "Unknown device";
  const browser = BROWSERS.find(([pattern]) => pattern.test(agent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(agent))?.[1];
  if (browser) return system ? `${browser} on ${system}` : browser;
  // Other clients name themselves first: "curl/8.5.0", "python-requests/2.32".
  const name = agent.split(/[\s/;(]/)[0];
  return name.length > 40 ? `${name.slice(0, 40)}…` : name || "Unknown device";
}

export const KIND_LABELS = Object.freeze({ session: "Browser", token: "API token" });

// What the profile says about the email: {label, tone, detail}.
export function emailState(user) {
  if (user?.pending_email) {
    return {
      label: "Change waiting",
      tone: "pending",
      detail: `Waiting for you to confirm ${user.pending_email}: follow the link we sent there. Until then you sign in with ${user.email}.`,
    };
  }
  if (user?.email_verified) return { label: "Verified", tone: "verified", detail: "" };
  return { label: "Not verified", tone: "unverified", detail: "Follow the link we emailed you to confirm this address." };
}

// What changed in the profile form: only the keys whose value differs from the user's.
export function profileChanges(user, { name, email }) {
  const changes = {};
  const newName = String(name ?? "").trim();
  const newEmail = String(email ?? "").trim().toLowerCase();
  if (newName !== user.name) changes.name = newName;
  // The address asked for: a change waiting for its link counts as asked already.
  if (newEmail !== user.email && newEmail !== (user.pending_email ?? "")) changes.email = newEmail;
  if (newEmail === user.email && user.pending_email) changes.email = newEmail; // calls it off
  return changes;
}

export function signinWhen(signin, now = Date.now()) {
  const used = signin.last_used_at ? `last active ${timeAgo(signin.last_used_at, now)}` : "not used yet";
  return `Signed in ${dateTime(signin.created_at)} · ${used}`;
}

// --- the page -----------------------------------------------------------------------------

export function mountAccount({ socket, initialUser }) {
  let user = initialUser;
  mountProfile();
  mountPassword();
  const signins = mountSignins();
  mountErasure();
  signins.load();

  function renderEmailState() {
    const state = emailState(user);
    const badge = $("#email-badge");
    badge.textContent = state.label;
    badge.className = `badge email-${state.tone}`;
    $("#email-detail").textContent = state.detail;
  }

  function mountProfile() {
    const form = $("#profile-form");
    const errors = formErrors(form, { general: $("#profile-error") });
    const button = form.querySelector('button[type="submit"]');
    renderEmailState();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errors.reset();
      const changes = profileChanges(user, { name: form.elements.name.value, email: form.elements.email.value });
      const missing = {};
      if ("name" in changes && !changes.name) missing.name = "Enter your name.";
      if ("email" in changes && !changes.email) missing.email = "Enter your email.";
      if (Object.keys(missing).length) {
        errors.fields(missing);
        return;
      }
      if (!Object.keys(changes).length) {
        announce("Nothing to save: the profile is as it was.");
        return;
      }
      setBusy(button, true, "Saving…");
      try {
        user = await api("/api/me", { method: "PATCH", body: changes });
        form.elements.name.value = user.name;
        form.elements.email.value = user.pending_email ?? user.email;
        renderEmailState();
        const headerName = $(".account-name");
        if (headerName) headerName.textContent = user.name || user.email;
        toast(changes.email && user.pending_email ? `Saved. We sent a link to ${user.pending_email}: your email changes once you follow it.` : "Profile saved.", { tone: "success" });
      } catch (error) {
        if (error.status === 400 && Object.keys(error.fields).length) errors.fields(error.fields);
        else if (error.status === 429) errors.top(`Too many email changes. Try again in ${Math.ceil((error.retryAfter ?? 3600) / 60)} minutes.`);
        else errors.top(error.message);
      } finally {
        setBusy(button, false);
      }
    });
  }

  function mountPassword() {
    const form = $("#password-form");
    const errors = formErrors(form, { general: $("#password-error") });
    const button = form.querySelector('button[type="submit"]');
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errors.reset();
      const body = { current_password: form.elements.current_password.value, new_password: form.elements.new_password.value };
      const missing = {};
      if (!body.current_password) missing.current_password = "Enter your current password.";
      if (!body.new_password) missing.new_password = "Choose a new password.";
      if (Object.keys(missing).length) {
        errors.fields(missing);
        return;
      }
      setBusy(button, true, "Changing…");
      // The session gets a new key (and cookie) with the answer, and the sockets opened
      // under the old one are closed: this tab's reconnects once the new cookie is here.
      socket.close();
      try {
        const answer = await api("/api/me/password", { method: "POST", body });
        form.reset();
        const others = answer.ended === 1 ? "1 other session was" : `${answer.ended} other sessions were`;
        toast(`Password changed. ${answer.ended ? `${others} signed out.` : "You stay signed in here."}`, { tone: "success" });
        signins.load();
      } catch (error) {
        if (error.status === 400 && Object.keys(error.fields).length) errors.fields(error.fields);
        else if (error.status === 429) errors.top(`Too many attempts. Try again in ${Math.ceil((error.retryAfter ?? 3600) / 60)} minutes.`);
        else errors.top(error.message);
      } finally {
        socket.connect();
        setBusy(button, false);
      }
    });
  }

  function mountSignins() {
    const list = $("#signins");
    const others = $("#signout-others");

    function row(signin) {
      const device = deviceLabel(signin.user_agent);
      const main = h(
        "div",
        { class: "signin-main" },
        h("span", { class: "signin-device" }, device),
        h("span", { class: "chip" }, KIND_LABELS[signin.kind] ?? signin.kind),
        signin.current ? h("span", { class: "badge email-verified" }, "This device") : null,
      );
      const when = h("p", { class: "signin-when muted small" }, signinWhen(signin));
      const end = signin.current
        ? null
        : h(
            "button",
            {
              type: "button",
              class: "button ghost small",
              "aria-label": `Sign out ${device} (${KIND_LABELS[signin.kind] ?? signin.kind}, signed in ${dateTime(signin.created_at)})`,
              onclick: (event) => endOne(signin, device, event.currentTarget),
            },
            "Sign out",
          );
      return h("li", { class: "signin", dataset: { signin: signin.id, kind: signin.kind, current: String(signin.current) } }, h("div", {}, main, when), end);
    }

    async function load() {
      list.setAttribute("aria-busy", "true");
      try {
        const items = await api("/api/me/sessions");
        clear(list, items.length ? items.map(row) : h("li", {}, emptyState("Signed in nowhere", "")));
        others.disabled = !items.some((item) => !item.current);
      } catch (error) {
        clear(list, h("li", {}, errorState(error.message, load)));
      } finally {
        list.setAttribute("aria-busy", "false");
      }
    }

    async function endOne(signin, device, button) {
      setBusy(button, true, "Signing out…");
      try {
        await api(`/api/me/sessions/${encodeURIComponent(signin.id)}`, { method: "DELETE" });
        announce(`${device} signed out.`);
        await load();
        others.focus();
      } catch (error) {
        setBusy(button, false);
        toast(error.status === 404 ? "That session had already ended." : error.message, { tone: error.status === 404 ? "info" : "error" });
        if (error.status === 404) load();
      }
    }

    others.addEventListener("click", async () => {
      setBusy(others, true, "Signing out…");
      try {
        const { ended } = await api("/api/me/sessions", { method: "DELETE" });
        toast(ended ? `Signed out everywhere else (${ended}).` : "You were signed in nowhere else.", { tone: "success" });
      } catch (error) {
        toast(error.message, { tone: "error" });
      } finally {
        setBusy(others, false);
        await load();
      }
    });

    return { load };
  }

  function mountErasure() {
    const dialog = $("#delete-dialog");
    const form = $("#delete-form");
    const errors = formErrors(form, { general: $("#delete-error") });
    const confirm = $("#delete-confirm");
    $("#delete-open").addEventListener("click", () => {
      errors.reset();
      form.reset();
      dialog.showModal();
      form.elements.password.focus();
    });
    $("#delete-cancel").addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errors.reset();
      const password = form.elements.password.value;
      if (!password) {
        errors.fields({ password: "Enter your password to confirm." });
        return;
      }
      setBusy(confirm, true, "Deleting…");
      // As signing out does (app.js): this tab's socket closes first, or its reconnect
      // would see the account gone and reload this page over the way home.
      socket.close();
      try {
        await api("/api/me", { method: "DELETE", body: { password } });
        await forgetOfflineData();
        location.assign("/");
      } catch (error) {
        socket.connect();
        setBusy(confirm, false);
        if (error.status === 400 && Object.keys(error.fields).length) errors.fields(error.fields);
        else if (error.status === 429) errors.top(`Too many attempts. Try again in ${Math.ceil((error.retryAfter ?? 3600) / 60)} minutes.`);
        else errors.top(error.message);
      }
    });
  }
}
