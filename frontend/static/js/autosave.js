// Autosave for a studio form: changes are gathered and sent as one PATCH a moment after the
// last edit, always with the `version` this page last saw. When another tab (or another
// person) saved in between, the server refuses with 409 `edit_conflict` and its current
// object: nothing is overwritten silently; the person chooses "Load theirs" (drop the
// unsent changes, take the stored object) or "Keep mine" (send the changes again over
// their version).
//
// states: idle (nothing to send) · pending (an edit waits for the pause) · saving · saved ·
// error (retry() or a new edit sends again) · conflict (loadTheirs() or keepMine()).

export const AUTOSAVE_DELAY_MS = 800;

export class Autosave {
  // send(body) → Promise<saved object with `version`>, throws an ApiError.
  constructor({ send, version, delay = AUTOSAVE_DELAY_MS, timers = globalThis, onChange = () => {} }) {
    this.send = send;
    this.version = version;
    this.delay = delay;
    this.timers = timers;
    this.onChange = onChange;
    this.state = "idle";
    this.changes = {}; // edits not yet sent (or sent and refused)
    this.inFlight = null; // the edits of the request under way
    this.error = null;
    this.current = null; // on conflict: the object as stored now
    this.saved = null; // the last saved object
    this.timer = null;
    this.running = null;
  }

  get dirty() {
    return Object.keys(this.changes).length > 0 || this.inFlight !== null;
  }

  #set(state) {
    this.state = state;
    this.onChange(this);
  }

  #schedule() {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.save();
    }, this.delay);
  }

  // An edit: {field: value, …}. Later edits of a field replace earlier ones.
  change(fields) {
    Object.assign(this.changes, fields);
    // A conflict waits for the person's choice; the edit is kept for "Keep mine".
    if (this.state === "conflict") return;
    if (this.state !== "saving") this.#set("pending");
    this.#schedule();
  }

  // Send now what is waiting (also what the debounce calls). Resolves when nothing more is
  // under way.
  async save() {
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.state === "conflict") return this;
    if (this.running) {
      // The running request picks the new edits up when it ends.
      await this.running;
      return this;
    }
    this.running = this.#drain();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
    return this;
  }

  async #drain() {
    while (Object.keys(this.changes).length && this.state !== "conflict") {
      const body = { ...this.changes };
      this.inFlight = body;
      this.changes = {};
      this.#set("saving");
      try {
        const saved = await this.send({ ...body, version: this.version });
        this.inFlight = null;
        this.saved = saved;
        if (saved && saved.version !== undefined) this.version = saved.version;
        this.error = null;
        if (!Object.keys(this.changes).length) this.#set("saved");
      } catch (error) {
        // Refused or failed: the edits wait again, newer ones on top.
        this.changes = { ...body, ...this.changes };
        this.inFlight = null;
        this.error = error;
        if (error?.code === "edit_conflict") {
          this.current = error.detail?.current ?? null;
          this.#set("conflict");
        } else {
          this.#set("error");
        }
        return;
      }
    }
  }

  retry() {
    if (this.state !== "error") return Promise.resolve(this);
    return this.save();
  }

  // Take the stored object: the unsent edits are dropped. Returns it (the page shows it).
  loadTheirs() {
    const theirs = this.current;
    if (theirs?.version !== undefined) this.version = theirs.version;
    this.changes = {};
    this.current = null;
    this.error = null;
    this.saved = theirs;
    this.#set("saved");
    return theirs;
  }

  // Send the edits again over their version (this overwrites what they saved).
  keepMine() {
    const theirs = this.current;
    if (theirs?.version !== undefined) this.version = theirs.version;
    this.current = null;
    this.error = null;
    this.#set("pending");
    return this.save();
  }

  // The page reloaded the object by itself (e.g. after a reorder changed its version).
  rebase(version) {
    this.version = version;
  }
}

// The words under a form for each state.
export function autosaveLabel(state) {
  return (
    {
      idle: "",
      pending: "Unsaved changes…",
      saving: "Saving…",
      saved: "Saved",
      error: "Not saved",
      conflict: "Not saved: changed elsewhere",
    }[state] ?? ""
  );
}
