import { type CandidatePair, type PairState, sortPairs } from './pair.ts';

/**
 * A full agent's checklist for its one data stream (RFC 8445 §6.1.2): pairs by descending
 * priority plus the triggered-check queue (§6.1.4.1). Pure bookkeeping — it sends nothing; the
 * agent asks it what to check next.
 */
export class Checklist {
  /** Pairs, highest priority first. */
  readonly pairs: CandidatePair[] = [];
  /** RFC 8445 §6.1.4.1: FIFO of pairs waiting for a triggered check. */
  #triggered: CandidatePair[] = [];
  /** RFC 8445 §6.1.2.5: cap on pairs. */
  readonly #max: number;

  constructor(maxPairs: number) {
    this.#max = maxPairs;
  }

  find(local: number, remote: number): CandidatePair | undefined {
    return this.pairs.find((p) => p.local === local && p.remote === remote);
  }

  /**
   * Inserts a pair by priority (RFC 8445 §6.1.2.3), then trims to the cap (§6.1.2.5). Its state
   * follows the trickle rule (RFC 8838 §12): Waiting if no pair of its foundation exists yet or
   * one already succeeded, Frozen otherwise. Returns the pair, or undefined if the cap dropped it.
   */
  add(local: number, remote: number, foundation: string, priority: bigint): CandidatePair | undefined {
    let seen = false;
    let succeeded = false;
    for (const p of this.pairs) {
      if (p.foundation !== foundation) continue;
      seen = true;
      if (p.state === 'succeeded') succeeded = true;
    }
    const pair: CandidatePair = {
      local,
      remote,
      foundation,
      priority,
      state: !seen || succeeded ? 'waiting' : 'frozen',
      queued: false,
      nominateOnSuccess: false,
      request: undefined,
    };
    let i = 0;
    while (i < this.pairs.length && this.pairs[i]!.priority >= priority) i++;
    this.pairs.splice(i, 0, pair);
    this.#trim();
    return this.pairs.includes(pair) ? pair : undefined;
  }

  /** Drops the lowest-priority idle pairs beyond the cap (never one being checked or valid). */
  #trim(): void {
    const pairs = this.pairs;
    for (let i = pairs.length - 1; i >= 0 && pairs.length > this.#max; i--) {
      const p = pairs[i]!;
      if (p.state === 'frozen' || p.state === 'waiting' || p.state === 'failed') {
        pairs.splice(i, 1);
        if (p.queued) this.#triggered.splice(this.#triggered.indexOf(p), 1);
      }
    }
  }

  /** Recomputes every priority (after a role switch, §6.1.2.3) and re-sorts. */
  reprioritize(priorityOf: (p: CandidatePair) => bigint): void {
    for (const p of this.pairs) p.priority = priorityOf(p);
    sortPairs(this.pairs);
  }

  /** RFC 8445 §7.3.1.4: the pair goes Waiting and into the triggered queue (once). */
  trigger(pair: CandidatePair): void {
    pair.state = 'waiting';
    if (!pair.queued) {
      pair.queued = true;
      this.#triggered.push(pair);
    }
  }

  /** Pops the first triggered pair that can still be checked. */
  nextTriggered(): CandidatePair | undefined {
    for (let p = this.#triggered.shift(); p !== undefined; p = this.#triggered.shift()) {
      p.queued = false;
      if (p.state !== 'in-progress' && p.state !== 'succeeded') return p;
    }
    return undefined;
  }

  hasTriggered(): boolean {
    return this.#triggered.some((p) => p.state !== 'in-progress' && p.state !== 'succeeded');
  }

  clearTriggered(): void {
    for (const p of this.#triggered) p.queued = false;
    this.#triggered = [];
  }

  /**
   * RFC 8445 §8.1.2: a pair was nominated, so the pairs still to be checked (Frozen, Waiting —
   * In-Progress ones were cancelled to Waiting by the caller) leave the checklist and the
   * triggered queue. Succeeded and Failed pairs stay, as the record of what was checked.
   */
  conclude(): void {
    this.clearTriggered();
    for (let i = this.pairs.length - 1; i >= 0; i--) {
      const state = this.pairs[i]!.state;
      if (state === 'frozen' || state === 'waiting') this.pairs.splice(i, 1);
    }
  }

  /**
   * RFC 8445 §6.1.4.2: the highest-priority Waiting pair; with none, the best Frozen pair whose
   * foundation has nothing Waiting or In-Progress (the others wait for those to finish).
   */
  nextOrdinary(): CandidatePair | undefined {
    const waiting = this.pairs.find((p) => p.state === 'waiting');
    if (waiting !== undefined) return waiting;
    return this.pairs.find(
      (p) =>
        p.state === 'frozen' &&
        !this.pairs.some(
          (q) => q.foundation === p.foundation && (q.state === 'waiting' || q.state === 'in-progress'),
        ),
    );
  }

  /** RFC 8445 §7.2.5.3.3: a success unfreezes the Frozen pairs of its foundation. */
  unfreeze(foundation: string): void {
    for (const p of this.pairs) if (p.state === 'frozen' && p.foundation === foundation) p.state = 'waiting';
  }

  /** The highest-priority Succeeded pair (the best valid pair). */
  bestValid(): CandidatePair | undefined {
    return this.pairs.find((p) => p.state === 'succeeded');
  }

  /** Whether a pair of higher priority than `than` may still succeed. */
  hasBetterPending(than: CandidatePair): boolean {
    return this.pairs.some(
      (p) =>
        p.priority > than.priority &&
        (p.state === 'waiting' || p.state === 'in-progress' || p.state === 'frozen'),
    );
  }

  /** Pairs that count for the RTO of a new check (RFC 8445 §14.3: Waiting + In-Progress). */
  activeCount(): number {
    let n = 0;
    for (const p of this.pairs) if (p.state === 'waiting' || p.state === 'in-progress') n++;
    return n;
  }

  /** Every pair in `state` (true for an empty list). */
  all(state: PairState): boolean {
    return this.pairs.every((p) => p.state === state);
  }
}
