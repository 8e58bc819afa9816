// The enrollment form on a course page: POST /api/enrollments with an Idempotency-Key,
// inline field errors from the API, Stripe Elements when a publishable key is set (else
// the test gateway's payment methods), and the status followed live for signed-in users.
// A checkout left open (3-D Secure, a declined retry) shows its seat hold counting down,
// the bank's check, another card (POST …/pay with the same form) and a cancel.

import { api } from "./api.js";
import { completeAction, heldSeatLine } from "./checkout.js";
import { formErrors } from "./forms.js";
import { confirmDelete } from "./studiodialogs.js";
import { $, clear, h, money, setBusy, statusBadge } from "./ui.js";

// A v4 UUID; crypto.randomUUID exists only in secure contexts (https, localhost).
export function newIdempotencyKey(cryptoImpl = globalThis.crypto) {
  if (typeof cryptoImpl?.randomUUID === "function") return cryptoImpl.randomUUID();
  const bytes = cryptoImpl.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// One key per submit attempt; a retry of the same body after an answer that decided
// nothing (network failure, 5xx, 429) reuses it, so a lost 201 can never charge twice.
export class AttemptKeys {
  constructor(make = newIdempotencyKey) {
    this.make = make;
    this.current = null;
  }

  keyFor(bodyText) {
    if (this.current && this.current.body === bodyText && this.current.retry) return this.current.key;
    this.current = { key: this.make(), body: bodyText, retry: false };
    return this.current.key;
  }

  settled({ retryable }) {
    if (!this.current) return;
    if (retryable) this.current.retry = true;
    else this.current = null;
  }
}

const STATUS_MESSAGES = {
  active: "You’re enrolled. Welcome aboard!",
  pending: "Your payment is being confirmed…",
  cancelled: "This enrollment was cancelled.",
  refunded: "This enrollment was refunded.",
};

async function loadStripe(key) {
  if (!globalThis.Stripe) {
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "https://js.stripe.com/v3";
      script.onload = resolve;
      script.onerror = () => reject(new Error("Card payments could not be loaded."));
      document.head.append(script);
    });
  }
  return globalThis.Stripe(key);
}

// A coupon's effect, as the buyer reads it before paying.
export function couponText(quote, currency) {
  const off = quote.percent_off ? `${quote.percent_off}% off` : `${money(quote.amount_off, currency)} off`;
  if (Number(quote.amount) === 0) return `${quote.code}: ${off}. This course is free with it; no card needed.`;
  return `${quote.code}: ${off}. You pay ${money(quote.amount, currency)} instead of ${money(quote.price, currency)}.`;
}

// What the pending checkout says, from its payment.
export function checkoutMessage(payment) {
  if (payment?.next_action) return "Your bank asks you to confirm this payment.";
  if (payment?.status === "failed") {
    const reason = (payment.failure_reason ?? "it was declined").replace(/\.$/, "");
    return `The payment did not go through: ${reason}. Nothing was charged; try another card.`;
  }
  return STATUS_MESSAGES.pending;
}

