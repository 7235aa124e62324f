import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';

/** Wraps a machine and records where each datagram came from (the driver's view of the peer). */
export class RecordingMachine<E, M extends Machine<E>> implements Machine<E> {
  readonly inputs: SocketAddress[] = [];
  constructor(
    readonly inner: M,
    readonly onInput?: (from: SocketAddress) => void,
  ) {}
  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): unknown {
    this.inputs.push(from);
    this.onInput?.(from);
    return this.inner.handleInput(payload, from, now, to);
  }
  pollTransmit(): Transmit | undefined {
    return this.inner.pollTransmit();
  }
  pollTimeout(): number | undefined {
    return this.inner.pollTimeout();
  }
  handleTimeout(now: number): void {
    this.inner.handleTimeout(now);
  }
  pollEvent(): E | undefined {
    return this.inner.pollEvent();
  }
}
