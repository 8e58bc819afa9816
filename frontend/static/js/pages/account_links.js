// The pages of the emailed links: forgotten password, new password, email confirmation and
// a guest's claim. The token is read from the address, then dropped from it (history,
// shoulder surfing); nothing is sent until the person acts.

import { api } from "../api.js";
import { boot } from "../app.js";
import { formErrors } from "../forms.js";
import { $, clear, h, setBusy } from "../ui.js";

const { user } = boot();

// The link's token, taken out of the address bar.
export function takeToken(location = globalThis.location, history = globalThis.history) {
  const params = new URLSearchParams(location.search);
  const token = params.get("token") ?? "";
  if (token) {
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}`);
  }
  return token;
}

function show(element, ...content) {
  if (content.length) clear(element, ...content);
  element.hidden = false;
  element.focus?.();
}

function badLink(errors, again) {
  errors.top(h("strong", {}, "This link no longer works. "), "It was used already, or it expired.", again ? [" ", again] : []);
}

function forgotPage(root) {
  const form = $("#forgot-form", root);
  const errors = formErrors(form, { general: $("#form-error", root) });
  const button = $('button[type="submit"]', form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.reset();
    const email = form.elements.email.value.trim();
    if (!email) return errors.fields({ email: "Enter the email of your account." });
    setBusy(button, true, "Sending…");
    try {
      const answer = await api("/api/auth/password-reset", { method: "POST", body: { email } });
      form.hidden = true;
      show($("#forgot-done", root), answer.detail, " Check your inbox (and spam folder); the link works for an hour.");
    } catch (error) {
      setBusy(button, false);
      if (error.status === 400 && Object.keys(error.fields).length) errors.fields(error.fields);
      else if (error.status === 429) errors.top(`Too many requests. Try again in ${error.retryAfter ?? 60} seconds.`);
      else errors.top(error.message);
    }
  });
}

function resetPage(root, token) {
  const form = $("#reset-form", root);
  const errors = formErrors(form, { general: $("#form-error", root) });
  const button = $('button[type="submit"]', form);
  if (!token) {
    form.hidden = true;
    badLink(errors, null);
    $("#reset-again", root).hidden = false;
    return;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.reset();
    const password = form.elements.password.value;
    if (!password) return errors.fields({ password: "Choose a password." });
    setBusy(button, true, "Saving…");
    try {
      await api("/api/auth/password-reset/confirm", { method: "POST", body: { token, password } });
      form.hidden = true;
      show($("#reset-done", root));
    } catch (error) {
      setBusy(button, false);
      if (error.fields?.token) {
        form.hidden = true;
        badLink(errors, null);
        $("#reset-again", root).hidden = false;
      } else if (error.status === 400 && Object.keys(error.fields).length) errors.fields(error.fields);
      else errors.top(error.message);
    }
  });
}

function verifyPage(root, token) {
  const button = $("#verify-confirm", root);
  const errors = formErrors(root);
  const resend = () => {
    if (!user) return h("a", { href: "/signin?next=/account" }, "Sign in to get a new link.");
    const again = h("button", { type: "button", class: "button secondary small" }, "Send me a new link");
    again.addEventListener("click", async () => {
      setBusy(again, true, "Sending…");
      try {
        const answer = await api("/api/auth/verify-email/resend", { method: "POST" });
        errors.reset();
        show($("#verify-done", root), answer.detail);
      } catch (error) {
        setBusy(again, false);
        errors.top(error.message);
      }
    });
    return again;
  };
  if (!token) {
    button.hidden = true;
    badLink(errors, resend());
    return;
  }
  button.addEventListener("click", async () => {
    errors.reset();
    setBusy(button, true, "Confirming…");
    try {
      const answer = await api("/api/auth/verify-email", { method: "POST", body: { token } });
      button.hidden = true;
      show(
        $("#verify-done", root),
        h("p", {}, `${answer.user.email} is confirmed. Courses bought as a guest with it are now in your account.`),
        h("a", { class: "button primary", href: user ? "/dashboard" : "/signin?next=/dashboard" }, user ? "Go to my learning" : "Sign in"),
      );
    } catch (error) {
      setBusy(button, false);
      if (error.fields?.token) {
        button.hidden = true;
        badLink(errors, resend());
      } else errors.top(error.message);
    }
  });
}

async function claimPage(root, token) {
  const intro = $("#claim-intro", root);
  const form = $("#claim-form", root);
  const existing = $("#claim-existing", root);
  const errors = formErrors(form, { general: $("#form-error", root) });
  const done = () => location.assign("/dashboard");
  root.setAttribute("aria-busy", "false");
  if (!token) {
    intro.hidden = true;
    return badLink(errors, null);
  }
  let state;
  try {
    state = await api("/api/auth/claim/check", { method: "POST", body: { token } });
  } catch (error) {
    intro.hidden = true;
    return error.fields?.token ? badLink(errors, null) : errors.top(error.message);
  }
  if (!state.account) {
    intro.textContent = "You bought a course as a guest. One step and it is yours to learn.";
    $("#claim-email", root).textContent = state.email;
    form.hidden = false;
    form.elements.name.focus();
    const button = $('button[type="submit"]', form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errors.reset();
      const name = form.elements.name.value.trim();
      const password = form.elements.password.value;
      setBusy(button, true, "Creating your account…");
      try {
        await api("/api/auth/claim", { method: "POST", body: { token, name, password } });
        done();
      } catch (error) {
        setBusy(button, false);
        if (error.status === 400 && Object.keys(error.fields).length) errors.fields(error.fields);
        else errors.top(error.message);
      }
    });
    return;
  }
  intro.textContent = `An account uses ${state.email}.`;
  const here = `/claim?token=${encodeURIComponent(token)}`;
  if (user && user.email.toLowerCase() === state.email) {
    const button = h("button", { type: "button", class: "button primary block", id: "claim-confirm" }, "Add my courses to this account");
    button.addEventListener("click", async () => {
      setBusy(button, true, "Adding…");
      try {
        await api("/api/auth/claim", { method: "POST", body: { token } });
        done();
      } catch (error) {
        setBusy(button, false);
        errors.top(error.message);
      }
    });
    show(existing, h("p", {}, "The courses you bought as a guest with it join it now."), button);
    return;
  }
  show(
    existing,
    h("p", {}, user ? `You are signed in as ${user.email}: sign out, then sign in to ${state.email} to claim.` : "Sign in to it to add the courses you bought as a guest."),
    user ? null : h("a", { class: "button primary block", href: `/signin?next=${encodeURIComponent(here)}` }, "Sign in to claim"),
    h("p", { class: "muted small" }, "Not your account, or forgot its password? ", h("a", { href: "/forgot-password" }, "Reset the password"), " through this mailbox."),
  );
}

const token = ["reset-root", "verify-root", "claim-root"].some((id) => document.getElementById(id)) ? takeToken() : "";
if ($("#forgot-root")) forgotPage($("#forgot-root"));
if ($("#reset-root")) resetPage($("#reset-root"), token);
if ($("#verify-root")) verifyPage($("#verify-root"), token);
if ($("#claim-root")) claimPage($("#claim-root"), token);
