// A real StunClient (@natkit/stun-agent) behind each kind of NAT, asking real StunServers on
// two public hosts: it learns exactly the mappings the NAT made.
import type { SocketAddress } from '@natkit/sans-io';
import { StunClient, type StunClientEvent, StunServer } from '@natkit/stun-agent';
import { describe, expect, it } from 'vitest';
import { type NatBehaviourConfig, NatPresets, Sim, socketAddress } from '../src/index.ts';

const SERVER1 = socketAddress('198.51.100.1', 3478);
const SERVER2 = socketAddress('198.51.100.2', 3478);

type Success = Extract<StunClientEvent, { type: 'success' }>;

function world(nat: Partial<NatBehaviourConfig>, options: { seed?: number; loss?: number } = {}) {
  const sim = new Sim({ seed: options.seed ?? 1 });
  const internet = sim.network('internet', { latency: 20, loss: options.loss ?? 0 });
  const home = sim.network('home', { latency: 1 });
  const router = sim.nat('router', {
    inside: home,
    outside: internet,
    externalAddress: '203.0.113.9',
    ...nat,
  });
  for (const [name, server] of [
    ['stun1', SERVER1],
    ['stun2', SERVER2],
  ] as const) {
    sim
      .host(name, { network: internet, address: server.address })
      .add(new StunServer({ random: sim.randomSource(name) }), { port: server.port, name: 'stun' });
  }
  const laptop = sim.host('laptop', { network: home, address: '192.168.1.20' });
  const client = laptop.add(new StunClient({ random: sim.randomSource('client') }), {
    port: 54321,
    name: 'client',
  });
  /** Binding requests to each server; the success event of each, in order. */
  const ask = (...servers: SocketAddress[]): Success[] => {
    const ids = client.act((c, now) => servers.map((s) => c.request(s, now)));
    const done = () => ids.every((id) => client.events.some((e) => e.event.transactionId === id));
    sim.runUntil(done);
    return ids.map((id) => {
      const e = client.events.find((x) => x.event.transactionId === id)!.event;
      if (e.type !== 'success') throw new Error(`request failed: ${JSON.stringify(e)}`);
      return e;
    });
  };
  return { sim, router, client, ask };
}

const presets = Object.entries(NatPresets) as [
  keyof typeof NatPresets,
  (typeof NatPresets)[keyof typeof NatPresets],
][];

describe('StunClient behind a NAT sees the mapping the NAT made', () => {
  for (const [name, preset] of presets) {
    it(name, () => {
      const w = world({ ...preset, portAssignment: 'sequential' });
      const [r1, r2] = w.ask(SERVER1, SERVER2);
      const mappings = w.router.mappings();
      // Each server reports the source of the datagram it got: the NAT's mapping for that server.
      const forServer = (s: SocketAddress) =>
        mappings.find((m) => m.remote === undefined || m.remote === `${s.address}:${s.port}`)?.external;
      expect(r1!.mappedAddress).toEqual(forServer(SERVER1));
      expect(r2!.mappedAddress).toEqual(forServer(SERVER2));
      expect(r1!.mappedAddress!.address).toBe('203.0.113.9');
      if (preset.mapping === 'endpoint-independent') {
        // Different servers, same mapping: the address a peer could be told to use.
        expect(mappings).toHaveLength(1);
        expect(r2!.mappedAddress).toEqual(r1!.mappedAddress);
      } else {
        // Symmetric: one mapping per destination, so a STUN-learned address is useless to peers.
        expect(mappings).toHaveLength(2);
        expect(r2!.mappedAddress!.port).not.toBe(r1!.mappedAddress!.port);
      }
      // No loss, no jitter: one send each, RTT = 2 × (1 + 20) ms.
      expect([r1!.rtt, r2!.rtt, r1!.retransmits]).toEqual([42, 42, 0]);
    });
  }

  it('through 20% loss the client retransmits and still learns its mapping, the same way for the same seed', () => {
    const run = () => {
      const w = world(NatPresets.portRestrictedCone, { seed: 4, loss: 0.2 });
      const results = Array.from({ length: 10 }, () => w.ask(SERVER1)[0]!);
      return { results, trace: w.sim.formatTrace() };
    };
    const a = run();
    expect(new Set(a.results.map((r) => `${r.mappedAddress?.address}:${r.mappedAddress?.port}`))).toEqual(
      new Set(['203.0.113.9:54321']),
    );
    expect(a.results.some((r) => r.retransmits > 0)).toBe(true);
    expect(a.trace).toContain('DROPPED loss');
    const b = run();
    expect(b.trace).toBe(a.trace);
    expect(b.results.map((r) => [r.rtt, r.retransmits])).toEqual(
      a.results.map((r) => [r.rtt, r.retransmits]),
    );
  });

  it('after the mapping times out, the next request reveals a new mapping', () => {
    const w = world({ ...NatPresets.fullCone, portAssignment: 'sequential', mappingTimeout: 30_000 });
    const [first] = w.ask(SERVER1);
    w.sim.runFor(29_000);
    const [refreshed] = w.ask(SERVER2);
    expect(refreshed!.mappedAddress).toEqual(first!.mappedAddress);
    w.sim.runFor(31_000);
    expect(w.router.mappings()).toEqual([]);
    const [fresh] = w.ask(SERVER1);
    expect(fresh!.mappedAddress!.port).toBe(first!.mappedAddress!.port + 1);
  });
});
