/**
 * An indexed binary min-heap of deadlines: one entry per child machine, each entry knows its
 * own position, so moving a child's deadline (earlier or later), adding or removing a child
 * costs O(log n) and reading the earliest deadline is O(1). This is the one priority queue a
 * parent keeps for its children's `pollTimeout()` (design.md, "How machines nest"): a packet
 * or a timeout touches only the children it concerns, never a scan over all of them.
 */
export interface DeadlineEntry {
  /** Absolute deadline in ms; only meaningful while `heapIndex >= 0`. */
  deadline: number;
  /** Position in the heap array, or -1 when the entry is not in the heap. */
  heapIndex: number;
}

export class DeadlineHeap<T extends DeadlineEntry> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The entry with the earliest deadline, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Sets `entry`'s deadline, inserting, moving or (for `undefined`) removing it. */
  set(entry: T, deadline: number | undefined): void {
    if (deadline === undefined) {
      this.remove(entry);
      return;
    }
    if (entry.heapIndex < 0) {
      entry.deadline = deadline;
      entry.heapIndex = this.#items.length;
      this.#items.push(entry);
      this.#up(entry.heapIndex);
      return;
    }
    const before = entry.deadline;
    entry.deadline = deadline;
    if (deadline < before) this.#up(entry.heapIndex);
    else if (deadline > before) this.#down(entry.heapIndex);
  }

  remove(entry: T): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    const items = this.#items;
    const last = items.pop()!;
    entry.heapIndex = -1;
    if (last === entry) return;
    items[i] = last;
    last.heapIndex = i;
    this.#up(i);
    this.#down(last.heapIndex);
  }

  #up(i: number): void {
    const items = this.#items;
    const e = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (parent.deadline <= e.deadline) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = e;
    e.heapIndex = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const e = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && items[r]!.deadline < items[l]!.deadline) c = r;
      const child = items[c]!;
      if (child.deadline >= e.deadline) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = e;
    e.heapIndex = i;
  }
}
