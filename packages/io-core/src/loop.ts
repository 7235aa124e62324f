// Runtime-agnostic: no `node:*` imports, no Deno globals (io-deno runs it unchanged).
import type { Machine, SocketAddress } from '@natkit/sans-io';
import { type DriverEvent, type DriverStats, EventStream, type MachinePhase, newStats } from './events.ts';

/** What a driver core needs from its runtime. */
export interface Platform {
  /** Monotonic milliseconds (`performance.now()`). */
  now(): number;
  /**
   * Send one datagram. Must not throw: failures are reported through `DriverCore.sendError`.
   * `payload` belongs to the machine and may be reused as soon as this returns, so an
   * implementation whose send completes later must copy it first.
   */
  send(payload: Uint8Array, destination: SocketAddress): void;
  /** Run `fn` once, after pending I/O has had a chance to run (`setImmediate` on Node). */
  yieldToIo(fn: () => void): unknown;
  cancelYield(handle: unknown): void;
}

/** Options shared by every driver. */
export interface DriverOptions<E> {
  /** Receives every event synchronously, as it happens. */
  onEvent?: (event: DriverEvent<E>) => void;
  /**
   * Transmits plus events drained from the machine in one turn before the driver yields to I/O
   * and continues (a machine that never stops producing output cannot starve the socket). Default 256.
   */
  budget?: number;
  /** Events each async iterator buffers for a slow consumer before dropping the oldest. Default 1024. */
  eventBuffer?: number;
}

/** The single wake-up a driver has pending: at most one exists at any time. */
type Wakeup =
  | { kind: 'none' }
  /** A timer armed for the machine's `pollTimeout()`. */
  | { kind: 'timer'; handle: ReturnType<typeof setTimeout>; deadline: number }
  /** The deadline is already due: run after yielding to I/O. */
  | { kind: 'due'; handle: unknown }
  /** The machine broke the no-busy-loop rule: retry after yielding (after a 1 ms timer when it persists). */
  | { kind: 'busy'; handle: unknown; timer: boolean }
  /** A flush ran out of budget: continue after yielding. */
  | { kind: 'budget'; handle: unknown };

const NONE: Wakeup = { kind: 'none' };

/** setTimeout's delay is a signed 32-bit number of ms; longer delays fire at once. Re-arm instead. */
const MAX_DELAY = 0x7fffffff;

/** Consecutive busy-loop violations after which retries wait a 1 ms timer instead of just yielding. */
const BUSY_THROTTLE_AFTER = 64;

interface Waiter<E> {
  match: (event: DriverEvent<E>) => boolean;
  resolve: (event: DriverEvent<E>) => void;
  reject: (reason: unknown) => void;
}

/**
 * The part of a driver that does not depend on the runtime: feeding datagrams and time into a
 * machine, draining its transmits and events, keeping exactly one wake-up armed, and fanning
 * events out to a callback, async iterators and `waitFor` promises.
 */
export class DriverCore<E> {
  readonly machine: Machine<E>;
  readonly stats: DriverStats = newStats();
  readonly #platform: Platform;
  readonly #onEvent: ((event: DriverEvent<E>) => void) | undefined;
  readonly #budget: number;
  readonly #eventBuffer: number;
  readonly #streams = new Set<EventStream<E>>();
  readonly #waiters = new Set<Waiter<E>>();
  #wakeup: Wakeup = NONE;
  #closed = false;
  /** Re-entrancy: a listener that calls back into the driver while a flush runs. */
  #flushing = false;
  #dirty = false;
  #violations = 0;

