// Trailing-edge debounce: `fn` runs once, `wait` ms after the last call, with that call's
// arguments. `cancel()` drops a pending call; `flush()` runs it now.

export function debounce(fn, wait, { timers = globalThis } = {}) {
  let handle = null;
  let pending = null;

  function run() {
    handle = null;
    const args = pending;
    pending = null;
    if (args) fn(...args);
  }

  function debounced(...args) {
    pending = args;
    if (handle !== null) timers.clearTimeout(handle);
    handle = timers.setTimeout(run, wait);
  }

  debounced.cancel = () => {
    if (handle !== null) timers.clearTimeout(handle);
    handle = null;
    pending = null;
  };

  debounced.flush = () => {
    if (handle === null) return;
    timers.clearTimeout(handle);
    run();
  };

  debounced.pending = () => handle !== null;

  return debounced;
}
