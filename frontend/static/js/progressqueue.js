// Progress writes that survive a lost connection. Each write is stored in this browser
// first (localStorage, one queue per user), then sent in order, one at a time, each with an
// Idempotency-Key of its own, and removed only once the server has answered it: a write
// sent again (its answer was lost, another tab sent it too, the page was closed mid-way)
// is applied once by the server. The queue's state says whether everything is saved.
//
// Pure: storage, timers, the sender, the online test and the key maker are injected, so
// node --test drives it without a browser.

import { backoffDelay } from "./backoff.js";
import { defaultStorage } from "./lessonstore.js";

const PREFIX = "portal.progress-queue.";
const RETRY = Object.freeze({ base: 1000, cap: 30000 });

export const SaveState = Object.freeze({
  IDLE: "idle", // nothing written yet on this page
  SAVED: "saved", // the server has every write
  SAVING: "saving", // writes are on their way
  OFFLINE: "offline", // no connection: writes wait in this browser
  RETRYING: "retrying", // the server could not take them now (busy, down): trying again
  SIGNED_OUT: "signed-out", // the session ended: writes wait for the next sign-in
  FAILED: "failed", // the server refused a write (kept until the next one is saved)
});

function defaultKey() {
  const crypto = globalThis.crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function defaultOnline() {
  return globalThis.navigator?.onLine ?? true;
}

// Only a position moved: a newer one of the same lesson replaces it while it is unsent.
function positionOnly(body) {
  return body.completed === undefined || body.completed === null;
}

export function queueKey(userId) {
  return `${PREFIX}${userId}`;
}

export class ProgressQueue {
  constructor({
    userId,
    send,
    storage = defaultStorage(),
    timers = globalThis,
    online = defaultOnline,
    makeKey = defaultKey,
    lock = null,
    random = Math.random,
  }) {
    this.key = queueKey(userId);
    this.send = send; // (entry, {keepalive}) → Promise of the answer; rejects with an ApiError
    this.storage = storage;
    this.timers = timers;
    this.online = online;
    this.makeKey = makeKey;
    this.lock = lock; // (fn) → Promise: one tab drains at a time (navigator.locks)
    this.random = random;
    this.state = SaveState.IDLE;
    this.lastPending = 0;
    this.error = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.running = null;
    this.again = false;
    this.listeners = new Set();
    this.savedListeners = new Set();
    this.refusedListeners = new Set();
  }

  // --- storage ------------------------------------------------------------------------

  entries() {
    try {
      const value = JSON.parse(this.storage?.getItem(this.key) ?? "[]");
      return Array.isArray(value) ? value.filter((e) => e && typeof e.key === "string" && e.body) : [];
    } catch {
      return [];
    }
  }

  #write(entries) {
    try {
      if (entries.length) this.storage?.setItem(this.key, JSON.stringify(entries));
      else this.storage?.removeItem(this.key);
    } catch {
      /* storage full or disabled: the write is still sent from memory below */
    }
  }

  #remove(key) {
    this.#write(this.entries().filter((e) => e.key !== key));
  }

  #markAttempted(key) {
    this.#write(this.entries().map((e) => (e.key === key ? { ...e, attempts: (e.attempts ?? 0) + 1 } : e)));
  }

  pending(enrollmentId = null) {
    const entries = this.entries();
    return enrollmentId === null ? entries : entries.filter((e) => e.enrollment === enrollmentId);
  }

  // --- writing ------------------------------------------------------------------------

  // Queue a write of `body` ({lesson, completed?, position_seconds?}) for an enrollment and
  // start sending. Returns the entry (its `key` names it in the saved/refused callbacks).
  enqueue(enrollmentId, body, { keepalive = false } = {}) {
    const entries = this.entries();
    const entry = { key: this.makeKey(), enrollment: enrollmentId, body: { ...body }, attempts: 0 };
    const last = entries[entries.length - 1];
    if (
      last &&
      !last.attempts &&
      last.enrollment === enrollmentId &&
      last.body.lesson === body.lesson &&
      positionOnly(last.body) &&
      positionOnly(body)
    ) {
      entries[entries.length - 1] = entry; // never sent: the newer position replaces it
    } else {
      entries.push(entry);
    }
    this.#write(entries);
    this.flush({ keepalive });
    return entry;
  }

  // Send what is queued, in order. Resolves when the queue is empty or stalls (offline,
  // the server busy, signed out); a later flush (or the retry timer) goes on from there.
  flush({ keepalive = false } = {}) {
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const drain = () => this.#drain({ keepalive });
    this.running = (this.lock ? this.lock(drain) : drain()).finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        if (this.retryTimer === null) this.flush();
      }
    });
    return this.running;
  }

  // The connection is back (the `online` event): try now, whatever the backoff said.
  wake() {
    this.attempt = 0;
    return this.flush();
  }

  // Another tab changed the queue (a `storage` event): it may have sent what was waiting.
  refresh() {
    if (!this.entries().length && this.state !== SaveState.IDLE && this.state !== SaveState.FAILED) {
      this.#setState(SaveState.SAVED);
    } else if (this.entries().length && this.state === SaveState.SAVED) {
      this.flush();
    }
  }

  async #drain({ keepalive }) {
    for (;;) {
      this.again = false;
      const head = this.entries()[0];
      if (!head) {
        // A refusal stays said until a later write is saved.
        const refused = this.state === SaveState.FAILED && this.error;
        if (this.state !== SaveState.IDLE && !refused) this.#setState(SaveState.SAVED);
        this.attempt = 0;
        return;
      }
      if (!this.online()) {
        this.#setState(SaveState.OFFLINE);
        return; // the `online` event wakes the queue
      }
      // Waiting states stay said until the write goes through.
      const waiting = [SaveState.RETRYING, SaveState.OFFLINE, SaveState.FAILED, SaveState.SIGNED_OUT];
      if (!waiting.includes(this.state)) this.#setState(SaveState.SAVING);
      this.#markAttempted(head.key);
      let answer;
      try {
        answer = await this.send(head, { keepalive });
      } catch (error) {
        if (this.#stalled(error)) return;
        // Refused for good (not part of the course, no longer active, …): dropped, said.
        this.#remove(head.key);
        this.error = error;
        this.#setState(SaveState.FAILED);
        for (const listener of this.refusedListeners) listener(head, error);
        continue;
      }
      this.#remove(head.key);
      this.attempt = 0;
      this.error = null;
      if (this.entries().length) this.#setState(SaveState.SAVING);
      for (const listener of this.savedListeners) listener(head, answer);
    }
  }

  // True when the write stays queued for later: no connection, the server busy or down,
  // the session over. Anything else the server decided is final.
  #stalled(error) {
    const status = error?.status;
    if (status === 0 || status === undefined) {
      this.#setState(SaveState.OFFLINE);
      this.#retryLater(null);
      return true;
    }
    if (status === 401) {
      this.error = error;
      this.#setState(SaveState.SIGNED_OUT);
      return true;
    }
    if (status === 429 || status >= 500 || error.code === "idempotency_in_progress") {
      this.error = error;
      this.#setState(SaveState.RETRYING);
      this.#retryLater(error.retryAfter);
      return true;
    }
    return false;
  }

  #retryLater(retryAfterSeconds) {
    const wait = Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0
      ? retryAfterSeconds * 1000
      : backoffDelay(this.attempt, { ...RETRY, random: this.random });
    this.attempt += 1;
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.flush();
    }, wait);
  }

  // --- listeners ----------------------------------------------------------------------

  #setState(state) {
    const snapshot = { ...this.status(), state };
    const same = state === this.state && snapshot.pending === this.lastPending;
    this.state = state;
    this.lastPending = snapshot.pending;
    if (same && state !== SaveState.FAILED) return;
    for (const listener of this.listeners) listener(snapshot);
  }

  status() {
    return { state: this.state, pending: this.entries().length, error: this.error };
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onSaved(listener) {
    this.savedListeners.add(listener);
    return () => this.savedListeners.delete(listener);
  }

  onRefused(listener) {
    this.refusedListeners.add(listener);
    return () => this.refusedListeners.delete(listener);
  }
}

// What the page says for a queue status: text for the aria-live region.
export function saveStatusText({ state, pending, error }) {
  switch (state) {
    case SaveState.SAVED:
      return "Saved";
    case SaveState.SAVING:
      return "Saving…";
    case SaveState.OFFLINE:
      return pending > 1
        ? `Offline — will save when you are back online (${pending} changes waiting)`
        : "Offline — will save when you are back online";
    case SaveState.RETRYING:
      return "Not saved yet — trying again…";
    case SaveState.SIGNED_OUT:
      return "Signed out — sign in again to save your progress";
    case SaveState.FAILED:
      return `Not saved: ${error?.message ?? "the server refused it"}`;
    default:
      return "";
  }
}
