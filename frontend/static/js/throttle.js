// Leading and trailing throttle: the first call runs at once, then at most one run per
// `interval` ms, the last one with the latest arguments. Typing sends a search on
// (nearly) every keystroke without ever exceeding the socket's frame budget.
// `cancel()` drops a pending run, `flush()` runs it now, `pending()` tells.

export function throttle(fn, interval, { timers = globalThis, now = () => Date.now() } = {}) {
  let last = -Infinity;
  let handle = null;
  let pending = null;

  function run() {
    handle = null;
    const args = pending;
    pending = null;
    if (args) {
      last = now();
      fn(...args);
    }
  }

  function throttled(...args) {
    pending = args;
    if (handle !== null) return;
    const wait = last + interval - now();
    if (wait <= 0) run();
    else handle = timers.setTimeout(run, wait);
  }

  throttled.cancel = () => {
    if (handle !== null) timers.clearTimeout(handle);
    handle = null;
    pending = null;
  };

  throttled.flush = () => {
    if (handle === null) return;
    timers.clearTimeout(handle);
    run();
  };

  throttled.pending = () => handle !== null;

  return throttled;
}
