import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { type NatBehaviour, Sim, socketAddress, type TraceEntry } from '../src/index.ts';
import { Peer, Reflector, Ticker } from './machines.ts';

const behaviour = fc.constantFrom<NatBehaviour>(
  'endpoint-independent',
  'address-dependent',
  'address-and-port-dependent',
);
const link = fc.record({
  latency: fc.integer({ min: 0, max: 50 }),
  jitter: fc.integer({ min: 0, max: 20 }),
  loss: fc.double({ min: 0, max: 0.5, noNaN: true }),
  duplicate: fc.double({ min: 0, max: 0.3, noNaN: true }),
  reorder: fc.double({ min: 0, max: 0.3, noNaN: true }),
});

/** Random traffic through a random NAT over random links. */
function run(
  seed: number,
  wan: object,
  lan: object,
  mapping: NatBehaviour,
  filtering: NatBehaviour,
  hairpinning: boolean,
) {
  const sim = new Sim({ seed });
  const internet = sim.network('internet', wan);
  const home = sim.network('home', lan);
  sim.nat('nat', {
    inside: home,
    outside: internet,
    externalAddress: '203.0.113.1',
    mapping,
    filtering,
    hairpinning,
  });
  sim.host('s', { network: internet, address: '198.51.100.1' }).add(new Reflector(), { port: 3478 });
  sim
    .host('x', { network: internet, address: '198.51.100.66' })
    .add(new Ticker(socketAddress('203.0.113.1', 5000), 5, 40));
  const h1 = sim.host('h1', { network: home, address: '192.168.1.2' });
  const h2 = sim.host('h2', { network: home, address: '192.168.1.3' });
  h1.add(new Ticker(socketAddress('198.51.100.1', 3478), 3, 60), { port: 5000 });
  h2.add(new Ticker(socketAddress('203.0.113.1', 5000), 7, 20), { port: 6000 });
  h2.add(new Peer(), { port: 7000 }).act((m) => m.send(socketAddress('192.168.1.2', 5000), 'lan'));
  sim.runUntilIdle();
  return sim;
}

const key = (e: TraceEntry) => `${e.packet}/${e.copy}`;

describe('invariants under random conditions', () => {
  test.prop([fc.integer(), link, link, behaviour, behaviour, fc.boolean()], { numRuns: 60 })(
    'every datagram copy ends exactly once; time never runs backwards; replays are identical',
    (seed, wan, lan, mapping, filtering, hairpinning) => {
      const sim = run(seed, wan, lan, mapping, filtering, hairpinning);
      const terminal = new Map<string, number>();
      const all = new Set<string>();
      let last = Number.NEGATIVE_INFINITY;
      for (const e of sim.trace) {
        all.add(key(e));
        if (e.verdict !== 'translated') terminal.set(key(e), (terminal.get(key(e)) ?? 0) + 1);
        expect(e.time).toBeGreaterThanOrEqual(last);
        expect(e.time).toBeGreaterThanOrEqual(e.sentAt);
        last = e.time;
      }
      expect([...all].every((k) => terminal.get(k) === 1)).toBe(true);
      // A duplicate (copy ≠ 0) shares its packet with an original.
      const originals = new Set(sim.trace.filter((e) => e.copy === 0).map((e) => e.packet));
      expect(sim.trace.every((e) => originals.has(e.packet))).toBe(true);
      // Nothing reached h1:5000 through the NAT unless the filter allowed it.
      for (const e of sim.trace) {
        if (e.verdict === 'delivered' && e.host === 'h1' && e.from.address === '198.51.100.66') {
          expect(filtering).toBe('endpoint-independent');
        }
      }
      const again = run(seed, wan, lan, mapping, filtering, hairpinning);
      expect(again.formatTrace()).toBe(sim.formatTrace());
    },
  );
});
