// fetch() for the portal's JSON API: same-origin credentials, the CSRF token on unsafe
// methods (read from the cookie on every call: Django rotates it at sign-in), and the
// contract's error shape turned into an ApiError.

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export class ApiError extends Error {
  constructor(status, error = {}, { retryAfter = null } = {}) {
    super(error.message || `Request failed (${status}).`);
    this.name = "ApiError";
    this.status = status;
    this.code = error.code || (status === 0 ? "network" : "error");
    this.fields = error.fields || {};
    this.detail = error;
    this.retryAfter = retryAfter;
  }

  // Retrying the very same request may succeed (nothing was decided by the server).
  get retryable() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export function readCookie(name, cookies = globalThis.document?.cookie ?? "") {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export function csrfToken(cookies) {
  return readCookie("csrftoken", cookies);
}

// The contract's {"error": {...}} body (or anything else a proxy sent) as an ApiError.
export function errorFromBody(status, body, retryAfter = null) {
  const error = body && typeof body === "object" && body.error && typeof body.error === "object" ? body.error : null;
  const seconds = retryAfter === null || retryAfter === undefined ? null : Number.parseInt(retryAfter, 10);
  const retry = Number.isFinite(seconds) ? seconds : null;
  if (error) return new ApiError(status, error, { retryAfter: retry });
  const fallback = {
    400: "The request was not accepted.",
    401: "Please sign in first.",
    403: "You are not allowed to do that.",
    404: "Not found.",
    429: "Too many requests; wait a moment and try again.",
    502: "The server is unavailable; try again shortly.",
    503: "The server is unavailable; try again shortly.",
    504: "The server took too long to answer; try again.",
  }[status];
  return new ApiError(status, { message: fallback || `Something went wrong (${status}).` }, { retryAfter: retry });
}

// Field errors keyed by the API's dotted names ("student.email") → one message each.
export function fieldMessages(error) {
  const messages = {};
  for (const [name, value] of Object.entries(error?.fields ?? {})) {
    messages[name] = Array.isArray(value) ? value.join(" ") : String(value);
  }
  return messages;
}

export async function api(path, { method = "GET", body, headers = {}, signal, keepalive = false, fetchImpl = globalThis.fetch } = {}) {
  const verb = method.toUpperCase();
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(verb)) sent["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetchImpl(path, {
      method: verb,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
      keepalive,
    });
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    throw new ApiError(0, { code: "network", message: "Could not reach the server. Check your connection and try again." });
  }
  if (response.status === 204) return null;
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) throw errorFromBody(response.status, data, response.headers.get("Retry-After"));
  return data;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
