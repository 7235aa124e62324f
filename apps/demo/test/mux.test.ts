import { fc, test as fcTest } from '@fast-check/vitest';
import type { Transmit } from '@natkit/sans-io';
import { describe, expect, it } from 'vitest';
import { classify } from '../src/demux.ts';
import { type DataKind, Mux, type MuxEvent, type Session } from '../src/mux.ts';
import {
  addr,
  BusyChild,
  type ClientEvent,
  FakeClient,
  FakeServer,
  Recorder,
  stunFrame,
  txidOf,
} from './fakes.ts';

/** Pulls every transmit, copying each payload (as a queueing driver must). */
function drain(mux: Mux): Transmit[] {
  const out: Transmit[] = [];
  for (let t = mux.pollTransmit(); t !== undefined; t = mux.pollTransmit()) {
    out.push({ destination: t.destination, payload: t.payload.slice() });
  }
  return out;
}

function events(mux: Mux): MuxEvent[] {
  const out: MuxEvent[] = [];
  for (let e = mux.pollEvent(); e !== undefined; e = mux.pollEvent()) out.push(e);
  return out;
}

const REMOTE = addr(40000);
const SERVER = addr(3478, '192.0.2.1');

describe('classify (RFC 7983 §7 / RFC 9443 §3)', () => {
  it('maps every first byte to its range', () => {
    const expected = (b: number): string => {
      if (b <= 3) return 'stun';
      if (b >= 16 && b <= 19) return 'zrtp';
      if (b >= 20 && b <= 63) return 'dtls';
      if (b >= 64 && b <= 79) return 'turn-channel';
      if (b >= 128 && b <= 191) return 'rtp';
      return 'unknown';
    };
    for (let b = 0; b < 256; b++) expect(classify(b), `byte ${b}`).toBe(expected(b));
  });
});

