// The certificate and receipt pages: rendered on the server (it verifies and prints without scripts);
// this adds the header's socket and a Print button.

import { boot } from "../app.js";

boot();
const print = document.getElementById("certificate-print");
if (print) {
  print.hidden = false;
  print.addEventListener("click", () => window.print());
}
