// What every page shares: the signed-in user, the one socket, the connection indicator,
// the header's sign-out button, instructor notices (notices.js), and the service worker
// (offline lessons, installable app).

import { api } from "./api.js";
import { mountInstructorNotices } from "./notices.js";
import { mountVerifyBanner } from "./verifybanner.js";
import { claimOfflineData, forgetOfflineData, registerServiceWorker } from "./offline.js";
import { PortalSocket, socketUrl } from "./socket.js";
import { mountConnectionIndicator, pageUser, toast } from "./ui.js";

let booted = null;

export function boot() {
  if (booted) return booted;
  const user = pageUser();
  // Lessons kept for offline reading belong to one user: another's (or, signed out,
  // anyone's) are deleted before the worker keeps anything for this one.
  claimOfflineData(user?.id ?? null).finally(() => registerServiceWorker());
  const socket = new PortalSocket({
    url: socketUrl(),
    onGap: () => {
      toast("Some updates expired while you were away; reloading…", { tone: "warning" });
      setTimeout(() => location.reload(), 800);
    },
  });
  mountConnectionIndicator(socket);
  mountInstructorNotices({ socket, user, page: document.body.dataset.page, notify: toast });

  socket.on("hello", ({ user: socketUser, previousUser }) => {
    // The session ended or changed in another tab: this page's state belongs to someone
    // else now.
    if (previousUser !== undefined && (previousUser?.id ?? null) !== (socketUser?.id ?? null)) {
      location.reload();
    }
  });
  socket.on("error", (frame) => {
    if (frame.code === "throttled") toast("Slow down a little: too many requests.", { tone: "warning" });
  });

  window.addEventListener("online", () => socket.reconnectNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") socket.reconnectNow();
  });

  const signOut = document.getElementById("sign-out");
  signOut?.addEventListener("click", async () => {
    signOut.disabled = true;
    // Close this tab's socket first: logout closes the session's sockets, and a socket
    // reconnecting on the page being left would see an anonymous hello and reload that
    // page over the navigation home (or be cut mid-handshake by it).
    socket.close();
    try {
      await api("/api/auth/logout", { method: "POST" });
      await forgetOfflineData();
      location.assign("/");
    } catch (error) {
      signOut.disabled = false;
      socket.connect();
      toast(error.message, { tone: "error" });
    }
  });

  socket.connect();
  // Expose for debugging and the browser tests (read-only use).
  window.portal = { socket, user };
  if (user && !user.verified) mountVerifyBanner(user);
  booted = { user, socket };
  return booted;
}

// Resolves once the socket said hello (or after `timeout` ms if it cannot connect), so a
// page reads its HTTP state after the socket's starting seq: later events then apply on top.
export function socketReady(socket, timeout = 2500) {
  if (socket.user !== undefined && socket.live) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeout);
    const off = socket.on("hello", done);
    function done() {
      clearTimeout(timer);
      off();
      resolve();
    }
  });
}
