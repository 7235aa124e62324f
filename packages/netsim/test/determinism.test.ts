import { describe, expect, it } from 'vitest';
import { NatPresets, Rng, Sim, socketAddress } from '../src/index.ts';
import { Peer, Reflector, Ticker } from './machines.ts';

/** A busy little world: two homes behind different NATs, a lossy, jittery internet, chatter both ways. */
function scenario(seed: number | string) {
  const sim = new Sim({ seed });
  const internet = sim.network('internet', {
    latency: 30,
    jitter: 15,
    loss: 0.05,
    duplicate: 0.02,
    reorder: 0.05,
  });
  const home1 = sim.network('home1', { latency: 2, jitter: 1, loss: 0.01 });
  const home2 = sim.network('home2', { latency: 3, jitter: 2 });
  sim.nat('nat1', {
    inside: home1,
    outside: internet,
    externalAddress: '203.0.113.1',
    ...NatPresets.symmetric,
    portAssignment: 'random',
  });
  sim.nat('nat2', {
    inside: home2,
    outside: internet,
    externalAddress: '203.0.113.2',
    ...NatPresets.portRestrictedCone,
  });
  const server = sim.host('server', { network: internet, address: '198.51.100.1' });
  server.add(new Reflector(), { port: 3478 });
  const h1 = sim.host('h1', { network: home1, address: '192.168.1.2' });
  const h2 = sim.host('h2', { network: home2, address: '192.168.2.2' });
  h1.add(new Ticker(socketAddress('198.51.100.1', 3478), 7, 200));
  h2.add(new Ticker(socketAddress('198.51.100.1', 3478), 11, 150));
  h2.add(new Ticker(socketAddress('203.0.113.1', 1024), 13, 50));
  h1.add(new Peer(), { port: 7000 }).act((m) => m.send(socketAddress('203.0.113.2', 49152), 'hi'));
  sim.runUntilIdle();
  return sim;
}

const fingerprint = (sim: Sim) =>
  JSON.stringify(sim.trace, (_k, v) => (v instanceof Uint8Array ? [...v] : v));

describe('determinism', () => {
  it('the same seed gives an identical trace', () => {
    const a = scenario(1234);
    const b = scenario(1234);
    expect(a.trace.length).toBeGreaterThan(500);
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(a.now).toBe(b.now);
    // The scenario exercises what it should.
    const reasons = new Set(a.trace.flatMap((e) => (e.verdict === 'dropped' ? [e.reason] : [])));
    expect(reasons).toEqual(new Set(['loss', 'no-mapping', 'nat-filtered']));
    expect(a.trace.some((e) => e.copy !== 0)).toBe(true);
  });

  it('a different seed gives a different trace', () => {
    expect(fingerprint(scenario(1234))).not.toBe(fingerprint(scenario(1235)));
    expect(fingerprint(scenario('a'))).toBe(fingerprint(scenario('a')));
  });

  it('each network draws from its own stream: traffic on one does not perturb another', () => {
    const run = (withNoise: boolean) => {
      const sim = new Sim({ seed: 9 });
      const wan = sim.network('wan', { latency: 10, jitter: 5, loss: 0.2 });
      const a = sim.host('a', { network: wan, address: '10.0.0.1' });
      const b = sim.host('b', { network: wan, address: '10.0.0.2' });
      const sink = b.add(new Peer(), { port: 9 });
      a.add(new Ticker(socketAddress('10.0.0.2', 9), 3, 300));
      if (withNoise) {
        const other = sim.network('other', { latency: 1, jitter: 1, loss: 0.5 });
        sim
          .host('x', { network: other, address: '10.1.0.1' })
          .add(new Ticker(socketAddress('10.1.0.2', 9), 1, 500));
        sim.host('y', { network: other, address: '10.1.0.2' }).add(new Peer(), { port: 9 });
      }
      sim.runUntilIdle();
      return sink.events.map((e) => `${e.time}:${e.event.text}`);
    };
    expect(run(true)).toEqual(run(false));
  });

  it('Rng is a pure function of (seed, label); randomSource gives machines their own streams', () => {
    const xs = (r: Rng) => Array.from({ length: 5 }, () => r.nextU32());
    expect(xs(new Rng(1, 'x'))).toEqual(xs(new Rng(1, 'x')));
    expect(xs(new Rng(1, 'x'))).not.toEqual(xs(new Rng(1, 'y')));
    expect(xs(new Rng(1, 'x'))).not.toEqual(xs(new Rng(2, 'x')));
    const bytes = (label: string) => {
      const b = new Uint8Array(7);
      new Sim({ seed: 3 }).randomSource(label)(b);
      return [...b];
    };
    expect(bytes('client')).toEqual(bytes('client'));
    expect(bytes('client')).not.toEqual(bytes('server'));
    const r = new Rng(5);
    const floats = Array.from({ length: 10_000 }, () => r.float());
    expect(Math.min(...floats)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...floats)).toBeLessThan(1);
    expect(Math.abs(floats.reduce((s, x) => s + x, 0) / floats.length - 0.5)).toBeLessThan(0.02);
  });
});
