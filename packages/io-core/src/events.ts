// Runtime-agnostic: no `node:*` imports, no Deno globals (io-deno runs it unchanged).
import type { SocketAddress } from '@natkit/sans-io';

/** Which call into the machine (or into the caller's listener) threw. */
export type MachinePhase = 'handleInput' | 'handleTimeout' | 'pollTransmit' | 'pollTimeout' | 'pollEvent';

/** Why the driver stopped. */
export type CloseReason = 'close' | 'socket-closed';

/**
 * Everything a driver reports: the machine's own events (wrapped, so their `type` can never
 * collide with the driver's) and the driver's events about the socket and the machine.
 */
export type DriverEvent<E> =
  /** An event the machine emitted through `pollEvent()`. */
  | { type: 'machine'; event: E }
  /**
   * The machine threw: a bug in the machine, never a network condition (the contract says
   * machines do not throw on input). The datagram being handled, if any, is dropped.
   */
  | { type: 'machine-error'; phase: MachinePhase; error: unknown; from: SocketAddress | undefined }
  /** `pollTimeout()` returned something that is not a finite number or `undefined` (treated as `undefined`). */
  | { type: 'bad-timeout'; value: unknown }
  /** A datagram could not be sent (EMSGSIZE, EHOSTUNREACH, socket closed, ...). */
  | {
      type: 'send-error';
      code: string | undefined;
      error: unknown;
      destination: SocketAddress;
      bytes: number;
    }
  /** The socket reported an error (e.g. an ICMP-induced ECONNREFUSED on a connected socket). The loop keeps running. */
  | { type: 'socket-error'; code: string | undefined; error: unknown }
  /** The `onEvent` callback threw. Delivered to async iterators only (never back to the callback). */
  | { type: 'listener-error'; error: unknown }
  /** The driver stopped; the last event. */
  | { type: 'closed'; reason: CloseReason };

/** Counters a driver keeps; read them from `driver.stats`. */
export interface DriverStats {
  /** Datagrams received and handed to the machine. */
  datagramsIn: number;
  bytesIn: number;
  /** Datagrams handed to the socket (a later `send-error` may still report one of them). */
  datagramsOut: number;
  bytesOut: number;
  /** Times `handleTimeout` was called. */
  timeouts: number;
  machineErrors: number;
  sendErrors: number;
  socketErrors: number;
  listenerErrors: number;
  /**
   * Times the machine asked, right after `handleTimeout(now)`, for a timeout at or before `now`
   * (a contract violation). The driver yields to I/O before each retry instead of spinning.
   */
  busyLoopYields: number;
  /** Times a flush hit its per-turn budget of transmits/events and yielded to I/O before continuing. */
  budgetYields: number;
  /** Events an async iterator dropped because its consumer fell behind (oldest first). */
  eventsDropped: number;
}

export function newStats(): DriverStats {
  return {
    datagramsIn: 0,
    bytesIn: 0,
    datagramsOut: 0,
    bytesOut: 0,
    timeouts: 0,
    machineErrors: 0,
    sendErrors: 0,
    socketErrors: 0,
    listenerErrors: 0,
    busyLoopYields: 0,
    budgetYields: 0,
    eventsDropped: 0,
  };
}

/** The `code` of an error (`EMSGSIZE`, `ECONNREFUSED`, ...), or its name when it has none. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (typeof code === 'string') return code;
  return typeof name === 'string' ? name : undefined;
}

/**
 * One async iterator over a driver's events. It buffers from the moment it is created, at most
 * `limit` events (dropping the oldest and counting them), and finishes after the `closed` event.
 */
export class EventStream<E> implements AsyncIterableIterator<DriverEvent<E>> {
  readonly #queue: DriverEvent<E>[] = [];
  readonly #limit: number;
  readonly #onDrop: () => void;
  readonly #onDetach: (stream: EventStream<E>) => void;
  #waiter: ((result: IteratorResult<DriverEvent<E>>) => void) | undefined;
  #ended = false;

  constructor(limit: number, onDrop: () => void, onDetach: (stream: EventStream<E>) => void) {
    this.#limit = limit;
    this.#onDrop = onDrop;
    this.#onDetach = onDetach;
  }

  /** Called by the driver for each event. */
  push(event: DriverEvent<E>): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter({ value: event, done: false });
      return;
    }
    if (this.#queue.length >= this.#limit) {
      this.#queue.shift();
      this.#onDrop();
    }
    this.#queue.push(event);
  }

  /** Called by the driver after the `closed` event: the iterator finishes once its queue is drained. */
  end(): void {
    this.#ended = true;
    const waiter = this.#waiter;
    if (waiter !== undefined && this.#queue.length === 0) {
      this.#waiter = undefined;
      waiter({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<DriverEvent<E>>> {
    const event = this.#queue.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** Stops buffering (a `break` out of `for await` calls this). */
  return(): Promise<IteratorResult<DriverEvent<E>>> {
    this.#ended = true;
    this.#queue.length = 0;
    this.#onDetach(this);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
