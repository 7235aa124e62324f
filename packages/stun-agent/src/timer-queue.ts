/** A handle to one armed timer; `cancel()` is O(1) (the heap drops it lazily). */
export interface Timer<T> {
  readonly at: number;
  readonly item: T;
  cancelled: boolean;
}

interface Entry<T> extends Timer<T> {
  seq: number;
}

/**
 * The one timer table of a machine: a binary min-heap ordered by (time, insertion order), so
 * arming, cancelling and finding the next deadline cost O(log n) in the number of timers and
 * timers due at the same instant fire in the order they were armed.
 */
export class TimerQueue<T> {
  readonly #heap: Entry<T>[] = [];
  #seq = 0;

  arm(at: number, item: T): Timer<T> {
    const e: Entry<T> = { at, item, cancelled: false, seq: this.#seq++ };
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!less(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
    return e;
  }

  /** The earliest live deadline, or `undefined`. */
  next(): number | undefined {
    this.#prune();
    return this.#heap[0]?.at;
  }

  /** Removes and returns the earliest live timer due at or before `now`. */
  popDue(now: number): Timer<T> | undefined {
    this.#prune();
    const top = this.#heap[0];
    if (top === undefined || top.at > now) return undefined;
    this.#pop();
    return top;
  }

  /** Number of entries held, including cancelled ones not yet dropped. */
  get size(): number {
    return this.#heap.length;
  }

  #prune(): void {
    while (this.#heap[0]?.cancelled) this.#pop();
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && less(h[r]!, h[l]!) ? r : l;
      if (!less(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}

function less<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
