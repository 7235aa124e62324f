import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { describe, expect, it } from 'vitest';

// The contract is types only; this test pins that a trivial machine satisfies it and that
// the package resolves from source.
class Echo implements Machine<{ type: 'echoed'; bytes: number }> {
  out: Transmit[] = [];
  events: { type: 'echoed'; bytes: number }[] = [];
  handleInput(payload: Uint8Array, from: SocketAddress, _now: number): void {
    this.out.push({ destination: from, payload: payload.slice() });
    this.events.push({ type: 'echoed', bytes: payload.length });
  }
  pollTransmit() {
    return this.out.shift();
  }
  pollTimeout() {
    return undefined;
  }
  handleTimeout(): void {}
  pollEvent() {
    return this.events.shift();
  }
}

describe('sans-io contract', () => {
  it('a machine echoes through the five verbs', () => {
    const m = new Echo();
    const from: SocketAddress = { address: '127.0.0.1', port: 9, family: 'IPv4' };
    m.handleInput(new Uint8Array([1, 2, 3]), from, 0);
    expect(m.pollTransmit()).toEqual({ destination: from, payload: new Uint8Array([1, 2, 3]) });
    expect(m.pollEvent()).toEqual({ type: 'echoed', bytes: 3 });
    expect(m.pollTransmit()).toBeUndefined();
  });
});
