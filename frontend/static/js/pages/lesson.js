import { boot, socketReady } from "../app.js";
import { mountLesson } from "../lesson.js";

const { socket, user } = boot();
const lesson = mountLesson({ socket, user, root: document.getElementById("lesson-root") });
socketReady(socket).then(() => lesson.load());
