// The studio's coupons of one course (GET and POST /api/courses/{slug}/coupons): a form
// that creates one and a table of the course's coupons with their use counts as loaded.
// The request body and the labels are plain functions, tested under Node.

import { api, fieldMessages } from "./api.js";
import { formErrors } from "./forms.js";
import { $, clear, dateTime, emptyState, errorState, h, money, setBusy } from "./ui.js";

// As the API takes a code (catalog/shapes.py COUPON_CODE_TYPED, once trimmed).
export const CODE_PATTERN = /^[A-Za-z0-9_-]{3,32}$/;
const CODE_HINT = "Use 3 to 32 letters, digits, - or _.";

// The form's values ({code, percent_off, amount_off, max_redemptions, expires_at}, as the
// controls hold them) as the API's body, and what is wrong before sending. `expires_at` is
// a datetime-local value: the browser's own time, sent as an instant.
export function couponRequest(values) {
  const text = (name) => String(values[name] ?? "").trim();
  const [code, percent, amount, uses, expires] = ["code", "percent_off", "amount_off", "max_redemptions", "expires_at"].map(text);
  const problems = {};
  if (!code) problems.code = ["Give the code buyers will type."];
  else if (!CODE_PATTERN.test(code)) problems.code = [CODE_HINT];
  if (!percent && !amount) problems.percent_off = problems.amount_off = ["Give a percentage or an amount off."];
  if (percent && amount) problems.percent_off = problems.amount_off = ["Give a percentage or an amount off, not both."];
  const when = expires ? new Date(expires) : null;
  if (when && Number.isNaN(when.getTime())) problems.expires_at = ["Give a date and a time, or leave it empty."];
  const body = {
    code,
    percent_off: percent ? Number(percent) : null,
    amount_off: amount || null, // money travels as text ("10.00")
    max_redemptions: uses ? Number(uses) : null,
    expires_at: when && !problems.expires_at ? when.toISOString() : null,
  };
  return { body, problems };
}

export function discountText(coupon, currency = "usd") {
  if (coupon.percent_off !== null && coupon.percent_off !== undefined) return `${coupon.percent_off}% off`;
  return `${money(coupon.amount_off, currency)} off`;
}

export function usesText(coupon) {
  const max = coupon.max_redemptions;
  if (max === null || max === undefined) return `${coupon.redeemed} of unlimited`;
  return `${coupon.redeemed} of ${max}${coupon.redeemed >= max ? " (used up)" : ""}`;
}

export function expiryText(coupon, now = Date.now()) {
  if (!coupon.expires_at) return "Never";
  const when = dateTime(coupon.expires_at);
  return new Date(coupon.expires_at).getTime() <= now ? `Expired ${when}` : when;
}

export function countText(count) {
  return count ? `${count} coupon${count === 1 ? "" : "s"}` : "";
}

export function mountCoupons({ slug, currency = "usd" }) {
  const url = `/api/courses/${encodeURIComponent(slug)}/coupons`;
  const form = $("#coupon-form");
  const list = $("#coupons");
  const status = $("#coupon-status");
  const submit = $("#coupon-submit");
  const errors = formErrors(form, { general: $("#coupon-form-error") });
  let coupons = null; // until loaded

  function showCurrency() {
    $("#coupon-currency").textContent = currency.toUpperCase();
  }

  function row(coupon) {
    return h(
      "tr",
      { dataset: { code: coupon.code } },
      h("th", { scope: "row" }, h("code", { class: "coupon-code" }, coupon.code)),
      h("td", { dataset: { label: "Discount" } }, discountText(coupon, currency)),
      h("td", { dataset: { label: "Used" } }, usesText(coupon)),
      h("td", { dataset: { label: "Expires" } }, expiryText(coupon)),
    );
  }

  function render() {
    if (!coupons) return;
    $("#coupons-count").textContent = countText(coupons.length);
    if (!coupons.length) {
      clear(list, emptyState("No coupons yet.", "Coupons you create here are listed with how often they were used."));
      return;
    }
    clear(
      list,
      h(
        "table",
        { class: "table coupon-table" },
        h("caption", { class: "visually-hidden" }, "Coupons of this course, newest first"),
        h("thead", {}, h("tr", {}, ["Code", "Discount", "Used", "Expires"].map((name) => h("th", { scope: "col" }, name)))),
        h("tbody", {}, coupons.map(row)),
      ),
    );
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      coupons = (await api(url)).results;
      render();
    } catch (error) {
      clear(list, errorState(`The coupons could not be loaded: ${error.message}`, load));
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.reset();
    status.textContent = "";
    const values = Object.fromEntries([...form.querySelectorAll("[data-field]")].map((control) => [control.dataset.field, control.value]));
    const { body, problems } = couponRequest(values);
    if (Object.keys(problems).length) {
      errors.fields(problems);
      return;
    }
    setBusy(submit, true, "Creating…");
    try {
      const coupon = await api(url, { method: "POST", body });
      coupons = [coupon, ...(coupons ?? [])];
      render();
      form.reset();
      status.textContent = `Coupon ${coupon.code} created: ${discountText(coupon, currency)}.`;
      setBusy(submit, false);
      $("#coupon-code").focus();
    } catch (error) {
      setBusy(submit, false);
      if (!errors.fields(fieldMessages(error)).length) errors.top(`The coupon was not created: ${error.message}`);
    }
  });

  showCurrency();
  return {
    load,
    // The course's currency changed in its form: amounts off are in the new one.
    setCurrency(next) {
      if (next === currency) return;
      currency = next;
      showCurrency();
      render();
    },
  };
}
