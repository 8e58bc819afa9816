import { boot, socketReady } from "../app.js";
import { mountDashboard } from "../dashboard.js";
import { mountMyWaitlists } from "../mywaitlists.js";

const { socket, user } = boot();
const dashboard = mountDashboard({ socket, user });
// Read the state after the socket's starting seq, so every later event applies on top.
const waitlists = mountMyWaitlists({ socket });
socketReady(socket).then(() => {
  dashboard.load();
  waitlists.load();
});
