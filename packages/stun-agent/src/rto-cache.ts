import { RttEstimator, type RttOptions } from './rtt.ts';

/**
 * Per-destination RTT state (RFC 8489 §6.2.1): the RTO learned from one transaction is the
 * starting RTO of the next to the same server, and is forgotten when no transaction has gone
 * to that server for `ttl` (10 minutes by default). Expiry is lazy — checked on access and by
 * an occasional sweep — so the cache needs no timer of its own.
 */
export class RtoCache {
  readonly #entries = new Map<string, { est: RttEstimator; lastUsed: number }>();
  readonly #options: RttOptions;
  readonly #ttl: number;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: RttOptions & { ttl?: number } = {}) {
    const { ttl, ...rtt } = options;
    this.#ttl = ttl ?? 600_000;
    this.#options = rtt;
    // Validate the options eagerly: a bad minRto/maxRto is a programmer error.
    new RttEstimator(rtt);
  }

  /** The starting RTO for a new transaction to `key` at `now` (marks the entry as used). */
  rto(key: string, now: number): number {
    const e = this.#live(key, now);
    if (e === undefined) return new RttEstimator(this.#options).rto;
    e.lastUsed = now;
    return e.est.rto;
  }

  /** The estimator for `key`, if one is cached and not expired (for inspection). */
  get(key: string, now: number): RttEstimator | undefined {
    return this.#live(key, now)?.est;
  }

  /** A valid RTT sample for `key` (a transaction answered without retransmission). */
  sample(key: string, rtt: number, now: number): number {
    return this.#entry(key, now).est.sample(rtt);
  }

  /** A transaction to `key` was answered only after retransmissions that backed the RTO off to `rto`. */
  backoff(key: string, rto: number, now: number): void {
    this.#entry(key, now).est.retainBackoff(rto);
  }

  /** Drop every entry idle for longer than the TTL. */
  sweep(now: number): void {
    this.#lastSweep = now;
    for (const [k, e] of this.#entries) if (now - e.lastUsed >= this.#ttl) this.#entries.delete(k);
  }

  get size(): number {
    return this.#entries.size;
  }

  #live(key: string, now: number) {
    const e = this.#entries.get(key);
    if (e !== undefined && now - e.lastUsed >= this.#ttl) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  #entry(key: string, now: number) {
    // Amortised cleanup: at most one full pass per TTL period keeps memory bounded by the
    // number of destinations used in the last two TTLs.
    if (now - this.#lastSweep >= this.#ttl) this.sweep(now);
    let e = this.#live(key, now);
    if (e === undefined) {
      e = { est: new RttEstimator(this.#options), lastUsed: now };
      this.#entries.set(key, e);
    }
    e.lastUsed = now;
    return e;
  }
}
