// Pages with no data of their own: the header, the socket and its indicator.

import { boot } from "../app.js";

boot();
