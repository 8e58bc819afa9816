// Reordering a list (the builder's modules, a module's lessons) three ways: the Move up /
// Move down buttons, the keyboard on an item's handle (arrow keys, Home, End), and drag and
// drop (HTML5 drag events). Every move is shown at once, announced through the page's live
// region ("Moved Intro to position 2 of 4"), and saved as a 1-based `position`; a refused
// save puts the item back and says so.

export function moveItem(items, from, to) {
  const copy = [...items];
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item);
  return copy;
}

// The index a key on the item at `index` moves it to, or null (not a move key, or no move).
export function keyTarget(key, index, count) {
  const target = { ArrowUp: index - 1, ArrowDown: index + 1, Home: 0, End: count - 1 }[key];
  if (target === undefined || target < 0 || target >= count || target === index) return null;
  return target;
}

// Where an item dragged from `from` lands when dropped on the item at `over`, in its upper
// half (after = false) or lower half (after = true): the index it takes once it left `from`.
export function dropTarget(from, over, after) {
  const slot = after ? over + 1 : over; // the gap it is dropped into, counting `from`
  return slot > from ? slot - 1 : slot;
}

export const positionOf = (index) => index + 1;

export function moveAnnouncement(title, index, count) {
  return `Moved ${title} to position ${positionOf(index)} of ${count}`;
}

// One reorderable list's state: an optimistic move, then `persist(item, position)`; when
// that fails the order goes back. `render(items, moved)` redraws; `announce(text)` speaks.
export class ReorderList {
  constructor({ items, title = (item) => item.title, persist, render = () => {}, announce = () => {} }) {
    this.items = [...items];
    this.title = title;
    this.persist = persist;
    this.render = render;
    this.announce = announce;
    this.busy = false;
  }

  async move(from, to) {
    if (this.busy || from === to || to < 0 || to >= this.items.length || from < 0 || from >= this.items.length) return false;
    const before = this.items;
    const item = before[from];
    this.items = moveItem(before, from, to);
    this.render(this.items, item);
    this.announce(moveAnnouncement(this.title(item), to, this.items.length));
    this.busy = true;
    try {
      await this.persist(item, positionOf(to));
      return true;
    } catch (error) {
      this.items = before;
      this.render(this.items, item);
      const reason = String(error?.message || "the change was not saved").replace(/\.$/, "");
      this.announce(`Could not move ${this.title(item)}: ${reason}. It is back at position ${positionOf(from)}.`);
      throw error;
    } finally {
      this.busy = false;
    }
  }
}

// The item being dragged, whichever list it left: a lesson may be dropped into another
// module's list (dragover and drop fire on the list under the pointer).
let dragging = null; // { list, item, kind }

// The DOM side, by event delegation on `list`: its direct children matching
// `[data-reorder="<kind>"]` are the items; inside each, `[data-reorder-handle]` is the
// drag handle and keyboard control, `[data-move="up"|"down"]` the buttons.
// onMove(from, to) does the move (ReorderList.move); onLeave(from, "up"|"down", via), when
// given, is asked to move the first item up or the last one down out of the list (a lesson
// into the module before or after its own); onArrive(item, index, via), when given, takes
// an item of the same kind dropped here from another list, to become this list's
// item number `index` (0-based).
export function bindReorderable(list, kind, onMove, onLeave = null, onArrive = null) {
  const selector = `[data-reorder="${kind}"]`;
  const items = () => [...list.children].filter((child) => child.matches(selector));
  // The list's own item around `node` (lists nest: a module holds a list of lessons).
  const itemOf = (node) => {
    let item = node?.closest?.(selector) ?? null;
    while (item && item.parentElement !== list) item = item.parentElement?.closest(selector) ?? null;
    return item;
  };
  // A control belongs to the nearest item around it, whatever its kind.
  const ownItem = (control) => {
    const item = control?.closest("[data-reorder]");
    return item && item.matches(selector) && item.parentElement === list ? item : null;
  };
  // The drag in progress if this list may take it: its own item, or (with onArrive) an
  // item of its kind from another list.
  const acceptable = () => (dragging?.kind === kind && (dragging.list === list || onArrive) ? dragging : null);

  function clearMarks() {
    for (const item of items()) item.classList.remove("drop-before", "drop-after", "dragging");
    list.classList.remove("drop-into");
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest?.("[data-move]");
    const item = ownItem(button);
    if (!item) return;
    const all = items();
    const from = all.indexOf(item);
    const direction = button.dataset.move;
    const to = direction === "up" ? from - 1 : from + 1;
    if (to >= 0 && to < all.length) onMove(from, to, { via: "button", direction });
    else onLeave?.(from, direction, { via: "button", direction });
  });

  list.addEventListener("keydown", (event) => {
    const handle = event.target.closest?.("[data-reorder-handle]");
    const item = ownItem(handle);
    if (!item) return;
    const all = items();
    const from = all.indexOf(item);
    if (!["ArrowUp", "ArrowDown", "Home", "End"].includes(event.key)) return;
    event.preventDefault();
    const to = keyTarget(event.key, from, all.length);
    if (to !== null) onMove(from, to, { via: "keyboard" });
    else if (event.key === "ArrowUp" && from === 0) onLeave?.(from, "up", { via: "keyboard" });
    else if (event.key === "ArrowDown" && from === all.length - 1) onLeave?.(from, "down", { via: "keyboard" });
  });

  list.addEventListener("dragstart", (event) => {
    const handle = event.target.closest?.("[data-reorder-handle]");
    const item = ownItem(handle);
    if (!item) return;
    dragging = { list, item, kind };
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.id ?? "");
    event.dataTransfer.setDragImage?.(item, 16, 16);
  });

  const after = (event, item) => {
    const box = item.getBoundingClientRect();
    return event.clientY > box.top + box.height / 2;
  };

  list.addEventListener("dragover", (event) => {
    const drag = acceptable();
    if (!drag) return;
    const item = itemOf(event.target);
    const foreign = drag.list !== list;
    if (!item && !foreign) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    for (const other of items()) other.classList.remove("drop-before", "drop-after");
    list.classList.toggle("drop-into", foreign && !item);
    if (item && item !== drag.item) item.classList.add(after(event, item) ? "drop-after" : "drop-before");
  });

  list.addEventListener("dragleave", (event) => {
    if (!list.contains(event.relatedTarget)) clearMarks();
  });

  list.addEventListener("drop", (event) => {
    const drag = acceptable();
    if (!drag) return;
    const item = itemOf(event.target);
    const foreign = drag.list !== list;
    if (!item && !foreign) return;
    event.preventDefault();
    event.stopPropagation(); // the module list around a lesson list has nothing to do
    dragging = null;
    clearMarks();
    drag.item.classList.remove("dragging");
    const all = items();
    if (foreign) {
      const index = item ? all.indexOf(item) + (after(event, item) ? 1 : 0) : all.length;
      onArrive(drag.item, index, { via: "drag" });
      return;
    }
    const from = all.indexOf(drag.item);
    const to = dropTarget(from, all.indexOf(item), after(event, item));
    if (from !== to) onMove(from, to, { via: "drag" });
  });

  list.addEventListener("dragend", () => {
    dragging = null;
    clearMarks();
  });
}
