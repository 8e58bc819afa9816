import { boot, socketReady } from "../app.js";
import { mountDashboard } from "../dashboard.js";

const { socket, user } = boot();
const dashboard = mountDashboard({ socket, user });
// Read the state after the socket's starting seq, so every later event applies on top.
socketReady(socket).then(() => dashboard.load());
