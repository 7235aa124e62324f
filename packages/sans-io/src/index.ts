/**
 * The sans-IO contract every natkit machine speaks.
 *
 * A *machine* is a plain object with no I/O: it never opens a socket, reads a clock,
 * arms a timer, awaits a Promise or draws implicit randomness. A *driver* (io-node,
 * io-deno, netsim, a test, or a parent machine) moves bytes and time through it with
 * the five verbs of {@link Machine}. Because every layer speaks the same verbs,
 * machines nest: an ICE agent houses STUN transactions, a multiplexer houses agents.
 *
 * This package holds the contract's types plus the two data structures its nesting rule calls
 * for: {@link DeadlineHeap} (a parent keeps its children's deadlines in one priority queue) and
 * {@link Fifo} (the queue a parent collects its children's output in, drained after every
 * datagram without an allocation). It has no dependencies, so drivers can depend on the
 * contract without depending on STUN.
 */

/** An IP transport address. `address` is a textual IPv4 (`192.0.2.1`) or IPv6 (`2001:db8::1`) address. */
export interface SocketAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** One datagram a machine wants sent. */
export interface Transmit {
  /** Which local socket/candidate to send from; absent when the driver has only one. */
  source?: SocketAddress;
  destination: SocketAddress;
  /**
   * The datagram. Drivers send it before the next call into the machine; a machine may
   * reuse the underlying buffer after that, so a driver that queues must copy.
   */
  payload: Uint8Array;
}

/**
 * The five verbs.
 *
 * Rules (see the repository's design notes):
 * - `now` is monotonic milliseconds from the driver (`performance.now()` in drivers, a number in tests).
 * - After `handleTimeout(t)`, `pollTimeout()` is `undefined` or `> t`: no busy loops.
 * - A machine never throws on network input: bad datagrams are dropped and counted or answered per the RFC.
 *   Throws are for programmer errors only.
 * - Output is pulled and bounded; a machine says what it dropped.
 */
export interface Machine<Event = unknown> {
  /**
   * A datagram arrived from `from` at `now`. `to` is the local address it arrived on,
   * when the driver knows it (multi-homed hosts, netsim).
   * A machine may return a verdict; drivers ignore it.
   */
  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): unknown;
  /** The next datagram to send, or `undefined` when there is none right now. */
  pollTransmit(): Transmit | undefined;
  /** Absolute time (on the caller's clock) at which `handleTimeout` is next due, or `undefined`. */
  pollTimeout(): number | undefined;
  /** Time has reached `now`: run whatever timers are due. */
  handleTimeout(now: number): void;
  /** The next event, or `undefined`. Events are discriminated unions with a `type` field. */
  pollEvent(): Event | undefined;
}

/**
 * Fills `bytes` with cryptographically strong random values. Machines take one of these
 * instead of calling `crypto.getRandomValues` themselves, so tests can make them deterministic.
 */
export type RandomSource = (bytes: Uint8Array) => void;

/** The event type a machine emits. */
export type EventOf<M> = M extends Machine<infer E> ? E : never;

export { type DeadlineEntry, DeadlineHeap } from './deadline-heap.ts';
export { Fifo } from './fifo.ts';