describe('Mux routing', () => {
  it('answers unauthenticated Binding requests through the stun-server child', () => {
    const mux = new Mux();
    const server = new FakeServer();
    mux.add(server, { role: 'stun-server' });
    expect(mux.handleInput(stunFrame(0, 7), REMOTE, 0)).toBe('stun-server');
    const out = drain(mux);
    expect(out).toHaveLength(1);
    expect(out[0]!.destination).toEqual(REMOTE);
    expect(txidOf(out[0]!.payload)).toBe(7);
    expect(mux.stats.routed['stun-server']).toBe(1);
  });

  it('routes each response to the client that sent the request, by transaction ID', () => {
    const mux = new Mux();
    const a = new FakeClient();
    const b = new FakeClient();
    const ca = mux.add(a, { role: 'client', name: 'a' });
    const cb = mux.add(b, { role: 'client', name: 'b' });
    mux.update(ca, (m) => m.start(1, SERVER, 0), 0);
    mux.update(cb, (m) => m.start(2, SERVER, 0), 0);
    mux.update(ca, (m) => m.start(3, SERVER, 0), 0);
    expect(drain(mux).map((t) => txidOf(t.payload))).toEqual([1, 3, 2]);
    for (const id of [2, 3, 1]) expect(mux.handleInput(stunFrame(2, id), SERVER, 10)).toBe('response');
    const got = events(mux).map((e) =>
      e.type === 'child' ? [e.child.name, (e.event as ClientEvent).txid] : e.type,
    );
    expect(got).toEqual([
      ['b', 2],
      ['a', 3],
      ['a', 1],
    ]);
    // An error response is a response too; a stranger's is dropped.
    expect(mux.handleInput(stunFrame(3, 99), SERVER, 11)).toBe('stun-unmatched-response');
    expect(mux.stats.dropped['stun-unmatched-response']).toBe(1);
  });

  it('sends USERNAME requests to the ICE child owning the ufrag, others to the default ICE route', () => {
    const mux = new Mux();
    const server = new FakeServer();
    const iceA = new Recorder();
    const router = new Recorder();
    mux.add(server, { role: 'stun-server' });
    mux.add(iceA, { role: 'ice', ufrags: ['ufA1'] });
    mux.add(router, { role: 'ice' });
    expect(mux.handleInput(stunFrame(0, 1, 'ufA1:remote'), REMOTE, 0)).toBe('ice');
    expect(mux.handleInput(stunFrame(0, 2, 'other:remote'), REMOTE, 0)).toBe('ice');
    expect(mux.handleInput(stunFrame(0, 3), REMOTE, 0)).toBe('stun-server');
    mux.remove(mux.add(new Recorder(), { role: 'client' }));
    expect(iceA.inputs.map(txidOf)).toEqual([1]);
    expect(router.inputs.map(txidOf)).toEqual([2]);
    expect(server.inputs).toBe(1);
  });

  it('drops checks for a ufrag nobody owns when there is no default ICE route', () => {
    const mux = new Mux();
    mux.add(new FakeServer(), { role: 'stun-server' });
    const ice = mux.add(new Recorder(), { role: 'ice', ufrags: ['mine'] });
    expect(mux.handleInput(stunFrame(0, 1, 'gone:x'), REMOTE, 0)).toBe('ice-unknown-ufrag');
    expect(mux.handleInput(stunFrame(0, 2, 'mine:x'), REMOTE, 0)).toBe('ice');
    mux.remove(ice);
    expect(mux.handleInput(stunFrame(0, 3, 'mine:x'), REMOTE, 0)).toBe('stun-server');
  });

  it('without an ICE child the server gets USERNAME requests; without a server they are dropped', () => {
    const mux = new Mux();
    expect(mux.handleInput(stunFrame(0, 1, 'u:v'), REMOTE, 0)).toBe('stun-no-route');
    const server = new FakeServer();
    mux.add(server, { role: 'stun-server' });
    expect(mux.handleInput(stunFrame(0, 1, 'u:v'), REMOTE, 0)).toBe('stun-server');
  });

  it('hands non-STUN datagrams of a bound session to the application, and drops the rest per reason', () => {
    const seen: [string, DataKind, number][] = [];
    const mux = new Mux({ onData: (s: Session, p, kind) => seen.push([s.id, kind, p[0]!]) });
    mux.bindSession('s1', REMOTE);
    expect(mux.handleInput(Uint8Array.of(0x80, 1, 2), REMOTE, 0)).toBe('data');
    expect(mux.handleInput(Uint8Array.of(23, 3, 3), REMOTE, 0)).toBe('data');
    expect(mux.handleInput(Uint8Array.of(16), REMOTE, 0)).toBe('data');
    expect(mux.handleInput(Uint8Array.of(0x40, 0, 0, 0), REMOTE, 0)).toBe('data');
    expect(mux.handleInput(Uint8Array.of(0x80), addr(40001), 0)).toBe('data-no-session');
    expect(mux.handleInput(Uint8Array.of(0xff), REMOTE, 0)).toBe('unknown-first-byte');
    expect(mux.handleInput(Uint8Array.of(8, 0), REMOTE, 0)).toBe('unknown-first-byte');
    expect(mux.handleInput(new Uint8Array(0), REMOTE, 0)).toBe('empty');
    expect(mux.handleInput(Uint8Array.of(0, 1, 0, 4, 1, 2), REMOTE, 0)).toBe('stun-malformed');
    expect(mux.handleInput(stunFrame(1, 5), REMOTE, 0)).toBe('stun-indication');
    expect(seen).toEqual([
      ['s1', 'rtp', 0x80],
      ['s1', 'dtls', 23],
      ['s1', 'zrtp', 16],
      ['s1', 'turn-channel', 0x40],
    ]);
    expect(mux.session('s1')).toMatchObject({ datagramsIn: 4, bytesIn: 11 });
    expect(mux.stats.dropped).toMatchObject({
      'data-no-session': 1,
      'unknown-first-byte': 2,
      empty: 1,
      'stun-malformed': 1,
      'stun-indication': 1,
    });
    mux.unbindSession('s1');
    expect(mux.handleInput(Uint8Array.of(0x80), REMOTE, 0)).toBe('data-no-session');
  });

  it('queues data as events holding a copy when there is no onData callback', () => {
    const mux = new Mux();
    mux.bindSession('s', REMOTE);
    const buf = Uint8Array.of(0x80, 9);
    mux.handleInput(buf, REMOTE, 0);
    buf[1] = 0;
    const [e] = events(mux);
    expect(e?.type === 'data' && [...e.payload]).toEqual([0x80, 9]);
  });

  it('keeps a child free to reuse its output buffer when called again before its output is pulled', () => {
    const mux = new Mux();
    mux.add(new FakeServer(), { role: 'stun-server' });
    for (let i = 1; i <= 5; i++) mux.handleInput(stunFrame(0, i), addr(50000 + i), i);
    const out = drain(mux);
    expect(out.map((t) => [txidOf(t.payload), t.destination.port])).toEqual([
      [1, 50001],
      [2, 50002],
      [3, 50003],
      [4, 50004],
      [5, 50005],
    ]);
  });

  it('bounds its own queue and counts what overflowed', () => {
    const mux = new Mux({ maxQueuedTransmits: 2 });
    expect(mux.send(REMOTE, Uint8Array.of(0x80))).toBe(true);
    expect(mux.send(REMOTE, Uint8Array.of(0x80))).toBe(true);
    expect(mux.send(REMOTE, Uint8Array.of(0x80))).toBe(false);
    expect(mux.stats.dropped['transmit-overflow']).toBe(1);
    expect(drain(mux)).toHaveLength(2);
  });

  it('forgets transaction IDs after one to two lifetimes', () => {
    const mux = new Mux({ transactionLifetime: 1000 });
    const c = mux.add(new FakeClient(10_000, 1), { role: 'client' }, 0);
    mux.update(c, (m) => m.start(1, SERVER, 0), 0);
    drain(mux);
    expect(mux.handleInput(stunFrame(2, 1), SERVER, 1500)).toBe('response');
    expect(mux.handleInput(stunFrame(2, 1), SERVER, 2600)).toBe('stun-unmatched-response');
  });

  it('drops responses for a removed child', () => {
    const mux = new Mux();
    const c = mux.add(new FakeClient(), { role: 'client' });
    mux.update(c, (m) => m.start(1, SERVER, 0), 0);
    drain(mux);
    mux.remove(c);
    expect(mux.handleInput(stunFrame(2, 1), SERVER, 1)).toBe('stun-unmatched-response');
    expect(mux.pollTimeout()).toBeUndefined();
  });
});

