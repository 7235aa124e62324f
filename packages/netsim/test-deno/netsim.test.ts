// netsim under real Deno: sources run unchanged (no node:* imports in src).
import assert from 'node:assert/strict';
import { formatSocketAddress, NatPresets, Sim, socketAddress } from '@natkit/netsim';
import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';

class Reflector implements Machine<never> {
  out: Transmit[] = [];
  handleInput(_p: Uint8Array, from: SocketAddress) {
    this.out.push({ destination: from, payload: new TextEncoder().encode(formatSocketAddress(from)) });
  }
  pollTransmit = () => this.out.shift();
  pollTimeout = () => undefined;
  handleTimeout() {}
  pollEvent = () => undefined;
}

class Asker implements Machine<{ type: 'answer'; text: string }> {
  out: Transmit[] = [];
  events: { type: 'answer'; text: string }[] = [];
  handleInput(p: Uint8Array) {
    this.events.push({ type: 'answer', text: new TextDecoder().decode(p) });
  }
  pollTransmit = () => this.out.shift();
  pollTimeout = () => undefined;
  handleTimeout() {}
  pollEvent = () => this.events.shift();
}

function run(seed: number) {
  const sim = new Sim({ seed });
  const internet = sim.network('internet', { latency: 20, jitter: 10, loss: 0.2 });
  const home = sim.network('home', { latency: 1 });
  sim.nat('nat', {
    inside: home,
    outside: internet,
    externalAddress: '203.0.113.1',
    ...NatPresets.symmetric,
  });
  for (const [name, ip] of [
    ['s1', '198.51.100.1'],
    ['s2', '198.51.100.2'],
  ] as const) {
    sim.host(name, { network: internet, address: ip }).add(new Reflector(), { port: 3478 });
  }
  const asker = sim.host('pc', { network: home, address: '192.168.1.2' }).add(new Asker(), { port: 5000 });
  for (let i = 0; i < 20; i++) {
    asker.act((m) => {
      m.out.push({ destination: socketAddress('198.51.100.1', 3478), payload: new Uint8Array(1) });
      m.out.push({ destination: socketAddress('198.51.100.2', 3478), payload: new Uint8Array(1) });
    });
    sim.runFor(100);
  }
  return { sim, answers: new Set(asker.eventsOfType('answer').map((e) => e.text)) };
}

Deno.test('netsim: a symmetric NAT gives each server its own mapping', () => {
  const { answers } = run(1);
  assert.deepEqual([...answers].sort(), ['203.0.113.1:5000', '203.0.113.1:5001']);
});

Deno.test('netsim: same seed, same trace', () => {
  const a = run(7).sim.formatTrace();
  assert.equal(a, run(7).sim.formatTrace());
  assert.notEqual(a, run(8).sim.formatTrace());
  assert.match(a, /DROPPED loss/);
});
