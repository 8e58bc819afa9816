// A new course: POST /api/courses as a draft ("published": false), then its builder.

import { api } from "../api.js";
import { boot } from "../app.js";
import { formErrors } from "../forms.js";
import { setBusy } from "../ui.js";

boot();
const form = document.getElementById("new-course-form");
const errors = formErrors(form);
const button = form.querySelector('button[type="submit"]');

export function newCourseBody(elements) {
  const text = (name) => elements[name].value.trim();
  const capacity = text("capacity");
  return {
    title: text("title"),
    summary: text("summary"),
    category: text("category"),
    level: elements.level.value,
    price: text("price") || "0.00",
    currency: elements.currency.value,
    capacity: capacity === "" ? null : Number(capacity),
    published: false,
  };
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (button.disabled) return;
  errors.reset();
  const body = newCourseBody(form.elements);
  const missing = {};
  if (!body.title) missing.title = "Give the course a title.";
  if (!body.summary) missing.summary = "Write a short summary.";
  if (!body.category) missing.category = "Name a category.";
  if (Object.keys(missing).length) {
    errors.fields(missing);
    return;
  }
  setBusy(button, true, "Creating…");
  try {
    const course = await api("/api/courses", { method: "POST", body });
    location.assign(`/studio/courses/${encodeURIComponent(course.slug)}`);
  } catch (error) {
    setBusy(button, false);
    if (error.status === 400 && Object.keys(error.fields).length) errors.fields(error.fields);
    else errors.top(error.message);
  }
});
