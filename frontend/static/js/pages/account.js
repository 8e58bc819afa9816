// The account page (frontend/templates/frontend/account.html); visitors get the sign-in
// prompt and plain.js instead.

import { mountAccount } from "../account.js";
import { boot } from "../app.js";

const { socket } = boot();
const initialUser = JSON.parse(document.getElementById("account-user").textContent);
mountAccount({ socket, initialUser });