export function mountEnrollForm({ form, course, user, socket, stripeKey, result, onAccess = () => {}, onFull = () => {} }) {
  const submit = $("#enroll-submit", form);
  const payment = $("#payment", form);
  const paid = Number(course.price) > 0;
  const keys = new AttemptKeys();
  const enrollLabel = paid ? `Enroll · ${money(course.price, course.currency)}` : "Enroll for free";
  let submitting = false;
  let card = null;
  let stripe = null;
  let current = null; // the enrollment this page created, or the open checkout it resumed
  let payingAgain = false; // the form pays `current` with another card
  let full = false; // every seat is taken (live): the waitlist replaces the form
  let offered = false; // a waitlist offer holds a seat for this visitor: the form takes it
  let closed = false; // the visitor is enrolled already: the form stays hidden
  let stopCountdown = () => {};

  let quote = null; // the coupon applied: {code, amount, price, currency}
  const couponField = $("#coupon-field", form);
  const couponInput = $("#coupon", form);
  const couponNote = $("#coupon-note", form);

  // The label of the submit button: the price to pay now, with the coupon applied.
  function startLabel() {
    if (!paid) return enrollLabel;
    if (quote && Number(quote.amount) === 0) return `Enroll for free with ${quote.code}`;
    if (quote) return `Enroll · ${money(quote.amount, course.currency)}`;
    return enrollLabel;
  }

  function showStartLabel() {
    if (payingAgain || current) return;
    submit.dataset.label = startLabel();
    submit.textContent = submit.dataset.label;
    // A coupon that takes the whole price needs no card.
    payment.hidden = !paid || (quote !== null && Number(quote.amount) === 0);
  }

  submit.dataset.label = enrollLabel;
  submit.textContent = submit.dataset.label;
  payment.hidden = !paid;
  if (couponField) couponField.hidden = !paid;

  if (paid && stripeKey) {
    loadStripe(stripeKey)
      .then((instance) => {
        stripe = instance;
        card = stripe.elements().create("card");
        card.mount("#stripe-card");
      })
      .catch((error) => errors.fields({ payment_method: error.message }));
  }

  const errors = formErrors(form);

  async function applyCoupon() {
    const code = couponInput.value.trim();
    errors.reset();
    quote = null;
    couponNote.textContent = "";
    if (!code) return showStartLabel();
    const button = $("#coupon-apply", form);
    setBusy(button, true, "Checking…");
    try {
      quote = await api(`/api/courses/${encodeURIComponent(course.slug)}/coupons/${encodeURIComponent(code)}/quote`);
      couponNote.textContent = couponText(quote, course.currency);
    } catch (error) {
      errors.fields({ coupon: error.code === "throttled" ? `Too many tries. Try again in ${error.retryAfter ?? 60} seconds.` : error.message });
    } finally {
      setBusy(button, false);
      showStartLabel();
    }
  }

  if (couponInput) {
    $("#coupon-apply", form).addEventListener("click", applyCoupon);
    couponInput.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault(); // Enter here applies the coupon rather than paying
      applyCoupon();
    });
    couponInput.addEventListener("input", () => {
      if (!quote) return;
      quote = null; // changed after applying: the price is the list price again
      couponNote.textContent = "";
      showStartLabel();
    });
  }

  async function paymentMethod() {
    if (!paid || (quote && Number(quote.amount) === 0 && !payingAgain)) return undefined;
    if (stripeKey) {
      if (!stripe || !card) throw Object.assign(new Error("Card payments are still loading; try again."), { field: true });
      const billing = user ? { name: user.name, email: user.email } : { name: form.elements.name?.value, email: form.elements.email?.value };
      const answer = await stripe.createPaymentMethod({ type: "card", card, billing_details: billing });
      if (answer.error) throw Object.assign(new Error(answer.error.message), { field: true });
      return answer.paymentMethod.id;
    }
    return form.querySelector('input[name="payment_method"]:checked')?.value;
  }

  // The form either starts an enrollment or (an open checkout) pays it with another card.
  function payAgainMode(on) {
    payingAgain = on;
    form.classList.toggle("paying-again", on);
    submit.dataset.label = on ? `Pay · ${money(current?.payment?.amount ?? course.price, course.currency)}` : startLabel();
    submit.textContent = submit.dataset.label;
    submit.disabled = false;
    submit.setAttribute("aria-busy", "false");
    form.hidden = !on;
    if (couponField) couponField.hidden = on || !paid; // the checkout's price is settled
    payment.hidden = on ? false : !paid || (quote !== null && Number(quote.amount) === 0);
    if (on) errors.reset();
  }

  // Back to a fresh form after a checkout ended (cancelled, expired, a guest's failure).
  function startAgain() {
    stopCountdown();
    current = null;
    payAgainMode(false);
    form.hidden = false;
    result.hidden = true;
    submit.focus();
  }

  function holdLine(enrollment) {
    if (!enrollment.hold_expires_at) return [];
    const held = heldSeatLine({
      id: "hold-line",
      iso: enrollment.hold_expires_at,
      warning: "complete your payment",
      ended: "Your seat hold ran out. Releasing the seat…",
      onEnd: () => {
        for (const button of result.querySelectorAll("[data-needs-hold]")) button.disabled = true;
        submit.disabled = true;
      },
    });
    stopCountdown = held.stop;
    return [held.line];
  }

  function renderCheckout(enrollment) {
    const pay = enrollment.payment;
    const action = pay?.next_action;
    const failed = pay?.status === "failed";
    const actions = [];
    if (action) {
      const button = h("button", { type: "button", class: "button primary block", id: "authenticate", dataset: { needsHold: "" } }, "Confirm with your bank");
      button.addEventListener("click", () => authenticate(enrollment));
      actions.push(button);
    }
    if (user && action && !payingAgain) {
      const other = h("button", { type: "button", class: "button secondary block", id: "pay-again", dataset: { needsHold: "" } }, "Pay with another card");
      other.addEventListener("click", () => {
        payAgainMode(true);
        form.querySelector('input[name="payment_method"]')?.focus();
      });
      actions.push(other);
    }
    if (user) {
      const cancel = h("button", { type: "button", class: "button ghost block", id: "cancel-checkout" }, "Cancel checkout");
      cancel.addEventListener("click", () => cancelCheckout(enrollment, cancel));
      actions.push(cancel);
    } else {
      actions.push(h("p", { class: "muted small" }, `We will email ${enrollment.student.email} once the payment is confirmed.`));
    }
    clear(
      result,
      h("div", { class: "result-head status-pending" }, statusBadge("pending"), h("span", { class: "enrollment-number" }, enrollment.number)),
      h("p", { class: `result-message${failed ? " failed" : ""}` }, checkoutMessage(pay)),
      ...holdLine(enrollment),
      ...actions,
    );
    // After a failure the form is back, as "Pay", for the next card.
    if (user && failed) payAgainMode(true);
  }

  async function cancelCheckout(enrollment, button) {
    const yes = await confirmDelete(`Cancel your checkout for ${course.title}?`, "Nothing is charged and the seat you were holding goes back to the course.", {
      action: "Cancel checkout",
      dismiss: "Keep my seat",
    });
    if (!yes) return;
    setBusy(button, true, "Cancelling…");
    try {
      renderResult(await api(`/api/enrollments/${enrollment.id}/cancel`, { method: "POST" }));
    } catch (error) {
      setBusy(button, false);
      errors.top(error.message);
    }
  }

  function endedMessage(enrollment) {
    const reason = enrollment.payment?.failure_reason;
    if (enrollment.status === "cancelled" && reason) return `${STATUS_MESSAGES.cancelled} ${reason} Nothing was charged.`;
    return STATUS_MESSAGES[enrollment.status] ?? enrollment.status;
  }

  function renderResult(enrollment) {
    current = enrollment;
    stopCountdown();
    stopCountdown = () => {};
    const status = enrollment.status;
    result.dataset.status = status;
    result.dataset.enrollment = String(enrollment.id);
    result.hidden = false;
    if (status === "pending") {
      renderCheckout(enrollment);
      return;
    }
    if (payingAgain) payAgainMode(false);
    form.hidden = true;
    const next = [];
    if (status === "active" && user) {
      next.push(h("a", { class: "button primary block", href: `/learn/${enrollment.id}` }, "Start learning"));
      onAccess(enrollment);
    }
    if (status === "cancelled" || status === "refunded") {
      const again = h("button", { type: "button", class: "button secondary block", id: "start-again" }, "Start again");
      again.addEventListener("click", startAgain);
      next.push(again);
    }
    if (user) {
      next.push(h("a", { class: "button ghost block", href: "/dashboard" }, "Go to my learning"));
    } else if (status === "active") {
      next.push(h("p", { class: "muted small" }, `A confirmation is on its way to ${enrollment.student.email}.`));
    }
    clear(
      result,
      h("div", { class: `result-head status-${status}` }, statusBadge(status), h("span", { class: "enrollment-number" }, enrollment.number)),
      h("p", { class: "result-message" }, endedMessage(enrollment)),
      ...next,
    );
  }

  // The bank's check (3-D Secure), then the page's confirm call; the socket may tell first.
  async function authenticate(enrollment) {
    const action = enrollment.payment?.next_action;
    if (!action) return;
    let outcome;
    try {
      outcome = await completeAction(action, { stripe });
    } catch (error) {
      errors.top(error.message);
      return;
    }
    if (user) {
      try {
        renderResult(await api(`/api/enrollments/${enrollment.id}/confirm`, { method: "POST" }));
      } catch {
        // The enrollment.status event (webhook) still brings the outcome.
      }
      if (outcome === "closed") $("#authenticate", result)?.focus();
      return;
    }
    // A guest: no socket and no account to read it with; the bank's answer is what we know.
    if (outcome === "approved") {
      renderResult({ ...enrollment, status: "active", payment: { ...enrollment.payment, status: "succeeded", next_action: null } });
    } else if (outcome === "failed") {
      startAgain();
      errors.top(h("strong", {}, "Your bank did not approve the payment. "), "Nothing was charged; try again or use another card.");
    } else {
      $("#authenticate", result)?.focus();
    }
  }

  socket.on("enrollment.status", (frame) => {
    const enrollment = frame.enrollment;
    if (current && enrollment?.id === current.id) renderResult(enrollment);
  });

  function explain(error) {
    switch (error.code) {
      case "payment_declined":
        return [
          h("strong", {}, "Payment declined. "),
          error.message,
          " Nothing was charged; try another card.",
        ];
      case "course_full":
        return [h("strong", {}, "This course is full. "), "All seats were taken before your enrollment went through."];
      case "offer_expired":
        return [h("strong", {}, "Your seat offer ran out. "), "The seat went to the next person in line."];
      case "already_enrolled":
        return [
          h("strong", {}, "You’re already enrolled. "),
          user ? h("a", { href: "/dashboard" }, "Go to my learning") : "Sign in with that email to continue learning.",
        ];
      case "email_unverified":
        return [h("strong", {}, "Confirm your email address first. "), `We sent a link to ${user?.email ?? "your address"}: follow it, then enroll.`];
      case "coupon_exhausted":
        return [h("strong", {}, "This coupon has been used up. "), "Remove it to enroll at the full price."];
      case "hold_expired":
        return [h("strong", {}, "Your seat hold ran out. "), "Nothing was charged; start again to enroll."];
      case "payment_in_progress":
        return ["Your last payment is still being confirmed; this page updates the moment it settles."];
      case "throttled":
        return [`Too many attempts. Try again in ${error.retryAfter ?? 60} seconds.`];
      case "idempotency_conflict":
        return ["That request changed while it was being sent. Please submit again."];
      default:
        return [error.message];
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submitting) return; // no double submit
    submitting = true;
    errors.reset();
    setBusy(submit, true, payingAgain ? "Paying…" : "Enrolling…");
    let done = false;
    try {
      const again = payingAgain && current;
      const body = again ? {} : { course: course.slug };
      if (!user && !again) body.student = { name: form.elements.name.value.trim(), email: form.elements.email.value.trim() };
      let method;
      try {
        method = await paymentMethod();
      } catch (error) {
        errors.fields({ payment_method: error.message });
        return;
      }
      if (method !== undefined) body.payment_method = method;
      const code = couponInput?.value.trim();
      if (code && !again) body.coupon = code;
      const path = again ? `/api/enrollments/${current.id}/pay` : "/api/enrollments";
      const key = keys.keyFor(JSON.stringify({ path, body }));
      try {
        const enrollment = await api(path, { method: "POST", body, headers: { "Idempotency-Key": key } });
        keys.settled({ retryable: false });
        done = true;
        if (payingAgain) payAgainMode(false);
        form.hidden = true;
        renderResult(enrollment);
        result.focus?.();
        if (enrollment.status === "pending" && enrollment.payment?.next_action) authenticate(enrollment);
      } catch (error) {
        keys.settled({ retryable: error.retryable });
        if (error.status === 400 && Object.keys(error.fields).length) {
          const shown = errors.fields(error.fields);
          if (shown.length === Object.keys(error.fields).length) errors.top("Please correct the highlighted fields.");
        } else {
          errors.top(...explain(error));
          if (error.code === "payment_declined") payment.setAttribute("aria-invalid", "true");
          if (error.code === "hold_expired" && current) renderResult(await api(`/api/enrollments/${current.id}`).catch(() => current));
          if (error.code === "course_full" || error.code === "offer_expired") {
            done = true;
            submit.disabled = true;
            submit.textContent = "Course full";
            onFull(error.code);
          }
        }
      }
    } finally {
      submitting = false;
      if (!done) setBusy(submit, false);
    }
  });

  // A full course shows the waitlist instead of the form, unless an offer holds a seat
  // for this visitor (the server decides anyway).
  function showAvailability() {
    if (submitting || current || closed) return;
    const blocked = full && !offered;
    form.hidden = blocked;
    submit.disabled = blocked;
    submit.textContent = blocked ? "Course full" : offered ? `Take your seat · ${paid ? money(quote?.amount ?? course.price, course.currency) : "Free"}` : submit.dataset.label;
  }

  return {
    // Seats changed live.
    seats(isFull) {
      full = isFull;
      showAvailability();
    },
    // A waitlist offer for this visitor starts or ends.
    offer(on) {
      offered = on;
      showAvailability();
    },
    // The visitor is enrolled (found on load): the form stays hidden.
    close() {
      closed = true;
      form.hidden = true;
    },
    // An open checkout of this student, found when the page loaded.
    resume(enrollment) {
      form.hidden = true;
      renderResult(enrollment);
    },
  };
}