describe('Mux transaction accounting', () => {
  it('counts retransmissions and per-ufrag checks, RTT only for unretransmitted transactions', () => {
    const mux = new Mux({ perUfragStats: true });
    const out: Transmit[] = [];
    // A tiny "agent": sends what it is told, with USERNAME peer:mine.
    const sender = {
      handleInput: () => undefined,
      pollTransmit: () => out.shift(),
      pollTimeout: () => undefined,
      handleTimeout: () => undefined,
      pollEvent: () => undefined,
    };
    const c = mux.add(sender, { role: 'client' });
    const send = (txid: number, now: number): void =>
      mux.update(
        c,
        () => {
          out.push({ destination: SERVER, payload: stunFrame(0, txid, 'peer:mine') });
        },
        now,
      );
    send(1, 0);
    send(2, 0);
    drain(mux);
    send(2, 100); // retransmission of 2
    drain(mux);
    expect(mux.handleInput(stunFrame(2, 1), SERVER, 7)).toBe('response');
    expect(mux.handleInput(stunFrame(2, 2), SERVER, 130)).toBe('response');
    expect(mux.handleInput(stunFrame(2, 2), SERVER, 131)).toBe('response'); // a duplicate answer
    expect(mux.stats).toMatchObject({ requestsOut: 2, retransmitsOut: 1, responsesIn: 2 });
    expect(mux.ufragStats('mine')).toEqual({
      requests: 2,
      retransmits: 1,
      responses: 2,
      rttLast: 7,
      rttSum: 7,
      rttSamples: 1,
    });
    mux.forgetUfrag('mine');
    expect(mux.ufragStats('mine')).toBeUndefined();
  });
});

