/**
 * A first-in-first-out queue for the outputs a parent machine collects from its children
 * (ready children, events, transmits), drained after every datagram.
 *
 * A plain array with a read index would do, but emptying it with `array.length = 0` makes V8
 * drop the backing store, so the next datagram's first `push` allocates a new one: one
 * allocation per datagram for nothing. This keeps the array's capacity across drains (read
 * slots are cleared so the queue holds no stale references) and gives it up only after a
 * burst left it large.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  /** Items queued and not yet taken. */
  get size(): number {
    return this.#tail - this.#head;
  }

  push(item: T): void {
    this.#items[this.#tail++] = item;
  }

  /** The oldest item, without taking it. */
  peek(): T | undefined {
    return this.#head < this.#tail ? this.#items[this.#head] : undefined;
  }

  /** Takes the oldest item; `undefined` when empty. */
  shift(): T | undefined {
    if (this.#head === this.#tail) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#tail) this.#reset();
    return item;
  }

  /** Drops every item. */
  clear(): void {
    this.#items.fill(undefined, this.#head, this.#tail);
    this.#reset();
  }

  #reset(): void {
    this.#head = 0;
    this.#tail = 0;
    // Beyond a burst's worth, give the memory back (the one case a drop is worth its cost).
    if (this.#items.length > MAX_KEPT) this.#items = [];
  }
}

/** Slots kept across drains (4 B each with compressed pointers). */
const MAX_KEPT = 4096;
