// Tiny hand-written machines for testing the multiplexer's routing and timing in isolation.
// They speak just enough STUN framing (RFC 8489 §5/§6 header) to be routed.
import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';

export const addr = (port: number, address = '127.0.0.1'): SocketAddress => ({
  address,
  port,
  family: 'IPv4',
});

/** A STUN header + optional USERNAME. `cls` 0 request, 1 indication, 2 success, 3 error. */
export function stunFrame(cls: number, txid: number, username?: string): Uint8Array {
  const user = username === undefined ? new Uint8Array(0) : new TextEncoder().encode(username);
  const attrLen = username === undefined ? 0 : 4 + ((user.length + 3) & ~3);
  const b = new Uint8Array(20 + attrLen);
  const type = 0x0001 | ((cls & 2) << 7) | ((cls & 1) << 4);
  b[0] = type >> 8;
  b[1] = type & 0xff;
  b[2] = attrLen >> 8;
  b[3] = attrLen & 0xff;
  new DataView(b.buffer).setUint32(4, 0x2112a442);
  new DataView(b.buffer).setUint32(16, txid);
  if (username !== undefined) {
    b[20] = 0;
    b[21] = 6;
    b[22] = user.length >> 8;
    b[23] = user.length & 0xff;
    b.set(user, 24);
  }
  return b;
}

export const txidOf = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(16);

/**
 * Answers every request with a success response that echoes its transaction ID. Deliberately
 * reuses ONE output buffer (allowed by the contract) to catch a parent that holds on to it.
 */
export class FakeServer implements Machine<{ type: 'answered'; txid: number }> {
  readonly #buf = new Uint8Array(20);
  #out: { to: SocketAddress; txid: number }[] = [];
  #events: { type: 'answered'; txid: number }[] = [];
  inputs = 0;
  handleInput(payload: Uint8Array, from: SocketAddress): void {
    this.inputs++;
    this.#out.push({ to: from, txid: txidOf(payload) });
    this.#events.push({ type: 'answered', txid: txidOf(payload) });
  }
  pollTransmit(): Transmit | undefined {
    const o = this.#out.shift();
    if (o === undefined) return undefined;
    this.#buf.set(stunFrame(2, o.txid));
    return { destination: o.to, payload: this.#buf };
  }
  pollTimeout(): number | undefined {
    return undefined;
  }
  handleTimeout(): void {}
  pollEvent(): { type: 'answered'; txid: number } | undefined {
    return this.#events.shift();
  }
}

export type ClientEvent = { type: 'response'; txid: number; at: number } | { type: 'timeout'; txid: number };

/** Sends one request per `start`, retransmits every `rto` ms up to `tries` times, reports the response. */
export class FakeClient implements Machine<ClientEvent> {
  readonly #pending = new Map<number, { to: SocketAddress; next: number; left: number }>();
  #out: Transmit[] = [];
  #events: ClientEvent[] = [];
  timeoutCalls = 0;
  constructor(
    readonly rto = 100,
    readonly tries = 3,
  ) {}
  start(txid: number, to: SocketAddress, now: number): void {
    this.#pending.set(txid, { to, next: now + this.rto, left: this.tries - 1 });
    this.#out.push({ destination: to, payload: stunFrame(0, txid) });
  }
  handleInput(payload: Uint8Array, _from: SocketAddress, now: number): void {
    const txid = txidOf(payload);
    if (this.#pending.delete(txid)) this.#events.push({ type: 'response', txid, at: now });
  }
  pollTransmit(): Transmit | undefined {
    return this.#out.shift();
  }
  pollTimeout(): number | undefined {
    let min: number | undefined;
    for (const p of this.#pending.values()) if (min === undefined || p.next < min) min = p.next;
    return min;
  }
  handleTimeout(now: number): void {
    this.timeoutCalls++;
    for (const [txid, p] of this.#pending) {
      if (p.next > now) continue;
      if (p.left === 0) {
        this.#pending.delete(txid);
        this.#events.push({ type: 'timeout', txid });
        continue;
      }
      p.left--;
      p.next = now + this.rto;
      this.#out.push({ destination: p.to, payload: stunFrame(0, txid) });
    }
  }
  pollEvent(): ClientEvent | undefined {
    return this.#events.shift();
  }
}

/** Records what reaches it; answers nothing. Optionally has a deadline. */
export class Recorder implements Machine<never> {
  inputs: Uint8Array[] = [];
  timeoutCalls: number[] = [];
  constructor(public deadline: number | undefined = undefined) {}
  handleInput(payload: Uint8Array): void {
    this.inputs.push(payload.slice());
  }
  pollTransmit(): Transmit | undefined {
    return undefined;
  }
  pollTimeout(): number | undefined {
    return this.deadline;
  }
  handleTimeout(now: number): void {
    this.timeoutCalls.push(now);
    if (this.deadline !== undefined && this.deadline <= now) this.deadline = undefined;
  }
  pollEvent(): never | undefined {
    return undefined;
  }
}

/** Breaks the contract: always due "now" (or at a fixed past time). */
export class BusyChild extends Recorder {
  override handleTimeout(now: number): void {
    this.timeoutCalls.push(now);
  }
}
