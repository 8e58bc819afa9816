// PortalSocket: the one websocket per tab (see the contract's "WebSocket /ws/").
//
// - reconnects with jittered exponential backoff and re-sends its `watch`es (with their
//   `present`: a course page's tab counts in `course.presence`);
// - remembers the last event `seq` per user in sessionStorage (a reload resumes too) and
//   sends `resume` when the server's `hello.seq` is ahead, so nothing is missed offline;
// - drops events it has seen (seq ≤ last) and fills holes (seq > last + 1) with a resume;
// - answers `resync` (the server may have dropped live events) as after a reconnect: the
//   watches again, and a resume from the last seq (after the one in flight, if any);
// - pings every 25 s and treats 60 s without any frame as a dead connection;
// - `resume.gap` (events pruned) is the only case where the page reloads its state.
//
// Everything it touches (WebSocket, storage, timers, clock, randomness) is injectable, so
// the logic is tested in Node with a fake WebSocket.

import { backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";

export const SEQ_KEY_PREFIX = "portal.seq.";
export const STATES = Object.freeze({
  IDLE: "idle",
  CONNECTING: "connecting",
  LIVE: "live",
  OFFLINE: "offline",
});

function defaultStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage disabled (privacy settings): resume within the tab's life only
  }
}

export function watchFrame(course, present = false) {
  return present ? { type: "watch", course, present: true } : { type: "watch", course };
}

