/**
 * A map from ufrag to a value that can be queried with the raw bytes of a USERNAME, so routing
 * a check costs no string: no allocation, and no hashing of a fresh string on every packet.
 *
 * ufrags are ice-chars (RFC 8445 §5.3: ALPHA / DIGIT / "+" / "/"), i.e. ASCII, so a ufrag's
 * UTF-16 code units are its bytes. Buckets are keyed by a 32-bit FNV-1a hash of those bytes
 * (a small integer key, which V8's `Map` handles without touching any string); a bucket is a
 * short chain because different ufrags may share a hash. Only the owner inserts ufrags (its own,
 * random ones), so a peer cannot grow a chain: it can only miss.
 */
export class UfragIndex<T> {
  readonly #buckets = new Map<number, Slot<T>>();
  #size = 0;

  /** Number of ufrags. */
  get size(): number {
    return this.#size;
  }

  /** The value for `ufrag`. */
  get(ufrag: string): T | undefined {
    for (let s = this.#buckets.get(hashString(ufrag)); s !== undefined; s = s.next)
      if (s.ufrag === ufrag) return s.value;
    return undefined;
  }

  /** The value for the ufrag spelled by `bytes[start..end)`; allocates nothing. */
  lookup(bytes: Uint8Array, start: number, end: number): T | undefined {
    let s = this.#buckets.get(hashBytes(bytes, start, end));
    for (; s !== undefined; s = s.next) {
      const u = s.ufrag;
      if (u.length !== end - start) continue;
      let i = 0;
      while (i < u.length && u.charCodeAt(i) === bytes[start + i]) i++;
      if (i === u.length) return s.value;
    }
    return undefined;
  }

  /** Sets the value for `ufrag` (replacing any). */
  set(ufrag: string, value: T): void {
    const h = hashString(ufrag);
    const head = this.#buckets.get(h);
    for (let s = head; s !== undefined; s = s.next) {
      if (s.ufrag === ufrag) {
        s.value = value;
        return;
      }
    }
    this.#buckets.set(h, { ufrag, value, next: head });
    this.#size++;
  }

  /**
   * Re-allocates the slot of `ufrag` with `value`, keeping the given string instance (equal to
   * the indexed one), so that slots re-homed at about the same time sit together in memory. The
   * router does this when an agent answers its first check: a lookup then reads the busy agents'
   * slots rather than slots scattered among those of idle agents. Returns whether `ufrag` was there.
   */
  rehome(ufrag: string, value: T): boolean {
    const h = hashString(ufrag);
    let prev: Slot<T> | undefined;
    for (let s = this.#buckets.get(h); s !== undefined; prev = s, s = s.next) {
      if (s.ufrag !== ufrag) continue;
      const fresh: Slot<T> = { ufrag, value, next: s.next };
      if (prev !== undefined) prev.next = fresh;
      else this.#buckets.set(h, fresh);
      return true;
    }
    return false;
  }

  /** Removes `ufrag`. Returns whether it was there. */
  delete(ufrag: string): boolean {
    const h = hashString(ufrag);
    let prev: Slot<T> | undefined;
    for (let s = this.#buckets.get(h); s !== undefined; prev = s, s = s.next) {
      if (s.ufrag !== ufrag) continue;
      if (prev !== undefined) prev.next = s.next;
      else if (s.next !== undefined) this.#buckets.set(h, s.next);
      else this.#buckets.delete(h);
      this.#size--;
      return true;
    }
    return false;
  }
}

interface Slot<T> {
  readonly ufrag: string;
  value: T;
  next: Slot<T> | undefined;
}

/**
 * FNV-1a over `bytes[start..end)`, cut to 30 bits: a V8 small integer (Smi), so a `Map` lookup
 * with it never boxes a number.
 */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h & 0x3fffffff;
}

/** {@link hashBytes} of a string's code units (the same value for an ASCII string and its bytes). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}
