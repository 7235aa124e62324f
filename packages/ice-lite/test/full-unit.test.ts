import { MessageClass } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { type Candidate, hostCandidate, IceAgent, pairPriority } from '../src/index.ts';
import { world } from './harness.ts';
import { check, describeResponse, parse, v4 } from './peer.ts';

const remoteCreds = { ufrag: 'peer', pwd: 'peerpassword22chars+++' };
const localCreds = { ufrag: 'mine', pwd: 'minepassword22chars+++' };
const me = v4('192.0.2.1', 5000);

/** A deterministic RandomSource whose first 8 bytes (the tie-breaker) are `tb`. */
function randomWithTieBreaker(tb: number) {
  let first = true;
  return (b: Uint8Array) => {
    if (first && b.length === 8) {
      first = false;
      b.fill(0);
      b[7] = tb;
      return;
    }
    for (let i = 0; i < b.length; i++) b[i] = (i * 31 + 7) & 0xff;
  };
}

function remote(i: number, priority = 2130706431 - i): Candidate {
  return { ...hostCandidate(v4(`198.51.100.${i + 1}`, 7000)), priority };
}

function fullAgent(opts: ConstructorParameters<typeof IceAgent>[0] = {}) {
  const a = new IceAgent({ mode: 'full', credentials: localCreds, ...opts });
  a.addLocalCandidate(me);
  a.setRemoteCredentials(remoteCreds);
  return a;
}

describe('full agent checklist (RFC 8445 §6.1)', () => {
  it('orders pairs by the §6.1.2.3 priority for its role', () => {
    const a = fullAgent();
    for (let i = 0; i < 5; i++) a.addRemoteCandidate(remote(i, 1000 + i * 7919));
    const prios = a.pairs.map((p) => p.priority);
    expect([...prios].sort((x, y) => (x > y ? -1 : x < y ? 1 : 0))).toEqual(prios);
    const top = a.pairs[0]!;
    expect(top.priority).toBe(
      pairPriority(a.localCandidates[0]!.priority, a.remoteCandidates[top.remote]!.priority),
    );
  });

  it('caps the checklist at maxPairs (default 100)', () => {
    const a = fullAgent({ maxRemoteCandidates: 200 });
    for (let i = 0; i < 150; i++) a.addRemoteCandidate(remote(i));
    expect(a.pairs.length).toBe(100);
  });

  it('paces new checks at least Ta (50 ms) apart and sends each with PRIORITY, ICE-CONTROLLING and credentials', () => {
    const a = fullAgent();
    for (let i = 0; i < 5; i++) a.addRemoteCandidate(remote(i));
    const firstSends = new Map<string, number>();
    let t = -1; // before the first handleTimeout, "due now" (0) is fine
    for (let step = 0; step < 200; step++) {
      for (let tx = a.pollTransmit(); tx; tx = a.pollTransmit()) {
        const m = parse(tx.payload);
        expect(m.messageClass).toBe(MessageClass.Request);
        expect(m.username()).toBe('peer:mine');
        expect(m.priority()).toBe(110 * 2 ** 24 + (a.localCandidates[0]!.priority % 2 ** 24));
        expect(m.iceControlling()).toBe(a.tieBreaker);
        const id = Array.from(m.transactionId).join(',');
        if (!firstSends.has(id)) firstSends.set(id, t);
      }
      const next = a.pollTimeout();
      if (next === undefined) break;
      expect(next).toBeGreaterThan(t);
      t = next;
      a.handleTimeout(t);
    }
    const times = [...firstSends.values()];
    expect(times).toHaveLength(5);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(50);
  });

  it('does not check before it has the remote credentials, and arms no timer meanwhile', () => {
    const a = new IceAgent({ mode: 'full', credentials: localCreds });
    a.addLocalCandidate(me);
    a.addRemoteCandidate(remote(0));
    expect(a.pollTimeout()).toBeUndefined();
    a.setRemoteCredentials(remoteCreds);
    expect(a.pollTimeout()).toBeDefined();
  });
});

describe('role conflicts when answering (RFC 8445 §7.3.1.1)', () => {
  const req = (attr: 'controlling' | 'controlled', tb: bigint) => {
    const b = check({ username: 'mine:peer', pwd: localCreds.pwd, controlled: attr === 'controlled' });
    return { bytes: b, tb };
  };
  it('controlling with the larger tie-breaker answers 487 and keeps its role', () => {
    const a = fullAgent({ random: randomWithTieBreaker(0xff) });
    // check() sends ICE-CONTROLLING 0x1234567890abcdef; ours is 0xff → smaller → we switch.
    const small = fullAgent({ random: randomWithTieBreaker(1) });
    expect(small.tieBreaker).toBe(1n);
    expect(small.handleInput(req('controlling', 0n).bytes, v4('198.51.100.1', 7000), 0, me)).toBe('answered');
    expect(small.role).toBe('controlled');
    const events = [];
    for (let e = small.pollEvent(); e; e = small.pollEvent()) events.push(e);
    expect(events).toContainEqual({ type: 'role', role: 'controlled' });
    // A huge tie-breaker wins: 487 with integrity, role kept.
    const big = new IceAgent({
      mode: 'full',
      credentials: localCreds,
      random: (b) => b.fill(0xff),
    });
    big.addLocalCandidate(me);
    expect(big.handleInput(req('controlling', 0n).bytes, v4('198.51.100.1', 7000), 0, me)).toBe(
      'role-conflict',
    );
    expect(describeResponse(big.pollTransmit()!.payload, localCreds.pwd)).toMatchObject({
      error: 487,
      integrity: 'ok',
    });
    expect(big.role).toBe('controlling');
    expect(a.role).toBe('controlling');
  });

  it('controlled with the larger tie-breaker switches to controlling; with the smaller it answers 487', () => {
    // check(controlled) sends ICE-CONTROLLED 7.
    const big = fullAgent({ role: 'controlled', random: randomWithTieBreaker(9) });
    expect(big.handleInput(req('controlled', 7n).bytes, v4('198.51.100.1', 7000), 0, me)).toBe('answered');
    expect(big.role).toBe('controlling');
    const small = fullAgent({ role: 'controlled', random: randomWithTieBreaker(3) });
    expect(small.handleInput(req('controlled', 7n).bytes, v4('198.51.100.1', 7000), 0, me)).toBe(
      'role-conflict',
    );
    expect(small.role).toBe('controlled');
  });
});

describe('consent freshness as sender (RFC 7675)', () => {
  it('sends one consent check every 4–6 s on the selected pair, never retransmitted', () => {
    const w = world({ trace: true });
    w.signal();
    w.run(() => w.a.agent.state === 'completed', 5000);
    const start = w.sim.now;
    w.sim.runFor(60_000);
    const fromA = w.sim.trace.filter(
      (e) =>
        e.time > start + 1 &&
        e.verdict === 'delivered' &&
        e.from.address === '192.0.2.1' &&
        e.payload !== undefined &&
        parse(e.payload).messageClass === MessageClass.Request,
    );
    const ids = fromA.map((e) => Array.from(parse(e.payload!).transactionId).join(','));
    expect(new Set(ids).size).toBe(ids.length); // sent once each
    const times = fromA.map((e) => e.sentAt);
    expect(times.length).toBeGreaterThanOrEqual(9);
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(4000);
      expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(6000);
    }
    expect(w.a.agent.state).toBe('completed');
  });
});
