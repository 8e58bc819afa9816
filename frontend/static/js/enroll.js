// The enrollment form on a course page: POST /api/enrollments with an Idempotency-Key,
// inline field errors from the API, Stripe Elements when a publishable key is set (else
// the test gateway's payment methods), and the status followed live for signed-in users.

import { api } from "./api.js";
import { formErrors } from "./forms.js";
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

export function mountEnrollForm({ form, course, user, socket, stripeKey, result, onAccess = () => {} }) {
  const submit = $("#enroll-submit", form);
  const payment = $("#payment", form);
  const paid = Number(course.price) > 0;
  const keys = new AttemptKeys();
  let submitting = false;
  let card = null;
  let stripe = null;
  let current = null; // the enrollment this page created

  submit.dataset.label = paid ? `Enroll · ${money(course.price, course.currency)}` : "Enroll for free";
  submit.textContent = submit.dataset.label;
  payment.hidden = !paid;

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

  async function paymentMethod() {
    if (!paid) return undefined;
    if (stripeKey) {
      if (!stripe || !card) throw Object.assign(new Error("Card payments are still loading; try again."), { field: true });
      const billing = user ? { name: user.name, email: user.email } : { name: form.elements.name?.value, email: form.elements.email?.value };
      const answer = await stripe.createPaymentMethod({ type: "card", card, billing_details: billing });
      if (answer.error) throw Object.assign(new Error(answer.error.message), { field: true });
      return answer.paymentMethod.id;
    }
    return form.querySelector('input[name="payment_method"]:checked')?.value;
  }

  function renderResult(enrollment) {
    current = enrollment;
    const status = enrollment.status;
    const next = [];
    if (status === "active" && user) {
      next.push(h("a", { class: "button primary block", href: `/learn/${enrollment.id}` }, "Start learning"));
      onAccess(enrollment);
    }
    if (user) {
      if (status === "pending") next.push(h("p", { class: "muted small" }, "This updates here the moment the payment settles."));
      next.push(h("a", { class: "button ghost block", href: "/dashboard" }, "Go to my learning"));
    } else if (status === "active") {
      next.push(h("p", { class: "muted small" }, `A confirmation is on its way to ${enrollment.student.email}.`));
    } else if (status === "pending") {
      next.push(
        h(
          "p",
          { class: "muted small" },
          `We will email ${enrollment.student.email} once the payment is confirmed; nothing more to do here.`,
        ),
      );
    }
    clear(
      result,
      h("div", { class: `result-head status-${status}` }, statusBadge(status), h("span", { class: "enrollment-number" }, enrollment.number)),
      h("p", { class: "result-message" }, STATUS_MESSAGES[status] ?? status),
      ...next,
    );
    result.dataset.status = status;
    result.dataset.enrollment = String(enrollment.id);
    result.hidden = false;
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
      case "already_enrolled":
        return [
          h("strong", {}, "You’re already enrolled. "),
          user ? h("a", { href: "/dashboard" }, "Go to my learning") : "Sign in with that email to continue learning.",
        ];
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
    setBusy(submit, true, "Enrolling…");
    let done = false;
    try {
      const body = { course: course.slug };
      if (!user) body.student = { name: form.elements.name.value.trim(), email: form.elements.email.value.trim() };
      let method;
      try {
        method = await paymentMethod();
      } catch (error) {
        errors.fields({ payment_method: error.message });
        return;
      }
      if (method !== undefined) body.payment_method = method;
      const key = keys.keyFor(JSON.stringify(body));
      try {
        const enrollment = await api("/api/enrollments", { method: "POST", body, headers: { "Idempotency-Key": key } });
        keys.settled({ retryable: false });
        done = true;
        form.hidden = true;
        renderResult(enrollment);
        result.focus?.();
      } catch (error) {
        keys.settled({ retryable: error.retryable });
        if (error.status === 400 && Object.keys(error.fields).length) {
          const shown = errors.fields(error.fields);
          if (shown.length === Object.keys(error.fields).length) errors.top("Please correct the highlighted fields.");
        } else {
          errors.top(...explain(error));
          if (error.code === "payment_declined") payment.setAttribute("aria-invalid", "true");
          if (error.code === "course_full") {
            done = true;
            submit.disabled = true;
            submit.textContent = "Course full";
          }
        }
      }
    } finally {
      submitting = false;
      if (!done) setBusy(submit, false);
    }
  });

  return {
    // Seats changed live: a full course cannot be submitted (the server decides anyway).
    seats(full) {
      if (submitting || current) return;
      submit.disabled = full;
      submit.textContent = full ? "Course full" : submit.dataset.label;
    },
  };
}