describe('Mux timers', () => {
  it('reports the earliest child deadline and runs only the children that are due', () => {
    const mux = new Mux();
    const kids = [50, 10, 30, 20, 40].map((d) => new Recorder(d));
    for (const k of kids) mux.add(k, { role: 'client' });
    expect(mux.pollTimeout()).toBe(10);
    mux.handleTimeout(25);
    expect(kids.map((k) => k.timeoutCalls.length)).toEqual([0, 1, 0, 1, 0]);
    expect(mux.pollTimeout()).toBe(30);
    kids[0]!.deadline = 5;
    const c = mux.add(new Recorder(), { role: 'client' });
    mux.update(c, () => undefined);
    expect(mux.pollTimeout()).toBe(30); // kids[0] moved without telling the mux: the heap still says 50
    mux.handleTimeout(60);
    expect(mux.pollTimeout()).toBeUndefined();
    expect(mux.stats.childTimeouts).toBe(5);
  });

  it('retransmits through the heap and reports a client timeout', () => {
    const mux = new Mux();
    const c = mux.add(new FakeClient(100, 3), { role: 'client' });
    mux.update(c, (m) => m.start(1, SERVER, 0), 0);
    let sent = drain(mux).length;
    let now = 0;
    for (let t = mux.pollTimeout(); t !== undefined; t = mux.pollTimeout()) {
      expect(t).toBeGreaterThan(now);
      now = t;
      mux.handleTimeout(now);
      sent += drain(mux).length;
    }
    expect(sent).toBe(3);
    expect(events(mux).map((e) => e.type === 'child' && (e.event as ClientEvent).type)).toEqual(['timeout']);
  });

  it('never reports a deadline <= now after handleTimeout(now), even with a child that breaks the rule', () => {
    const mux = new Mux();
    const busy = new BusyChild(5);
    mux.add(busy, { role: 'client' });
    mux.add(new Recorder(8), { role: 'client' });
    mux.handleTimeout(10);
    expect(mux.pollTimeout()).toBeGreaterThan(10);
    expect(busy.timeoutCalls).toEqual([10]);
    expect(mux.stats.childBusyLoops).toBe(1);
    mux.handleTimeout(11);
    expect(mux.pollTimeout()).toBeGreaterThan(11);
  });

  it('keeps the busy-loop guard when the driver drains transmits before polling the timeout', () => {
    const mux = new Mux();
    const busy = new BusyChild(5);
    mux.add(busy, { role: 'client' });
    for (const t of [10, 11, 12]) {
      mux.handleTimeout(t);
      // Every driver pulls output first; re-reading a child's deadline there must not undo the guard.
      expect(drain(mux)).toEqual([]);
      expect(mux.pollTimeout()).toBeGreaterThan(t);
      while (mux.pollEvent() !== undefined);
      expect(mux.pollTimeout()).toBeGreaterThan(t);
    }
    expect(busy.timeoutCalls).toEqual([10, 11, 12]);
    expect(mux.stats.childBusyLoops).toBe(3);
  });

  fcTest.prop([
    fc.array(fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }), { maxLength: 60 }),
    fc.nat(1000),
  ])(
    'after handleTimeout(t) the next deadline is the earliest remaining child deadline, and > t',
    (deadlines, t) => {
      const mux = new Mux();
      const kids = deadlines.map((d) => new Recorder(d));
      for (const k of kids) mux.add(k, { role: 'client' });
      mux.handleTimeout(t);
      const remaining = kids.map((k) => k.deadline).filter((d): d is number => d !== undefined);
      const expected = remaining.length === 0 ? undefined : Math.min(...remaining);
      expect(mux.pollTimeout()).toBe(expected);
      if (expected !== undefined) expect(expected).toBeGreaterThan(t);
      for (const k of kids) expect(k.timeoutCalls.length).toBe(k.timeoutCalls.length > 0 ? 1 : 0);
    },
  );
});
