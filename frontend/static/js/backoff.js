// Reconnect delays: exponential growth capped at `cap`, with "equal jitter" so that a
// server restart is not met by every tab reconnecting in the same instant.
// attempt 0 waits base/2..base, attempt 1 base..2·base, … never more than cap.

export const DEFAULT_BACKOFF = Object.freeze({ base: 500, cap: 15000 });

export function backoffCeiling(attempt, { base = DEFAULT_BACKOFF.base, cap = DEFAULT_BACKOFF.cap } = {}) {
  const n = Math.max(0, Math.floor(attempt));
  // 2 ** n overflows to Infinity for large n; Math.min keeps it at the cap.
  return Math.min(cap, base * 2 ** Math.min(n, 52));
}

export function backoffDelay(attempt, { base, cap, random = Math.random } = {}) {
  const ceiling = backoffCeiling(attempt, { base, cap });
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}