export function socketUrl(location = globalThis.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/`;
}

export class PortalSocket {
  constructor({
    url,
    WebSocketImpl = globalThis.WebSocket,
    storage = defaultStorage(),
    timers = globalThis,
    now = () => Date.now(),
    random = Math.random,
    pingEvery = 25_000,
    staleAfter = 60_000,
    checkEvery = 5_000,
    backoff = DEFAULT_BACKOFF,
    onGap = () => globalThis.location?.reload(),
  } = {}) {
    this.url = url;
    this.WebSocketImpl = WebSocketImpl;
    this.storage = storage;
    this.timers = timers;
    this.now = now;
    this.random = random;
    this.pingEvery = pingEvery;
    this.staleAfter = staleAfter;
    this.checkEvery = checkEvery;
    this.backoff = backoff;
    this.onGap = onGap;

    this.state = STATES.IDLE;
    this.ws = null;
    this.user = undefined; // undefined until the first hello; then a User or null
    this.lastSeq = null; // last event seq seen, for this.seqUser
    this.seqUser = null;
    this.resuming = false;
    this.resumeAgain = false; // a resync came while resuming: resume once more after it
    this.attempts = 0;
    this.watched = new Map(); // course slug → present (this tab is the course's own page)
    this.listeners = new Map();
    this.stopped = true;
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.checkTimer = null;
    this.lastFrameAt = 0;
  }

  // --- public API -------------------------------------------------------------------

  on(type, handler) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(handler);
    return () => this.listeners.get(type)?.delete(handler);
  }

  connect() {
    this.stopped = false;
    if (!this.ws && this.reconnectTimer === null) this._open();
    return this;
  }

  close() {
    this.stopped = true;
    this._clearReconnect();
    this._teardown();
    this._setState(STATES.IDLE);
  }

  get live() {
    return this.state === STATES.LIVE;
  }

  send(frame) {
    if (!this.live || !this.ws) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  // `present`: this tab has the course's own page open (the course page, a lesson page);
  // a signed-in learner's tab then counts in the course's `course.presence`.
  watch(course, { present = false } = {}) {
    this.watched.set(course, present);
    this.send(watchFrame(course, present));
  }

  unwatch(course) {
    if (this.watched.delete(course)) this.send({ type: "unwatch", course });
  }

  // Skip the backoff wait (the browser says it is online again, the tab became visible).
  reconnectNow() {
    if (this.stopped || this.ws) return;
    this._clearReconnect();
    this._open();
  }

  // --- connection life ----------------------------------------------------------------

  _open() {
    this.reconnectTimer = null;
    this._setState(STATES.CONNECTING);
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.lastFrameAt = this.now();
      this._startTimers();
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this._receive(event.data);
    };
    ws.onerror = () => {}; // a close event follows
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this._emit("close", { code: event?.code });
      this._lost();
    };
  }

  _lost() {
    this._teardown();
    if (this.stopped) return;
    this._setState(STATES.OFFLINE);
    this._scheduleReconnect();
  }

  _teardown() {
    this._stopTimers();
    this.resuming = this.resumeAgain = false; // the next hello resumes
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch {
        /* already closed */
      }
    }
  }

  _scheduleReconnect() {
    if (this.stopped) return;
    this._setState(STATES.OFFLINE);
    const delay = backoffDelay(this.attempts, { ...this.backoff, random: this.random });
    this.attempts += 1;
    this.nextRetryAt = this.now() + delay;
    this._emit("retry", { delay, attempt: this.attempts });
    this.reconnectTimer = this.timers.setTimeout(() => this._open(), delay);
  }

  _clearReconnect() {
    if (this.reconnectTimer !== null) this.timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  _startTimers() {
    this._stopTimers();
    this.pingTimer = this.timers.setInterval(() => this.send({ type: "ping" }), this.pingEvery);
    this.checkTimer = this.timers.setInterval(() => this._checkAlive(), this.checkEvery);
  }

  _stopTimers() {
    if (this.pingTimer !== null) this.timers.clearInterval(this.pingTimer);
    if (this.checkTimer !== null) this.timers.clearInterval(this.checkTimer);
    this.pingTimer = this.checkTimer = null;
  }

  _checkAlive() {
    // No pong, heartbeat or anything else for too long: the connection is dead even if
    // the browser has not noticed (a suspended laptop, a silent proxy).
    if (this.ws && this.now() - this.lastFrameAt > this.staleAfter) this._lost();
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("status", { state });
  }

  _emit(type, detail) {
    for (const handler of [...(this.listeners.get(type) ?? [])]) {
      try {
        handler(detail);
      } catch (error) {
        globalThis.console?.error(error);
      }
    }
  }

  // --- frames -------------------------------------------------------------------------

  _receive(data) {
    this.lastFrameAt = this.now();
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    switch (frame.type) {
      case "hello":
        this._hello(frame);
        return;
      case "pong":
      case "heartbeat":
        return;
      case "resume.done":
        this.resuming = false;
        this._emit("resume.done", frame);
        if (this.resumeAgain) {
          this.resumeAgain = false;
          this._resume();
        }
        return;
      case "resume.gap":
        this.resuming = this.resumeAgain = false;
        // The state on screen cannot be patched: start again from the newest seq.
        if (typeof frame.seq === "number") this._remember(frame.seq);
        this._emit("resume.gap", frame);
        this.onGap?.(frame);
        return;
      case "resync":
        this._resync();
        this._emit("resync", frame);
        return;
      default:
        if (typeof frame.seq === "number") this._event(frame);
        else this._emit(frame.type, frame);
    }
  }

  _hello(frame) {
    const previous = this.user;
    this.user = frame.user ?? null;
    this.attempts = 0;
    this._setState(STATES.LIVE);
    this._watchAgain();
    const serverSeq = typeof frame.seq === "number" ? frame.seq : 0;
    if (this.user) {
      const userId = this.user.id;
      let known = this.seqUser === userId ? this.lastSeq : null;
      if (known === null) known = this._stored(userId);
      this.seqUser = userId;
      if (known === null || known > serverSeq) {
        // First visit in this tab (the page loads its state over HTTP), or the server's
        // log was reset: start from now.
        this._remember(serverSeq);
      } else {
        this.lastSeq = known;
        if (known < serverSeq) this._resume();
      }
    } else {
      this.seqUser = null;
      this.lastSeq = null;
    }
    this._emit("hello", { user: this.user, previousUser: previous, seq: serverSeq });
  }

  _resync() {
    // The server lost live events on the way (its channel layer went down): fetch what a
    // reconnect would. A resume in flight may have been read before the loss.
    this._watchAgain();
    if (this.resuming) this.resumeAgain = true;
    else this._resume();
  }

  _watchAgain() {
    for (const [course, present] of this.watched) this.send(watchFrame(course, present));
  }

  _resume() {
    if (this.lastSeq === null) return;
    this.resuming = this.send({ type: "resume", after: this.lastSeq });
  }

  _event(frame) {
    if (this.lastSeq === null) {
      this._emit(frame.type, frame); // not signed in: nothing to order against
      return;
    }
    if (frame.seq <= this.lastSeq) return; // seen already (live and again by a resume)
    if (frame.seq > this.lastSeq + 1) {
      // A hole: the channel layer dropped something. The event log has it; fetch the
      // run in order (this frame included) rather than apply events out of order.
      if (!this.resuming) this._resume();
      return;
    }
    this._remember(frame.seq);
    this._emit(frame.type, frame);
    this._emit("event", frame);
  }

  _remember(seq) {
    this.lastSeq = seq;
    if (this.seqUser === null && this.user) this.seqUser = this.user.id;
    if (!this.storage || this.seqUser === null) return;
    try {
      this.storage.setItem(SEQ_KEY_PREFIX + this.seqUser, String(seq));
    } catch {
      /* storage full or disabled */
    }
  }

  _stored(userId) {
    if (!this.storage) return null;
    try {
      const raw = this.storage.getItem(SEQ_KEY_PREFIX + userId);
      if (raw === null) return null;
      const value = Number.parseInt(raw, 10);
      return Number.isSafeInteger(value) && value >= 0 ? value : null;
    } catch {
      return null;
    }
  }
}
