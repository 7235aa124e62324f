import type { Machine, RandomSource, SocketAddress, Transmit } from '@natkit/sans-io';
import { decode, type StunMessage } from '@natkit/stun-codec';

export const CLIENT: SocketAddress = { address: '192.0.2.10', port: 50000, family: 'IPv4' };
export const SERVER: SocketAddress = { address: '198.51.100.1', port: 3478, family: 'IPv4' };
export const SERVER2: SocketAddress = { address: '198.51.100.2', port: 3478, family: 'IPv4' };

/** A deterministic RandomSource (xorshift32) so transaction IDs repeat run to run. */
export function seededRandom(seed = 1): RandomSource {
  let x = seed >>> 0 || 1;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      bytes[i] = x & 0xff;
    }
  };
}

export function drainTransmits(m: Machine<unknown>): Transmit[] {
  const out: Transmit[] = [];
  for (let t = m.pollTransmit(); t !== undefined; t = m.pollTransmit()) out.push(t);
  return out;
}

/** A datagram a machine sent, decoded (a test that expects STUN fails if it is not). */
export function decodeSent(t: Transmit | undefined): StunMessage {
  if (t === undefined) throw new Error('nothing was sent');
  const r = decode(t.payload);
  if (!r.ok) throw new Error(`sent a malformed message: ${r.error.message}`);
  return r.message;
}

export function drainEvents<E>(m: Machine<E>): E[] {
  const out: E[] = [];
  for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) out.push(e);
  return out;
}

/**
 * Runs `m` alone in virtual time until it has no timer or `until` is reached, recording at
 * which instants it transmitted. Asserts the no-busy-loop rule on every step.
 */
export function runAlone<E>(
  m: Machine<E>,
  until: number,
  start = 0,
): { sends: number[]; events: [number, E][] } {
  const sends: number[] = [];
  const events: [number, E][] = [];
  const collect = (now: number) => {
    for (const _ of drainTransmits(m)) sends.push(now);
    for (const e of drainEvents(m)) events.push([now, e]);
  };
  collect(start);
  for (;;) {
    const t = m.pollTimeout();
    if (t === undefined || t > until) break;
    m.handleTimeout(t);
    const next = m.pollTimeout();
    if (next !== undefined && next <= t) throw new Error(`busy loop: pollTimeout ${next} <= ${t}`);
    collect(t);
  }
  return { sends, events };
}
