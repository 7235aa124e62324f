import type { Candidate } from './candidate.ts';

/** RFC 8445 §6.1.2.6: the state of one candidate pair in a checklist. */
export type PairState = 'frozen' | 'waiting' | 'in-progress' | 'succeeded' | 'failed';

/**
 * A candidate pair of a full agent's checklist (RFC 8445 §6.1.2). Refers to its candidates by
 * index into the agent's arrays (str0m style): no object graph to keep consistent.
 */
export interface CandidatePair {
  /** Index of the local (base) candidate. */
  readonly local: number;
  /** Index of the remote candidate. */
  readonly remote: number;
  /**
   * RFC 8445 §6.1.2.6: concatenation of the local and remote foundations. Changes once if the
   * remote candidate was peer-reflexive and the peer signals it later (§7.3.1.3).
   */
  foundation: string;
  /** RFC 8445 §6.1.2.3 (bigint: 63 bits); recomputed when the role changes. */
  priority: bigint;
  /** RFC 8445 §6.1.2.6. */
  state: PairState;
  /** Whether the pair sits in the triggered-check queue (§6.1.4.1). */
  queued: boolean;
  /** Controlled side: a USE-CANDIDATE arrived before the pair succeeded (§7.3.1.5). */
  nominateOnSuccess: boolean;
  /** Id of the StunClient request in flight for this pair. */
  request: string | undefined;
}

/** Sorts pairs by descending priority (RFC 8445 §6.1.2.3); stable for equal priorities. */
export function sortPairs(pairs: CandidatePair[]): void {
  pairs.sort((a, b) => (a.priority > b.priority ? -1 : a.priority < b.priority ? 1 : 0));
}

/** A candidate's priority as if it were peer-reflexive (RFC 8445 §7.1.1: the PRIORITY attribute). */
export function prflxPriority(local: Candidate): number {
  // Keep the local preference and component bits, swap the type preference for prflx's 110.
  return 110 * 16777216 + (local.priority % 16777216);
}
