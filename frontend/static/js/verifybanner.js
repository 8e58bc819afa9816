// A signed-in account whose email is not confirmed yet: a notice above every page's
// content saying what it is for, with "Send it again" (POST /api/auth/verify-email/resend).

import { api } from "./api.js";
import { h } from "./ui.js";

export function mountVerifyBanner(user, main = document.getElementById("main")) {
  if (!main || document.getElementById("verify-banner") || document.body.dataset.page === "verify-email") return;
  const again = h("button", { type: "button", class: "button secondary small", id: "verify-resend" }, "Send it again");
  const status = h("span", { class: "small", role: "status", "aria-live": "polite" });
  again.addEventListener("click", async () => {
    again.disabled = true;
    try {
      status.textContent = (await api("/api/auth/verify-email/resend", { method: "POST" })).detail;
    } catch (error) {
      again.disabled = false;
      status.textContent = error.status === 429 ? `Too many requests; try again in ${error.retryAfter ?? 60} seconds.` : error.message;
    }
  });
  const banner = h(
    "div",
    { class: "notice warning verify-banner", id: "verify-banner" },
    h("p", {}, h("strong", {}, "Confirm your email address. "), `We sent a link to ${user.email}. Confirming it lets you buy courses and brings in courses bought as a guest with it.`),
    h("p", { class: "verify-actions" }, again, " ", status),
  );
  main.prepend(banner);
}
