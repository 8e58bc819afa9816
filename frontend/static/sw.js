// The portal's service worker, served as /sw.js (scope "/") by frontend.views.service_worker,
// which writes CONFIG below: a version that changes with every file of the app shell, and
// the shell's URLs.
//
// What it keeps, so a lesson opened once is readable offline:
// - the app shell (stylesheet, ES modules, icons), precached at install, and any other
//   static file a page loads (network first, the cache when the network fails);
// - lesson pages (/learn/…) and the API answers a lesson page reads (the lesson, the
//   enrollment, the course outline, the progress), network first, in the user's cache.
// What it never keeps: media (video, audio, captions: their URLs are signed and expire;
// range requests), any other page or API answer, anything not a plain same-origin GET.
// The user's cache is deleted on sign-out and whenever a page finds another user (or none)
// signed in (app.js); this worker also deletes it when asked ("forget").

const CONFIG = { version: "unset", shell: [] }; // replaced when served

const SHELL_CACHE = `portal-shell-${CONFIG.version}`;
const USER_CACHE = "portal-user-data";
const USER_CACHE_LIMIT = 150;

const LESSON_PAGE = /^\/learn\/\d+(\/\d+)?\/?$/;
const LESSON_API = [
  /^\/api\/lessons\/\d+$/,
  /^\/api\/enrollments\/\d+$/,
  /^\/api\/enrollments\/\d+\/progress$/,
  /^\/api\/courses\/[-a-zA-Z0-9_]+$/,
];
const MEDIA_DESTINATIONS = new Set(["video", "audio", "track"]);
const MEDIA_EXTENSIONS = /\.(mp4|m4v|webm|ogv|mov|mp3|m4a|oga|ogg|wav|vtt|srt)$/i;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // One missing file must not keep the worker from installing.
      await Promise.all(CONFIG.shell.map((url) => cache.add(url).catch(() => undefined)));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("portal-shell-") && name !== SHELL_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "forget") {
    event.waitUntil(caches.delete(USER_CACHE));
  } else if (message.type === "remember" && Array.isArray(message.urls)) {
    // A page this worker did not control yet (the first visit) hands over what it read.
    event.waitUntil(Promise.all(message.urls.map(remember)));
  }
});

function isMedia(request, url) {
  return (
    MEDIA_DESTINATIONS.has(request.destination) ||
    request.headers.has("range") ||
    MEDIA_EXTENSIONS.test(url.pathname) ||
    url.pathname.startsWith("/media/")
  );
}

// Which cache an answer to this request may go to, or null: not kept.
function cacheFor(request, url) {
  if (request.method !== "GET" || url.origin !== self.location.origin) return null;
  if (isMedia(request, url) || url.pathname === "/sw.js") return null;
  if (url.pathname.startsWith("/static/")) return SHELL_CACHE;
  if (request.mode === "navigate") return LESSON_PAGE.test(url.pathname) && !url.search ? USER_CACHE : null;
  if (LESSON_API.some((pattern) => pattern.test(url.pathname)) && !url.search) return USER_CACHE;
  return null;
}

async function keep(cacheName, request, response) {
  // Only whole, successful, same-origin answers that may be stored.
  if (response.status !== 200 || response.type !== "basic" || response.redirected) return;
  const cache = await caches.open(cacheName);
  await cache.put(request, response);
  if (cacheName === USER_CACHE) {
    const keys = await cache.keys();
    for (const old of keys.slice(0, Math.max(0, keys.length - USER_CACHE_LIMIT))) await cache.delete(old);
  }
}

async function remember(path) {
  let url;
  try {
    url = new URL(path, self.location.origin);
  } catch {
    return;
  }
  const navigation = LESSON_PAGE.test(url.pathname);
  const request = new Request(url.href, { credentials: "same-origin", headers: navigation ? {} : { Accept: "application/json" } });
  const allowed = navigation ? (url.origin === self.location.origin && !url.search ? USER_CACHE : null) : cacheFor(request, url);
  if (allowed !== USER_CACHE) return;
  try {
    const response = await fetch(request);
    await keep(allowed, request, response);
  } catch {
    /* offline: nothing to remember */
  }
}

const OFFLINE_PAGE = (stylesheet) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Offline · Learning Portal</title>${stylesheet ? `<link rel="stylesheet" href="${stylesheet}">` : ""}</head>
<body><main id="main" class="container offline-page"><h1>You are offline</h1>
<p>This page has not been opened on this device yet, so it cannot be shown without a connection.
Lessons you have opened before can be read offline; your progress is saved when you are back online.</p>
<p><a class="button primary" href="/dashboard">My learning</a></p></main></body></html>`;

async function networkFirst(event, cacheName) {
  const { request } = event;
  try {
    const response = await fetch(request);
    event.waitUntil(keep(cacheName, request, response.clone()));
    return response;
  } catch (error) {
    const cached = await caches.match(request, { cacheName, ignoreVary: true });
    if (cached) return cached;
    if (request.mode === "navigate") {
      // A lesson page never opened here: say so instead of the browser's error page.
      const stylesheet = CONFIG.shell.find((url) => url.endsWith(".css"));
      return new Response(OFFLINE_PAGE(stylesheet), {
        status: 503,
        headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
      });
    }
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const cacheName = cacheFor(event.request, url);
  if (cacheName) event.respondWith(networkFirst(event, cacheName));
  // Anything else (other pages, media, other API calls, writes, other origins) goes to the
  // network untouched.
});
