/**
 * At most `max` transactions outstanding per destination (RFC 8489 §6.2: 10 by default); the
 * rest wait in FIFO order and start as slots free up.
 */
export class OutstandingLimiter<T> {
  readonly #slots = new Map<string, { active: number; waiting: T[] }>();
  readonly max: number;

  constructor(max = 10) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('maxOutstanding must be an integer >= 1');
    this.max = max;
  }

  /** Takes a slot for `item` (returns true) or appends it to the destination's queue (false). */
  acquire(key: string, item: T): boolean {
    let s = this.#slots.get(key);
    if (s === undefined) {
      s = { active: 0, waiting: [] };
      this.#slots.set(key, s);
    }
    if (s.active < this.max) {
      s.active++;
      return true;
    }
    s.waiting.push(item);
    return false;
  }

  /**
   * Frees a slot at `key` and hands it to the next waiting item, which is returned (its slot
   * already taken); `undefined` when nobody waits.
   */
  release(key: string): T | undefined {
    const s = this.#slots.get(key);
    if (s === undefined) return undefined;
    const next = s.waiting.shift();
    if (next !== undefined) return next;
    s.active--;
    if (s.active <= 0) this.#slots.delete(key);
    return undefined;
  }

  /** Removes a waiting item (a queued transaction was cancelled). */
  dequeue(key: string, item: T): boolean {
    const s = this.#slots.get(key);
    const i = s?.waiting.indexOf(item) ?? -1;
    if (s === undefined || i < 0) return false;
    s.waiting.splice(i, 1);
    return true;
  }

  active(key: string): number {
    return this.#slots.get(key)?.active ?? 0;
  }

  waiting(key: string): number {
    return this.#slots.get(key)?.waiting.length ?? 0;
  }
}
