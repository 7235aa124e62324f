/**
 * What a client has learned about each server's message-integrity support, keyed like the
 * credential and RTO caches (`addressKey`: IP address and port, RFC 8489 §9.1.5 "same server").
 *
 * - Short-term (§9.1.5): after a request that carried both MESSAGE-INTEGRITY and
 *   MESSAGE-INTEGRITY-SHA256, the attribute of the first authenticated response is the only one
 *   later requests to that server send (and, by §9.1.4, the one their responses must carry).
 * - Long-term (§9.2.5): once a response from a server listed PASSWORD-ALGORITHMS, every later
 *   request to it uses MESSAGE-INTEGRITY-SHA256 only, so a challenge without the list is a bid-down.
 *
 * Bounded: past `limit` servers the oldest entry is forgotten (it falls back to sending both
 * attributes, or to accepting a challenge without PASSWORD-ALGORITHMS, for that server).
 */
export class IntegrityMemory {
  readonly #shortTerm = new Map<string, 'sha1' | 'sha256'>();
  readonly #passwordAlgorithms = new Set<string>();
  readonly #limit: number;

  constructor(limit = 4096) {
    this.#limit = limit;
  }

  /** The single integrity attribute to use with `server`, once learned. */
  shortTerm(server: string): 'sha1' | 'sha256' | undefined {
    return this.#shortTerm.get(server);
  }

  /** Records the attribute of the first authenticated response; later ones do not change it. */
  learnShortTerm(server: string, integrity: 'sha1' | 'sha256'): void {
    if (this.#shortTerm.has(server)) return;
    if (this.#shortTerm.size >= this.#limit) evictOldest(this.#shortTerm);
    this.#shortTerm.set(server, integrity);
  }

  /** Whether `server` has ever sent PASSWORD-ALGORITHMS. */
  sawPasswordAlgorithms(server: string): boolean {
    return this.#passwordAlgorithms.has(server);
  }

  notePasswordAlgorithms(server: string): void {
    if (this.#passwordAlgorithms.has(server)) return;
    if (this.#passwordAlgorithms.size >= this.#limit) evictOldest(this.#passwordAlgorithms);
    this.#passwordAlgorithms.add(server);
  }
}

/** Maps and sets iterate in insertion order: the first key is the oldest. */
function evictOldest(m: Map<string, unknown> | Set<string>): void {
  for (const k of m.keys()) {
    m.delete(k);
    return;
  }
}
