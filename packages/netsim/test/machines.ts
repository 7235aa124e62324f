// Tiny hand-written machines the tests drive through the network.
import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { formatSocketAddress, parseSocketAddress } from '../src/index.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export const text = (s: string): Uint8Array => enc.encode(s);
export const str = (b: Uint8Array): string => dec.decode(b);

export type PeerEvent = {
  type: 'received';
  from: SocketAddress;
  to: SocketAddress | undefined;
  text: string;
};

/** Sends what it is told to; reports every datagram it receives. */
export class Peer implements Machine<PeerEvent> {
  #out: Transmit[] = [];
  #events: PeerEvent[] = [];
  send(destination: SocketAddress, payload: Uint8Array | string, source?: SocketAddress): void {
    const bytes = typeof payload === 'string' ? text(payload) : payload;
    this.#out.push(source ? { source, destination, payload: bytes } : { destination, payload: bytes });
  }
  handleInput(payload: Uint8Array, from: SocketAddress, _now: number, to?: SocketAddress): void {
    this.#events.push({ type: 'received', from, to, text: str(payload) });
  }
  pollTransmit() {
    return this.#out.shift();
  }
  pollTimeout() {
    return undefined;
  }
  handleTimeout(): void {}
  pollEvent() {
    return this.#events.shift();
  }
}

/** "What is my address": answers every datagram with the source address it saw, as text. */
export class Reflector implements Machine<{ type: 'reflected'; to: SocketAddress }> {
  #out: Transmit[] = [];
  #events: { type: 'reflected'; to: SocketAddress }[] = [];
  handleInput(_payload: Uint8Array, from: SocketAddress): void {
    this.#out.push({ destination: from, payload: text(formatSocketAddress(from)) });
    this.#events.push({ type: 'reflected', to: from });
  }
  pollTransmit() {
    return this.#out.shift();
  }
  pollTimeout() {
    return undefined;
  }
  handleTimeout(): void {}
  pollEvent() {
    return this.#events.shift();
  }
}

/** The mapped address a Reflector told a Peer, from the Peer's last `received` event. */
export function reflected(events: readonly { event: PeerEvent }[]): SocketAddress | undefined {
  const last = events.at(-1)?.event;
  return last ? parseSocketAddress(last.text) : undefined;
}

/** Sends a datagram every `interval` ms to `destination`, `count` times, payload = sequence number. */
export class Ticker implements Machine<never> {
  #next: number;
  #sent = 0;
  #out: Transmit[] = [];
  constructor(
    readonly destination: SocketAddress,
    readonly interval: number,
    readonly count: number,
    start = 0,
  ) {
    this.#next = start;
  }
  handleInput(): void {}
  pollTransmit() {
    return this.#out.shift();
  }
  pollTimeout() {
    return this.#sent < this.count ? this.#next : undefined;
  }
  handleTimeout(now: number): void {
    while (this.#sent < this.count && this.#next <= now) {
      this.#out.push({ destination: this.destination, payload: text(String(this.#sent)) });
      this.#sent++;
      this.#next += this.interval;
    }
  }
  pollEvent() {
    return undefined;
  }
}
