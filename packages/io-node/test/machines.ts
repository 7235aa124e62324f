// Small hand-written machines that exercise a driver without any protocol package.
import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';

export type EchoEvent =
  | { type: 'received'; text: string; from: SocketAddress }
  | { type: 'timeout'; now: number };

/**
 * Echoes every datagram back to its sender through one reused buffer (like a real machine
 * that encodes into a builder), emits a `received` event per datagram, and optionally runs
 * a timer. A datagram `boom` makes it throw: a stand-in for a machine bug.
 */
export class EchoMachine implements Machine<EchoEvent> {
  readonly inputs: { payload: Uint8Array; now: number; to: SocketAddress | undefined }[] = [];
  readonly timeouts: number[] = [];
  deadline: number | undefined;
  #out: Transmit[] = [];
  #events: EchoEvent[] = [];
  readonly #buffer = new Uint8Array(2048);

  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): void {
    this.inputs.push({ payload, now, to });
    const text = new TextDecoder().decode(payload);
    if (text === 'boom') throw new Error('machine bug: boom');
    this.#buffer.set(payload);
    this.#out.push({ destination: from, payload: this.#buffer.subarray(0, payload.byteLength) });
    this.#events.push({ type: 'received', text, from });
  }

  /** Queue a datagram from outside (what a client's `start()` would do). */
  send(text: string, destination: SocketAddress): void {
    this.#out.push({ destination, payload: new TextEncoder().encode(text) });
  }

  pollTransmit(): Transmit | undefined {
    return this.#out.shift();
  }

  pollTimeout(): number | undefined {
    return this.deadline;
  }

  handleTimeout(now: number): void {
    if (this.deadline === undefined || now < this.deadline) return;
    this.timeouts.push(now);
    this.deadline = undefined;
    this.#events.push({ type: 'timeout', now });
  }

  pollEvent(): EchoEvent | undefined {
    return this.#events.shift();
  }
}

/** Breaks the no-busy-loop rule: its deadline is always 0, however often `handleTimeout` runs. */
export class BusyMachine implements Machine<never> {
  timeouts = 0;
  inputs = 0;
  handleInput(): void {
    this.inputs++;
  }
  pollTransmit(): undefined {
    return undefined;
  }
  pollTimeout(): number {
    return 0;
  }
  handleTimeout(): void {
    this.timeouts++;
  }
  pollEvent(): undefined {
    return undefined;
  }
}

/** Throws from the verb named in `throwIn` (once, or always), otherwise behaves like an echo machine. */
export class FaultyMachine extends EchoMachine {
  throwIn: 'pollTransmit' | 'pollEvent' | 'pollTimeout' | 'handleTimeout' | undefined;
  always = false;

  #maybeThrow(verb: FaultyMachine['throwIn']): void {
    if (this.throwIn !== verb) return;
    if (!this.always) this.throwIn = undefined;
    throw new Error(`machine bug in ${verb}`);
  }
  override pollTransmit(): Transmit | undefined {
    this.#maybeThrow('pollTransmit');
    return super.pollTransmit();
  }
  override pollEvent(): EchoEvent | undefined {
    this.#maybeThrow('pollEvent');
    return super.pollEvent();
  }
  override pollTimeout(): number | undefined {
    this.#maybeThrow('pollTimeout');
    return super.pollTimeout();
  }
  override handleTimeout(now: number): void {
    this.#maybeThrow('handleTimeout');
    super.handleTimeout(now);
  }
}

/** Once started, produces `count` datagrams to `destination` as fast as it is polled, and records inputs meanwhile. */
export class FloodMachine implements Machine<never> {
  sent = 0;
  /** How many datagrams had been produced when each input arrived. */
  readonly inputsAt: number[] = [];
  #remaining = 0;
  #destination: SocketAddress | undefined;
  readonly #payload = new Uint8Array(32);

  start(count: number, destination: SocketAddress): void {
    this.#remaining = count;
    this.#destination = destination;
  }
  handleInput(): void {
    this.inputsAt.push(this.sent);
  }
  pollTransmit(): Transmit | undefined {
    if (this.#remaining === 0 || this.#destination === undefined) return undefined;
    this.#remaining--;
    this.sent++;
    return { destination: this.#destination, payload: this.#payload };
  }
  pollTimeout(): undefined {
    return undefined;
  }
  handleTimeout(): void {}
  pollEvent(): undefined {
    return undefined;
  }
}

/** Sends one datagram of `size` bytes when asked. */
export class OneShotMachine implements Machine<never> {
  #out: Transmit[] = [];
  queue(size: number, destination: SocketAddress): void {
    this.#out.push({ destination, payload: new Uint8Array(size) });
  }
  handleInput(): void {}
  pollTransmit(): Transmit | undefined {
    return this.#out.shift();
  }
  pollTimeout(): undefined {
    return undefined;
  }
  handleTimeout(): void {}
  pollEvent(): undefined {
    return undefined;
  }
}

/** Sends `texts` to `destination`, encoding every one into the same buffer (as a builder would). */
export class ReusingMachine implements Machine<never> {
  readonly #buffer = new Uint8Array(64);
  #queue: string[] = [];
  #destination: SocketAddress | undefined;
  start(texts: string[], destination: SocketAddress): void {
    this.#queue = [...texts];
    this.#destination = destination;
  }
  handleInput(): void {}
  pollTransmit(): Transmit | undefined {
    const text = this.#queue.shift();
    if (text === undefined || this.#destination === undefined) return undefined;
    const { written } = new TextEncoder().encodeInto(text, this.#buffer);
    return { destination: this.#destination, payload: this.#buffer.subarray(0, written) };
  }
  pollTimeout(): undefined {
    return undefined;
  }
  handleTimeout(): void {}
  pollEvent(): undefined {
    return undefined;
  }
}
