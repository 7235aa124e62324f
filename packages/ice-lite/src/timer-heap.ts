/**
 * An indexed binary min-heap of deadlines: each entry knows its slot, so moving or removing a
 * child's deadline is O(log n) and the heap never holds stale entries (design.md: one priority
 * queue per parent, O(log n) per packet and per timeout).
 */
export interface HeapEntry {
  /** Absolute deadline (ms); meaningful only while `index >= 0`. */
  deadline: number;
  /** Slot in the heap, -1 when not scheduled. */
  index: number;
}

export class TimerHeap<E extends HeapEntry> {
  #items: E[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The entry with the earliest deadline. */
  peek(): E | undefined {
    return this.#items[0];
  }

  /** Schedules `e` at `deadline`, or unschedules it when `deadline` is undefined. */
  set(e: E, deadline: number | undefined): void {
    if (deadline === undefined) {
      if (e.index >= 0) this.#remove(e);
      return;
    }
    if (e.index < 0) {
      e.deadline = deadline;
      e.index = this.#items.length;
      this.#items.push(e);
      this.#up(e.index);
    } else if (deadline !== e.deadline) {
      const earlier = deadline < e.deadline;
      e.deadline = deadline;
      if (earlier) this.#up(e.index);
      else this.#down(e.index);
    }
  }

  #remove(e: E): void {
    const items = this.#items;
    const i = e.index;
    const last = items.pop()!;
    e.index = -1;
    if (last === e) return;
    items[i] = last;
    last.index = i;
    this.#up(i);
    this.#down(last.index);
  }

  #up(i: number): void {
    const items = this.#items;
    const e = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (parent.deadline <= e.deadline) break;
      items[i] = parent;
      parent.index = i;
      i = p;
    }
    items[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const e = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && items[r]!.deadline < items[l]!.deadline ? r : l;
      const child = items[c]!;
      if (child.deadline >= e.deadline) break;
      items[i] = child;
      child.index = i;
      i = c;
    }
    items[i] = e;
    e.index = i;
  }
}
