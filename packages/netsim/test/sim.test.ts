import type { Machine } from '@natkit/sans-io';
import { describe, expect, it } from 'vitest';
import { Sim, SimError, socketAddress } from '../src/index.ts';
import { Peer, Reflector, Ticker } from './machines.ts';

function lan(latency = 10) {
  const sim = new Sim({ seed: 7 });
  const net = sim.network('lan', { latency });
  const a = sim.host('a', { network: net, address: '10.0.0.1' });
  const b = sim.host('b', { network: net, address: '10.0.0.2' });
  return { sim, net, a, b };
}

describe('virtual time', () => {
  it('delivers after the link latency, with the local address as `to`', () => {
    const { sim, a, b } = lan(10);
    const pa = a.add(new Peer(), { port: 1000, name: 'pa' });
    const pb = b.add(new Peer(), { port: 2000, name: 'pb' });
    pa.act((m) => m.send(socketAddress('10.0.0.2', 2000), 'hi'));
    sim.runUntil(() => pb.events.length > 0);
    expect(sim.now).toBe(10);
    expect(pb.events).toEqual([
      {
        time: 10,
        endpoint: 'pb',
        event: {
          type: 'received',
          from: socketAddress('10.0.0.1', 1000),
          to: socketAddress('10.0.0.2', 2000),
          text: 'hi',
        },
      },
    ]);
    expect(b.events).toEqual(pb.events);
    expect(b.received()).toHaveLength(1);
    expect(a.sent()).toHaveLength(1);
  });

  it('picks up sends done directly on a machine without act()', () => {
    const { sim, a, b } = lan(3);
    const peer = new Peer();
    a.add(peer, { port: 1 });
    const pb = b.add(new Peer(), { port: 2 });
    peer.send(socketAddress('10.0.0.2', 2), 'x');
    sim.runUntilIdle();
    expect(pb.eventsOfType('received').map((e) => e.text)).toEqual(['x']);
    expect(sim.now).toBe(3);
  });

  it('fires timeouts in time order and runUntil(t) stops at t', () => {
    const { sim, a, b } = lan(1);
    const sink = b.add(new Peer(), { port: 9 });
    a.add(new Ticker(socketAddress('10.0.0.2', 9), 100, 5, 50));
    sim.runUntil(260);
    expect(sim.now).toBe(260);
    expect(sink.events.map((e) => [e.time, e.event.text])).toEqual([
      [51, '0'],
      [151, '1'],
      [251, '2'],
    ]);
    sim.runFor(1000);
    expect(sink.events).toHaveLength(5);
    expect(sim.nextEventTime()).toBeUndefined();
  });

  it('step() returns false when idle; runUntil(predicate) throws idle or timeout', () => {
    const { sim, a } = lan();
    expect(sim.step()).toBe(false);
    expect(() => sim.runUntil(() => false)).toThrowError(expect.objectContaining({ kind: 'idle' }));
    a.add(new Ticker(socketAddress('10.0.0.2', 9), 1000, 1_000_000));
    try {
      sim.runUntil(() => false, { timeout: 5000 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SimError);
      expect((e as SimError).kind).toBe('timeout');
      expect(sim.now).toBe(5000);
    }
  });

  it('an ephemeral port is assigned when none is given', () => {
    const { a } = lan();
    expect(a.add(new Peer()).local.port).toBe(49152);
    expect(a.add(new Peer()).local.port).toBe(49153);
    expect(() => a.add(new Peer(), { port: 49152 })).toThrow(/already bound/);
  });
});

class BusyLoop implements Machine<never> {
  calls = 0;
  constructor(readonly stuckFor: number) {}
  handleInput(): void {}
  pollTransmit() {
    return undefined;
  }
  pollTimeout() {
    return this.calls <= this.stuckFor ? 5 : undefined;
  }
  handleTimeout(): void {
    this.calls++;
  }
  pollEvent() {
    return undefined;
  }
}

describe('contract guards', () => {
  it('reports a machine whose pollTimeout stays <= now after handleTimeout as a busy loop', () => {
    const { sim, a } = lan();
    a.add(new BusyLoop(Number.POSITIVE_INFINITY), { name: 'spinner' });
    let err: unknown;
    try {
      sim.runFor(100);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect(err).toMatchObject({ kind: 'busy-loop', time: 5, endpoint: 'a/spinner' });
  });

  it('tolerates a few re-polls when asked to', () => {
    const sim = new Sim({ busyLoopTolerance: 3 });
    const h = sim.host('h', { network: sim.network('n'), address: '10.0.0.1' });
    const m = new BusyLoop(3);
    h.add(m);
    sim.runFor(100);
    expect(m.calls).toBe(4);
    const sim2 = new Sim({ busyLoopTolerance: 2 });
    sim2.host('h', { network: sim2.network('n'), address: '10.0.0.1' }).add(new BusyLoop(3));
    expect(() => sim2.runFor(100)).toThrowError(expect.objectContaining({ kind: 'busy-loop' }));
  });

  it('wraps a machine that throws, with the original as cause', () => {
    const { sim, a, b } = lan();
    const boom = new Error('boom');
    const bad: Machine<never> = {
      handleInput() {
        throw boom;
      },
      pollTransmit: () => undefined,
      pollTimeout: () => undefined,
      handleTimeout() {},
      pollEvent: () => undefined,
    };
    b.add(bad, { port: 5, name: 'bad' });
    a.add(new Peer()).act((m) => m.send(socketAddress('10.0.0.2', 5), 'x'));
    expect(() => sim.runUntilIdle()).toThrowError(
      expect.objectContaining({ kind: 'machine-threw', endpoint: 'b/bad', cause: boom }),
    );
  });

  it('stops a zero-latency ping-pong that never lets time move', () => {
    const sim = new Sim({ maxEventsPerInstant: 1000 });
    const net = sim.network('n');
    const a = sim.host('a', { network: net, address: '10.0.0.1' });
    const b = sim.host('b', { network: net, address: '10.0.0.2' });
    const r = a.add(new Reflector(), { port: 1 });
    b.add(new Reflector(), { port: 1 });
    // Two reflectors answering each other forever, in zero time.
    r.act((m) => m.handleInput(new Uint8Array(0), socketAddress('10.0.0.2', 1)));
    expect(() => sim.runFor(10)).toThrowError(expect.objectContaining({ kind: 'stalled' }));
  });
});

describe('routing and drops', () => {
  it('drops with the reason: no-host, no-listener, too-big, bad-source', () => {
    const sim = new Sim();
    const net = sim.network('lan', { mtu: 100 });
    const a = sim.host('a', { network: net, address: '10.0.0.1' });
    sim.host('b', { network: net, address: '10.0.0.2' });
    const p = a.add(new Peer(), { port: 1 });
    p.act((m) => {
      m.send(socketAddress('10.0.0.9', 1), 'nobody');
      m.send(socketAddress('10.0.0.2', 1), 'closed port');
      m.send(socketAddress('10.0.0.2', 1), new Uint8Array(101));
      m.send(socketAddress('10.0.0.2', 1), 'spoof', socketAddress('10.0.0.1', 2));
    });
    sim.runUntilIdle();
    const drops = sim.trace.map((e) => (e.verdict === 'dropped' ? `${e.reason}@${e.by}` : e.verdict));
    expect(drops).toEqual(['no-host@lan', 'too-big@lan', 'bad-source@a/m0', 'no-listener@b']);
  });

  it('a multi-homed host sends from the address Transmit.source names, on that address’s network', () => {
    const sim = new Sim();
    const wifi = sim.network('wifi', { latency: 5 });
    const lte = sim.network('lte', { latency: 50 });
    const phone = sim.host('phone', {
      interfaces: [
        { network: wifi, address: '192.168.1.5' },
        { network: lte, address: '100.64.0.5' },
      ],
    });
    const ap = sim.host('ap', { network: wifi, address: '192.168.1.1' });
    const tower = sim.host('tower', { network: lte, address: '100.64.0.1' });
    const p = phone.add(new Peer(), { port: 4000 });
    expect(p.locals).toHaveLength(2);
    const apPeer = ap.add(new Peer(), { port: 1 });
    const towerPeer = tower.add(new Peer(), { port: 1 });
    p.act((m) => {
      m.send(socketAddress('192.168.1.1', 1), 'default source');
      m.send(socketAddress('100.64.0.1', 1), 'lte', socketAddress('100.64.0.5', 4000));
    });
    sim.runUntilIdle();
    expect(apPeer.events.map((e) => [e.time, e.event.from.address])).toEqual([[5, '192.168.1.5']]);
    expect(towerPeer.events.map((e) => [e.time, e.event.from.address])).toEqual([[50, '100.64.0.5']]);
  });

  it('removed endpoints stop receiving', () => {
    const { sim, a, b } = lan(1);
    const pb = b.add(new Peer(), { port: 2 });
    const pa = a.add(new Peer(), { port: 1 });
    pb.remove();
    pa.act((m) => m.send(socketAddress('10.0.0.2', 2), 'x'));
    sim.runUntilIdle();
    expect(sim.trace.at(-1)).toMatchObject({ verdict: 'dropped', reason: 'no-listener' });
    expect(b.endpoints).toHaveLength(0);
  });

  it('formats the trace one line per hop', () => {
    const { sim, a, b } = lan(2);
    b.add(new Reflector(), { port: 7, name: 'refl' });
    a.add(new Peer(), { port: 1 }).act((m) => m.send(socketAddress('10.0.0.2', 7), 'x'));
    sim.runUntilIdle();
    expect(sim.formatTrace()).toBe(
      [
        '     2.000 #1/0 lan 10.0.0.1:1 -> 10.0.0.2:7 1B delivered b/refl',
        '     4.000 #2/0 lan 10.0.0.2:7 -> 10.0.0.1:1 10B delivered a/m0',
      ].join('\n'),
    );
  });
});
