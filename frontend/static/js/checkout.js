// An open checkout on the course page: the seat hold's countdown, and the customer's
// action (3-D Secure) completed with Stripe.js (`handleNextAction`) when a publishable
// key is set, else in a dialog framing the test gateway's challenge page (the bank).

import { $, announce, clear, h } from "./ui.js";

// Whole seconds left until `iso` (never below 0); null when there is no hold.
export function holdLeft(iso, now = Date.now()) {
  if (!iso) return null;
  const end = Date.parse(iso);
  if (Number.isNaN(end)) return null;
  return Math.max(0, Math.ceil((end - now) / 1000));
}

// 905 → "15:05"; 59 → "0:59".
export function clockText(seconds) {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}

// Spoken, for the announcement a minute before the end: 60 → "1 minute".
export function spokenLeft(seconds) {
  if (seconds >= 60) {
    const minutes = Math.round(seconds / 60);
    return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  }
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}

// Ticks `render(secondsLeft)` every second until the hold runs out; returns a stop function.
export function startCountdown(iso, render, { every = 1000, now = () => Date.now(), timers = globalThis } = {}) {
  let timer = null;
  const tick = () => {
    const left = holdLeft(iso, now());
    render(left);
    if (left === 0 && timer !== null) {
      timers.clearInterval(timer);
      timer = null;
    }
  };
  tick();
  if (holdLeft(iso, now()) > 0) timer = timers.setInterval(tick, every);
  return () => {
    if (timer !== null) timers.clearInterval(timer);
    timer = null;
  };
}

// "Your seat is held for 14:59." counting down to `iso`, announced once a minute before
// the end (`warning`: what is left to do), then `ended` (a text) with `onEnd()`. Returns
// the line and its stop function.
export function heldSeatLine({ id, iso, warning, ended, onEnd = () => {} }) {
  const clock = h("strong", { role: "timer", "aria-live": "off" }, "");
  const line = h("p", { class: "hold-line", id }, "Your seat is held for ", clock, ".");
  let warned = false;
  const stop = startCountdown(iso, (left) => {
    if (left > 0) {
      clock.textContent = clockText(left);
      if (left <= 60 && !warned) {
        warned = true;
        announce(`${spokenLeft(left)} left to ${warning}.`);
      }
      return;
    }
    clear(line, ended);
    line.classList.add("expired");
    onEnd();
  });
  return { line, stop };
}

// The test gateway's challenge in a modal dialog; resolves "approved", "failed" or
// "closed" (the buyer closed it without answering). Only a message from the portal's own
// origin, sent by the framed page, counts.
function bankDialog(url) {
  const dialog = $("#bank-dialog");
  const frame = $("#bank-frame", dialog);
  return new Promise((resolve) => {
    let outcome = "closed";
    const onMessage = (event) => {
      if (event.origin !== location.origin || event.source !== frame.contentWindow) return;
      if (event.data?.type !== "test-gateway-authentication") return;
      outcome = event.data.outcome;
      // Leave the bank's answer on screen a moment, as banks do, then return.
      setTimeout(() => dialog.open && dialog.close(), 900);
    };
    window.addEventListener("message", onMessage);
    dialog.addEventListener(
      "close",
      () => {
        window.removeEventListener("message", onMessage);
        frame.src = "about:blank";
        resolve(outcome);
      },
      { once: true },
    );
    frame.src = url;
    dialog.showModal();
  });
}

// Completes the payment's next action; resolves "approved", "failed" or "closed".
export async function completeAction(action, { stripe = null } = {}) {
  if (action.type === "use_stripe_sdk" || (stripe && !action.redirect_url)) {
    if (!stripe) throw new Error("Card payments are still loading; try again.");
    const answer = await stripe.handleNextAction({ clientSecret: action.client_secret });
    if (answer.error) return "failed";
    return answer.paymentIntent?.status === "succeeded" || answer.paymentIntent?.status === "processing" ? "approved" : "failed";
  }
  return bankDialog(action.redirect_url);
}
