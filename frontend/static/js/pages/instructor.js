import { boot, socketReady } from "../app.js";
import { mountInstructor } from "../instructor.js";
import { mountSeatsBoard } from "../seatsboard.js";

const { socket, user } = boot();
const dashboard = mountInstructor({ socket, user });
const board = mountSeatsBoard({ socket });
socketReady(socket).then(() => {
  dashboard.load();
  board.load();
});
