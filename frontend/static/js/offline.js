// The page's side of the service worker (/sw.js): registering it, and keeping its cache of
// lesson pages and answers to the one user they belong to: deleted on sign-out and
// whenever a page finds another user, or nobody, signed in.

import { defaultStorage } from "./lessonstore.js";

export const USER_CACHE = "portal-user-data";
const OWNER_KEY = "portal.offline-owner";

// Whether this page was served through the worker (its navigation timing says so; the
// controller may have been claimed while the page loaded). On a first visit it was not,
// and the worker is then handed what the page read (rememberForOffline).
function servedByWorker(perf = globalThis.performance) {
  const navigation = perf?.getEntriesByType?.("navigation")?.[0];
  return Boolean(navigation && navigation.workerStart > 0);
}

export function registerServiceWorker(nav = globalThis.navigator) {
  if (!nav?.serviceWorker) return Promise.resolve(null);
  return nav.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => null);
}

export async function forgetOfflineData({ cachesApi = globalThis.caches, storage = defaultStorage(), nav = globalThis.navigator } = {}) {
  try {
    storage?.removeItem(OWNER_KEY);
  } catch {
    /* storage disabled */
  }
  nav?.serviceWorker?.controller?.postMessage({ type: "forget" });
  try {
    await cachesApi?.delete(USER_CACHE);
  } catch {
    /* no Cache API here (an insecure origin): nothing was kept */
  }
}

// Called by every page with the signed-in user's id (or null): another owner's data goes.
// The owner is written before anything is awaited, so the next page (the worker may already
// be keeping its answers) sees it; with no owner recorded nothing was kept since the last
// forget (a sign-out or a page without a user), so there is nothing to delete.
export async function claimOfflineData(userId, deps = {}) {
  const storage = deps.storage === undefined ? defaultStorage() : deps.storage;
  const current = userId ? String(userId) : null;
  let owner = null;
  try {
    owner = storage?.getItem(OWNER_KEY) ?? null;
    if (owner === current) return false;
    if (current) storage?.setItem(OWNER_KEY, current);
    else storage?.removeItem(OWNER_KEY);
  } catch {
    owner = undefined; // no storage to tell: whoever it was, nobody is signed in now
    if (current) return false;
  }
  if (owner === null) return false;
  await forgetOfflineData({ ...deps, storage: null });
  return true;
}

// A page the worker did not serve hands it the URLs it read, so it is readable offline
// from its first visit on.
export function rememberForOffline(urls, nav = globalThis.navigator, perf = globalThis.performance) {
  if (!nav?.serviceWorker || servedByWorker(perf)) return;
  nav.serviceWorker.ready.then((registration) => registration.active?.postMessage({ type: "remember", urls })).catch(() => {});
}
