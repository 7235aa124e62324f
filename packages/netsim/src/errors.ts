/** What went wrong in a simulation. */
export type SimErrorKind =
  /** After `handleTimeout(now)` a machine's `pollTimeout()` stayed `<= now` (the contract says `> now`). */
  | 'busy-loop'
  /** A machine threw from one of its verbs (`cause` holds what it threw). */
  | 'machine-threw'
  /** Too many events at one instant without time moving (e.g. a zero-latency ping-pong), or endless output. */
  | 'stalled'
  /** `runUntil(predicate)` ran out of things to do before the predicate held. */
  | 'idle'
  /** `runUntil(predicate)` passed its virtual-time limit before the predicate held. */
  | 'timeout';

/** Thrown by `Sim.step`/`run*` when a machine breaks the contract or a run cannot finish. */
export class SimError extends Error {
  readonly kind: SimErrorKind;
  /** Virtual time it happened, ms. */
  readonly time: number;
  /** `host/endpoint` of the machine involved, if any. */
  readonly endpoint: string | undefined;

  constructor(kind: SimErrorKind, message: string, time: number, endpoint?: string, cause?: unknown) {
    super(`${kind} at t=${time}${endpoint ? ` in ${endpoint}` : ''}: ${message}`, { cause });
    this.name = 'SimError';
    this.kind = kind;
    this.time = time;
    this.endpoint = endpoint;
  }
}
