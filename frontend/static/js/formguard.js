// Forms the page's module handles (those with neither `action` nor `method`) never
// submit natively. A click before the module has run would otherwise reload the page
// with the fields in the address bar (a password among them) and lose the click.
//
// A classic script, run from <head> before the body is parsed: it holds such a submit
// until the page's modules have run (DOMContentLoaded comes after them), then makes it
// again for their handlers. Once they have run it only stops the native submission:
// handlers call preventDefault themselves, and a module that failed to load must not
// turn into a GET with the fields in the URL.
(() => {
  let ready = false;
  let held = null;
  const scripted = (form) =>
    form instanceof HTMLFormElement && !form.hasAttribute("action") && !form.hasAttribute("method");

  document.addEventListener(
    "submit",
    (event) => {
      if (!scripted(event.target)) return;
      event.preventDefault();
      if (ready) return;
      // Not yet: no handler may see this one, the replay is the one they get.
      event.stopImmediatePropagation();
      held = { form: event.target, submitter: event.submitter };
    },
    true,
  );

  document.addEventListener(
    "DOMContentLoaded",
    () => {
      ready = true;
      if (held && held.form.isConnected) held.form.requestSubmit(held.submitter || undefined);
      held = null;
    },
    { once: true },
  );
})();
