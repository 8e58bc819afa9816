// Sign in: POST /api/auth/login starts the browser session (CSRF-protected).

import { api } from "../api.js";
import { boot } from "../app.js";
import { formErrors } from "../forms.js";
import { safeNext, setBusy } from "../ui.js";

boot();
const form = document.getElementById("signin-form");

if (form) {
  const errors = formErrors(form);
  const button = form.querySelector('button[type="submit"]');
  // The server checked `next` (data-next); checked again here before navigating.
  const next = safeNext(form.dataset.next ?? new URLSearchParams(location.search).get("next"));
  const register = document.getElementById("register-link");
  if (register && next !== "/dashboard") register.href = `/register?next=${encodeURIComponent(next)}`;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    errors.reset();
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    const missing = {};
    if (!email) missing.email = "Enter your email.";
    if (!password) missing.password = "Enter your password.";
    if (Object.keys(missing).length) {
      errors.fields(missing);
      return;
    }
    setBusy(button, true, "Signing in…");
    try {
      const answer = await api("/api/auth/login", { method: "POST", body: { email, password } });
      // The CSRF token was rotated by the login: later requests re-read the cookie.
      const roles = answer?.user?.roles ?? [];
      location.assign(next === "/dashboard" && roles.includes("instructor") ? "/instructor" : next);
    } catch (error) {
      setBusy(button, false);
      if (error.status === 400 && Object.keys(error.fields).length) errors.fields(error.fields);
      else if (error.status === 401) {
        errors.top("Invalid email or password.");
        form.elements.password.select();
      } else if (error.status === 429) errors.top(`Too many attempts. Try again in ${error.retryAfter ?? 60} seconds.`);
      else errors.top(error.message);
    }
  });
}
