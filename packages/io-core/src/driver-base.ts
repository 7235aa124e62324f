// Runtime-agnostic: no `node:*` imports, no Deno globals (io-deno runs it unchanged).
import type { Machine, SocketAddress } from '@natkit/sans-io';
import type { DriverEvent, DriverStats, EventStream } from './events.ts';
import { DriverCore, type DriverOptions } from './loop.ts';

/** The events a machine `M` emits. */
export type EventOf<M> = M extends Machine<infer E> ? E : never;

/** Known wildcard bind addresses: a socket bound to one says nothing about where a datagram arrived. */
export const WILDCARD_ADDRESSES: ReadonlySet<string> = new Set(['0.0.0.0', '::']);

/**
 * The public face every socket driver shares: the machine, its counters, the clock, `flush`,
 * `update`, `events`, `waitFor`. A concrete driver supplies the three runtime pieces (how to
 * send, how to yield to I/O) and feeds received datagrams to {@link core}.
 *
 * Subclasses must not let the core send before their own fields exist: they call
 * `this.core.flush()` at the end of their constructor, not before.
 */
export abstract class DriverBase<M extends Machine<unknown>> {
  protected readonly core: DriverCore<EventOf<M>>;
  readonly #now: () => number;
  /** Set once, by the first {@link close} or {@link shutDown}: what every later call returns. */
  #closing: Promise<void> | undefined;

  protected constructor(machine: M, now: () => number, options: DriverOptions<EventOf<M>>) {
    this.#now = now;
    this.core = new DriverCore(
      machine as Machine<EventOf<M>>,
      {
        now,
        send: (payload, destination) => this.transmit(payload, destination),
        yieldToIo: (fn) => this.yieldToIo(fn),
        cancelYield: (handle) => this.cancelYield(handle),
      },
      options,
    );
  }

  /** Send one datagram; must not throw (report failures through `core.sendError`). See `Platform.send`. */
  protected abstract transmit(payload: Uint8Array, destination: SocketAddress): void;
  /** Run `fn` once after pending I/O has had its turn. */
  protected abstract yieldToIo(fn: () => void): unknown;
  protected abstract cancelYield(handle: unknown): void;

  /**
   * Release the socket after the core has closed; called once. `socket-closed`: the socket was
   * closed underneath the driver, so there is only bookkeeping left. Must not reject.
   */
  protected abstract release(reason: 'close' | 'socket-closed'): Promise<void>;

  /** The socket's local address, once bound. */
  abstract get localAddress(): SocketAddress | undefined;

  /**
   * Stop the loop, clear the timer, release the socket. Idempotent: every call returns the same
   * promise, which never rejects.
   */
  close(): Promise<void> {
    return this.shutDown('close');
  }

  /** Closes the core with `reason` and releases the socket, the first time only (see {@link close}). */
  protected shutDown(reason: 'close' | 'socket-closed'): Promise<void> {
    if (this.#closing === undefined) {
      this.core.close(reason);
      this.#closing = this.release(reason);
    }
    return this.#closing;
  }

  /** The machine this driver runs. */
  get machine(): M {
    return this.core.machine as M;
  }

  /** Counters: datagrams and bytes in/out, errors by kind, busy-loop and budget yields. */
  get stats(): Readonly<DriverStats> {
    return this.core.stats;
  }

  get closed(): boolean {
    return this.core.closed;
  }

  /** The deadline the one timer is armed for, or `undefined` (for tests and diagnostics). */
  get timerDeadline(): number | undefined {
    return this.core.timerDeadline;
  }

  /** The driver's clock (monotonic ms): pass it as `now` when calling the machine yourself. */
  now(): number {
    return this.#now();
  }

  /** Send whatever the machine has queued, deliver its events and re-arm its timer. */
  flush(): void {
    this.core.flush();
  }

  /** Run `fn` against the machine (e.g. to start a transaction), then {@link flush}. */
  update<R>(fn: (machine: M) => R): R {
    try {
      return fn(this.machine);
    } finally {
      this.core.flush();
    }
  }

  /** An async iterator over the events from now on; it ends after the `closed` event. */
  events(): EventStream<EventOf<M>> {
    return this.core.events();
  }

  /** The first event from now on that `match` accepts; rejects if the driver closes first or `signal` aborts. */
  waitFor<T extends DriverEvent<EventOf<M>>>(
    match: ((event: DriverEvent<EventOf<M>>) => event is T) | ((event: DriverEvent<EventOf<M>>) => boolean),
    signal?: AbortSignal,
  ): Promise<T> {
    return this.core.waitFor(match, signal);
  }
}