  constructor(machine: Machine<E>, platform: Platform, options: DriverOptions<E> = {}) {
    this.machine = machine;
    this.#platform = platform;
    this.#onEvent = options.onEvent;
    this.#budget = Math.max(1, options.budget ?? 256);
    this.#eventBuffer = Math.max(1, options.eventBuffer ?? 1024);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The deadline the armed timer waits for, or `undefined` when no timer is armed. */
  get timerDeadline(): number | undefined {
    return this.#wakeup.kind === 'timer' ? this.#wakeup.deadline : undefined;
  }

  /** A datagram arrived. `payload` is handed to the machine as is (no copy). */
  input(payload: Uint8Array, from: SocketAddress, to: SocketAddress | undefined): void {
    if (this.#closed) return;
    this.stats.datagramsIn++;
    this.stats.bytesIn += payload.byteLength;
    const now = this.#platform.now();
    try {
      this.machine.handleInput(payload, from, now, to);
    } catch (error) {
      // A machine must not throw on network input; when it does (a bug), drop the datagram and go on.
      this.#machineError('handleInput', error, from);
    }
    this.flush();
  }

  /** Drain transmits and events, then re-arm the wake-up. Call after poking the machine directly. */
  flush(): void {
    this.#flush(undefined);
  }

  #flush(afterTimeout: number | undefined): void {
    if (this.#closed) return;
    if (this.#flushing) {
      this.#dirty = true;
      return;
    }
    this.#flushing = true;
    try {
      let budget = this.#budget;
      do {
        this.#dirty = false;
        budget = this.#drain(budget);
        if (budget < 0) {
          this.#schedule({ kind: 'budget', handle: this.#platform.yieldToIo(this.#fire) });
          this.stats.budgetYields++;
          return;
        }
        if (this.#closed) return;
      } while (this.#dirty);
      this.#arm(afterTimeout);
    } finally {
      this.#flushing = false;
    }
  }

  /** Returns the budget left, or -1 when it ran out with output possibly pending. */
  #drain(budget: number): number {
    const machine = this.machine;
    for (;;) {
      if (this.#closed) return budget;
      if (budget-- === 0) return -1;
      let transmit: ReturnType<Machine<E>['pollTransmit']>;
      try {
        transmit = machine.pollTransmit();
      } catch (error) {
        this.#machineError('pollTransmit', error, undefined);
        break;
      }
      if (transmit === undefined) break;
      this.stats.datagramsOut++;
      this.stats.bytesOut += transmit.payload.byteLength;
      this.#platform.send(transmit.payload, transmit.destination);
    }
    for (;;) {
      if (this.#closed) return budget;
      if (budget-- === 0) return -1;
      let event: E | undefined;
      try {
        event = machine.pollEvent();
      } catch (error) {
        this.#machineError('pollEvent', error, undefined);
        break;
      }
      if (event === undefined) break;
      this.#emit({ type: 'machine', event });
    }
    return budget;
  }

  /**
   * Keep exactly one wake-up armed for `pollTimeout()`. `afterTimeout` is the `now` of a
   * `handleTimeout` that just ran: a deadline at or before it breaks the no-busy-loop rule.
   */
  #arm(afterTimeout: number | undefined): void {
    let deadline: number | undefined;
    try {
      deadline = this.machine.pollTimeout();
    } catch (error) {
      this.#machineError('pollTimeout', error, undefined);
      deadline = undefined;
    }
    if (deadline !== undefined && (typeof deadline !== 'number' || Number.isNaN(deadline))) {
      this.#emit({ type: 'bad-timeout', value: deadline });
      deadline = undefined;
    }
    if (this.#closed) return;
    if (deadline === undefined || deadline === Number.POSITIVE_INFINITY) {
      this.#schedule(NONE);
      return;
    }
    if (afterTimeout !== undefined) {
      if (deadline <= afterTimeout) {
        // The machine asked again for a time that has already been handled. Never spin
        // synchronously: let the socket and other tasks run first, and count it.
        this.stats.busyLoopYields++;
        this.#violations++;
        const throttle = this.#violations > BUSY_THROTTLE_AFTER;
        const handle = throttle ? setTimeout(this.#fire, 1) : this.#platform.yieldToIo(this.#fire);
        this.#schedule({ kind: 'busy', handle, timer: throttle });
        return;
      }
      this.#violations = 0;
    }
    const current = this.#wakeup;
    if (current.kind === 'timer' && current.deadline === deadline) return;
    const delay = deadline - this.#platform.now();
    if (delay <= 0) {
      if (current.kind === 'due') return;
      this.#schedule({ kind: 'due', handle: this.#platform.yieldToIo(this.#fire) });
      return;
    }
    const handle = setTimeout(this.#fire, Math.min(Math.ceil(delay), MAX_DELAY));
    this.#schedule({ kind: 'timer', handle, deadline });
  }

  /** Replace the pending wake-up (cancelling the old one), so there is never more than one. */
  #schedule(next: Wakeup): void {
    const current = this.#wakeup;
    switch (current.kind) {
      case 'none':
        break;
      case 'timer':
        clearTimeout(current.handle);
        break;
      case 'busy':
        if (current.timer) clearTimeout(current.handle as ReturnType<typeof setTimeout>);
        else this.#platform.cancelYield(current.handle);
        break;
      case 'due':
      case 'budget':
        this.#platform.cancelYield(current.handle);
        break;
      default: {
        const unreachable: never = current;
        throw new Error(`unknown wake-up ${String(unreachable)}`);
      }
    }
    this.#wakeup = next;
  }

  /** The one wake-up fired: run the machine's timers if they are due, then flush. */
  readonly #fire = (): void => {
    this.#wakeup = NONE;
    if (this.#closed) return;
    const now = this.#platform.now();
    let deadline: number | undefined;
    try {
      deadline = this.machine.pollTimeout();
    } catch (error) {
      this.#machineError('pollTimeout', error, undefined);
      deadline = undefined;
    }
    // Timers may fire a little early (ms granularity) and the deadline may have moved since it
    // was armed: only call handleTimeout when the deadline has really been reached.
    if (typeof deadline !== 'number' || !(deadline <= now)) {
      this.#flush(undefined);
      return;
    }
    this.stats.timeouts++;
    try {
      this.machine.handleTimeout(now);
    } catch (error) {
      this.#machineError('handleTimeout', error, undefined);
    }
    this.#flush(now);
  };

  #machineError(phase: MachinePhase, error: unknown, from: SocketAddress | undefined): void {
    this.stats.machineErrors++;
    this.#emit({ type: 'machine-error', phase, error, from });
  }

  /** The socket failed to send a datagram. */
  sendError(error: unknown, code: string | undefined, destination: SocketAddress, bytes: number): void {
    if (this.#closed) return;
    this.stats.sendErrors++;
    this.#emit({ type: 'send-error', code, error, destination, bytes });
  }

  /** The socket reported an error; the loop keeps running. */
  socketError(error: unknown, code: string | undefined): void {
    if (this.#closed) return;
    this.stats.socketErrors++;
    this.#emit({ type: 'socket-error', code, error });
  }

  #emit(event: DriverEvent<E>): void {
    const onEvent = this.#onEvent;
    if (onEvent !== undefined) {
      try {
        onEvent(event);
      } catch (error) {
        this.stats.listenerErrors++;
        const listenerError: DriverEvent<E> = { type: 'listener-error', error };
        for (const stream of this.#streams) stream.push(listenerError);
      }
    }
    for (const stream of this.#streams) stream.push(event);
    for (const waiter of this.#waiters) {
      let matched = false;
      try {
        matched = waiter.match(event);
      } catch (error) {
        this.#waiters.delete(waiter);
        waiter.reject(error);
        continue;
      }
      if (matched) {
        this.#waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  }

  /** An async iterator over events from now on (each call makes an independent one). */
  events(): EventStream<E> {
    const stream = new EventStream<E>(
      this.#eventBuffer,
      () => {
        this.stats.eventsDropped++;
      },
      (s) => {
        this.#streams.delete(s);
      },
    );
    if (this.#closed) stream.end();
    else this.#streams.add(stream);
    return stream;
  }

  /**
   * The first event from now on that `match` accepts. Rejects when the driver closes first,
   * when `signal` aborts, or when `match` throws.
   */
  waitFor<T extends DriverEvent<E>>(
    match: ((event: DriverEvent<E>) => event is T) | ((event: DriverEvent<E>) => boolean),
    signal?: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      if (this.#closed) {
        reject(new Error('driver is closed'));
        return;
      }
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter<E> = {
        match,
        resolve: (event) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(event as T);
        },
        reject: (reason) => {
          signal?.removeEventListener('abort', onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Stop: cancel the wake-up, emit `closed`, finish iterators. Returns false when already closed. */
  close(reason: 'close' | 'socket-closed'): boolean {
    if (this.#closed) return false;
    this.#schedule(NONE);
    this.#closed = true;
    this.#emit({ type: 'closed', reason });
    for (const stream of this.#streams) stream.end();
    this.#streams.clear();
    for (const waiter of this.#waiters) waiter.reject(new Error('driver closed before the awaited event'));
    this.#waiters.clear();
    return true;
  }
}
