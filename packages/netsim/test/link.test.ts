import { describe, expect, it } from 'vitest';
import { type LinkConditions, Sim, socketAddress } from '../src/index.ts';
import { Peer, Ticker } from './machines.ts';

const N = 20_000;

/** Sends N numbered datagrams, one per ms, across one network with `conditions`. */
function blast(conditions: Partial<LinkConditions>, seed = 42) {
  const sim = new Sim({ seed });
  const net = sim.network('wan', conditions);
  const a = sim.host('a', { network: net, address: '10.0.0.1' });
  const b = sim.host('b', { network: net, address: '10.0.0.2' });
  const sink = b.add(new Peer(), { port: 9 });
  a.add(new Ticker(socketAddress('10.0.0.2', 9), 1, N));
  sim.runUntilIdle();
  const delivered = sim.trace.filter((e) => e.verdict === 'delivered');
  const delays = delivered.map((e) => e.time - e.sentAt);
  const order = sink.events.map((e) => Number(e.event.text));
  return { sim, delivered, delays, order };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Datagrams that arrive after one with a higher sequence number. */
function late(order: number[]): number {
  let max = -1;
  let n = 0;
  for (const s of order) {
    if (s < max) n++;
    else max = s;
  }
  return n;
}

describe('link conditions over many datagrams', () => {
  it('a perfect link delivers everything, in order, at once', () => {
    const { delivered, delays, order } = blast({});
    expect(delivered).toHaveLength(N);
    expect(Math.max(...delays)).toBe(0);
    expect(late(order)).toBe(0);
  });

  it('latency and jitter: delays uniform in [latency - jitter, latency + jitter], mean ≈ latency', () => {
    const { delays, order } = blast({ latency: 50, jitter: 10 });
    expect(delays).toHaveLength(N);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(40);
    expect(Math.max(...delays)).toBeLessThanOrEqual(60);
    expect(Math.abs(mean(delays) - 50)).toBeLessThan(0.5);
    // Spread: a uniform on ±10 has standard deviation 10/√3 ≈ 5.77.
    const sd = Math.sqrt(mean(delays.map((d) => (d - 50) ** 2)));
    expect(Math.abs(sd - 10 / Math.sqrt(3))).toBeLessThan(0.3);
    // 1 ms apart with ±10 ms of jitter: plenty of reordering.
    expect(late(order)).toBeGreaterThan(N / 4);
  });

  it('latency without jitter keeps order', () => {
    const { delays, order } = blast({ latency: 30 });
    expect(new Set(delays)).toEqual(new Set([30]));
    expect(late(order)).toBe(0);
  });

  it('loss drops about the configured share, each recorded as `loss`', () => {
    const { sim, delivered } = blast({ loss: 0.1, latency: 5 });
    const lost = sim.trace.filter((e) => e.verdict === 'dropped' && e.reason === 'loss');
    expect(lost.length + delivered.length).toBe(N);
    // Binomial: sd = √(N·0.1·0.9) ≈ 42; allow 5 sd.
    expect(Math.abs(lost.length - 0.1 * N)).toBeLessThan(5 * 42);
  });

  it('duplication delivers about the configured share twice', () => {
    const { delivered, order } = blast({ duplicate: 0.05, latency: 5 });
    const copies = delivered.filter((e) => e.copy !== 0);
    expect(delivered.length).toBe(N + copies.length);
    expect(Math.abs(copies.length - 0.05 * N)).toBeLessThan(5 * Math.sqrt(N * 0.05 * 0.95));
    expect(new Set(order).size).toBe(N);
  });

  it('reordering holds back about the configured share, which later datagrams overtake', () => {
    const { delays, order } = blast({ latency: 10, reorder: 0.1, reorderDelay: 5 });
    const held = delays.filter((d) => d === 15).length;
    expect(delays.filter((d) => d !== 10 && d !== 15)).toEqual([]);
    expect(Math.abs(held - 0.1 * N)).toBeLessThan(5 * Math.sqrt(N * 0.1 * 0.9));
    // A held datagram is late unless the next ones were held too (about 0.1^k); close to `held`.
    const l = late(order);
    expect(l).toBeLessThanOrEqual(held);
    expect(l).toBeGreaterThan(held * 0.85);
    expect(order.length).toBe(N);
  });

  it('conditions can change mid-run (a link going down and back up)', () => {
    const sim = new Sim();
    const net = sim.network('wan', { latency: 1 });
    const a = sim.host('a', { network: net, address: '10.0.0.1' });
    const b = sim.host('b', { network: net, address: '10.0.0.2' });
    const sink = b.add(new Peer(), { port: 9 });
    a.add(new Ticker(socketAddress('10.0.0.2', 9), 10, 30));
    sim.runUntil(95);
    net.configure({ loss: 1 });
    sim.runUntil(195);
    net.configure({ loss: 0 });
    sim.runUntilIdle();
    expect(sink.events.map((e) => Number(e.event.text))).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 10 }, (_, i) => i + 20),
    ]);
  });

  it('a host’s access link adds to the network: delays add, losses compound, the smaller MTU wins', () => {
    const sim = new Sim({ seed: 2 });
    const internet = sim.network('internet', { latency: 20, loss: 0.1 });
    const far = sim.host('far', {
      interfaces: [{ network: internet, address: '198.51.100.1', link: { latency: 80 } }],
    });
    const flaky = sim.host('flaky', {
      interfaces: [{ network: internet, address: '198.51.100.2', link: { loss: 0.1, mtu: 500 } }],
    });
    const near = sim.host('near', { network: internet, address: '198.51.100.3' });
    const atFar = far.add(new Peer(), { port: 1 });
    const atNear = near.add(new Peer(), { port: 1 });
    flaky.add(new Ticker(socketAddress('198.51.100.3', 1), 1, N));
    near.add(new Ticker(socketAddress('198.51.100.1', 1), 1, 1000));
    sim.runUntilIdle();
    // Both directions of a hop see the access link: near → far takes 20 + 80.
    expect(new Set(atFar.events.map((e) => e.time - Number(e.event.text)))).toEqual(new Set([100]));
    // flaky → near: 1 − 0.9 × 0.9 = 19% lost.
    const lost = N - atNear.events.length;
    expect(Math.abs(lost - 0.19 * N)).toBeLessThan(5 * Math.sqrt(N * 0.19 * 0.81));
    const p = flaky.add(new Peer(), { port: 2 });
    p.act((m) => m.send(socketAddress('198.51.100.3', 1), new Uint8Array(501)));
    sim.runUntilIdle();
    expect(sim.trace.at(-1)).toMatchObject({ verdict: 'dropped', reason: 'too-big' });
  });

  it('configureLink takes a host offline and back', () => {
    const sim = new Sim();
    const net = sim.network('lan', { latency: 1 });
    const a = sim.host('a', { network: net, address: '10.0.0.1' });
    const b = sim.host('b', { network: net, address: '10.0.0.2' });
    const sink = b.add(new Peer(), { port: 9 });
    a.add(new Ticker(socketAddress('10.0.0.2', 9), 10, 30));
    sim.runUntil(95);
    b.configureLink({ loss: 1 });
    sim.runUntil(195);
    b.configureLink({ loss: 0 });
    sim.runUntilIdle();
    expect(sink.events.map((e) => Number(e.event.text))).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 10 }, (_, i) => i + 20),
    ]);
  });

  it('rejects nonsense conditions', () => {
    const sim = new Sim();
    expect(() => sim.network('x', { loss: 2 })).toThrow(RangeError);
    expect(() => sim.network('y', { latency: -1 })).toThrow(RangeError);
  });
});
