// Test doubles shared by the socket tests: a controllable WebSocket, timers and storage.

export class FakeTimers {
  constructor() {
    this.now = 0;
    this.nextId = 1;
    this.tasks = new Map(); // id → {at, fn, every}
  }

  setTimeout = (fn, ms = 0) => this.#add(fn, ms, null);
  setInterval = (fn, ms = 0) => this.#add(fn, ms, ms);
  clearTimeout = (id) => this.tasks.delete(id);
  clearInterval = (id) => this.tasks.delete(id);

  #add(fn, ms, every) {
    const id = this.nextId++;
    this.tasks.set(id, { at: this.now + ms, fn, every });
    return id;
  }

  // Run every task due within `ms`, in time order.
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let nextId = null;
      let next = null;
      for (const [id, task] of this.tasks) {
        if (task.at <= end && (next === null || task.at < next.at)) {
          next = task;
          nextId = id;
        }
      }
      if (next === null) break;
      this.now = next.at;
      if (next.every === null) this.tasks.delete(nextId);
      else next.at += Math.max(1, next.every);
      next.fn();
    }
    this.now = end;
  }

  pending() {
    return [...this.tasks.values()].filter((t) => t.every === null).map((t) => t.at - this.now);
  }
}

export class MemoryStorage {
  constructor(entries = {}) {
    this.map = new Map(Object.entries(entries));
  }
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
}

export function fakeWebSocketClass() {
  const instances = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closed = false;
      instances.push(this);
    }
    send(data) {
      if (this.closed) throw new Error("closed");
      this.sent.push(JSON.parse(data));
    }
    close() {
      this.closed = true;
    }
    // --- driven by the test ---
    open() {
      this.onopen?.({});
    }
    receive(frame) {
      this.onmessage?.({ data: JSON.stringify(frame) });
    }
    drop(code = 1006) {
      this.closed = true;
      this.onclose?.({ code });
    }
    frames(type) {
      return this.sent.filter((f) => f.type === type);
    }
  }
  FakeWebSocket.instances = instances;
  return FakeWebSocket;
}
