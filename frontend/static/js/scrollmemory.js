// Where the page was scrolled, kept in its history entry (history.state.scrollY), so Back
// and reload come to the same place once the page has drawn its lists again: the browser's
// own restoration is turned off (it would jump before the results exist), the position is
// saved while scrolling, on leaving and on any link click, and `restore()` puts it back.

export function historyScroll(state) {
  const y = state && typeof state === "object" ? state.scrollY : undefined;
  return typeof y === "number" && Number.isFinite(y) && y >= 0 ? y : null;
}

export function mountScrollMemory({ win = globalThis.window, delay = 150 } = {}) {
  const history = win.history;
  if ("scrollRestoration" in history) history.scrollRestoration = "manual";
  const saved = historyScroll(history.state);
  let timer = null;

  const save = () => {
    clearTimeout(timer);
    timer = null;
    history.replaceState({ ...(history.state ?? {}), scrollY: Math.round(win.scrollY) }, "");
  };

  win.addEventListener("scroll", () => {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }, { passive: true });
  win.addEventListener("pagehide", save);
  win.document.addEventListener("click", (event) => {
    if (event.target instanceof win.Element && event.target.closest("a[href]")) save();
  }, true);

  return {
    // The position this page was left at (null on a fresh visit).
    saved,
    save,
    restore(y) {
      if (y === null || y === undefined) return;
      win.scrollTo(0, y);
    },
  };
}

// The URL changes and the entry keeps its scroll position.
export function replaceUrl(url, win = globalThis.window) {
  win.history.replaceState(win.history.state ?? {}, "", url);
}
