// Register: POST /api/auth/register, then POST /api/auth/login for the browser session.

import { api } from "../api.js";
import { boot } from "../app.js";
import { formErrors } from "../forms.js";
import { safeNext, setBusy } from "../ui.js";

boot();
const form = document.getElementById("register-form");

if (form) {
  const errors = formErrors(form);
  const button = form.querySelector('button[type="submit"]');
  // The server checked `next` (data-next); checked again here before navigating.
  const next = safeNext(form.dataset.next ?? new URLSearchParams(location.search).get("next"));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    errors.reset();
    const body = {
      name: form.elements.name.value.trim(),
      email: form.elements.email.value.trim(),
      password: form.elements.password.value,
    };
    setBusy(button, true, "Creating your account…");
    try {
      await api("/api/auth/register", { method: "POST", body });
    } catch (error) {
      setBusy(button, false);
      if (error.status === 400 && Object.keys(error.fields).length) errors.fields(error.fields);
      else if (error.status === 429) errors.top(`Too many attempts. Try again in ${error.retryAfter ?? 60} seconds.`);
      else errors.top(error.message);
      return;
    }
    try {
      await api("/api/auth/login", { method: "POST", body: { email: body.email, password: body.password } });
      location.assign(next);
    } catch {
      // The account exists; only the session could not be started.
      location.assign(`/signin?next=${encodeURIComponent(next)}`);
    }
  });
}
