import { boot, socketReady } from "../app.js";
import { mountInstructor } from "../instructor.js";

const { socket, user } = boot();
const dashboard = mountInstructor({ socket, user });
socketReady(socket).then(() => dashboard.load());
