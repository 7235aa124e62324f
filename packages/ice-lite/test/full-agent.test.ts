import { describe, expect, it } from 'vitest';
import { type NatKind, settled, states, world } from './harness.ts';

const connected = (s: string) => s === 'connected' || s === 'completed';

describe('full agent in netsim (virtual time)', () => {
  it('full ↔ lite: the full side nominates, the lite side selects the same 5-tuple', () => {
    const w = world({ modeB: 'lite' });
    w.signal();
    expect(w.run(() => w.a.agent.state === 'completed' && w.b.agent.state === 'connected', 10_000)).toBe(
      true,
    );
    const sa = w.a.agent.selectedPair!;
    const sb = w.b.agent.selectedPair!;
    expect(sa.remote.address).toEqual(sb.local.address);
    expect(sb.remote.address).toEqual(sa.local.address);
    expect(states(w.a)).toEqual(['checking', 'connected', 'completed']);
    expect(w.sim.now).toBeLessThan(2000);
  });

  it('full ↔ full on the open internet', () => {
    const w = world({});
    w.signal();
    expect(w.run(() => connected(w.a.agent.state) && connected(w.b.agent.state), 10_000)).toBe(true);
    expect(w.a.agent.role).toBe('controlling');
    expect(w.b.agent.role).toBe('controlled');
    expect(w.b.agent.selectedPair?.remote.address).toEqual(w.a.agent.selectedPair?.local.address);
  });

  it('gathers a server-reflexive candidate behind a NAT', () => {
    const w = world({ natA: 'portRestrictedCone' });
    w.signal();
    w.run(() => w.a.ep.eventsOfType('gathering-complete').length > 0, 5000);
    const srflx = w.a.agent.localCandidates.find((c) => c.type === 'srflx');
    expect(srflx?.address.address).toBe('203.0.113.1');
    expect(srflx?.related?.address).toBe('10.0.0.2');
  });

  const nats: NatKind[] = ['none', 'fullCone', 'restrictedCone', 'portRestrictedCone', 'symmetric'];
  const pairs = nats.flatMap((x) => nats.map((y) => [x, y] as const));
  it.each(pairs)('NAT %s ↔ NAT %s', (natA, natB) => {
    const w = world({ natA, natB, seed: 7 });
    w.signal();
    const ok = w.run(() => settled(w.a.agent) && settled(w.b.agent), 120_000);
    expect(ok).toBe(true);
    // Symmetric on both sides (and symmetric vs port-restricted) cannot work without a relay.
    const impossible =
      (natA === 'symmetric' && (natB === 'symmetric' || natB === 'portRestrictedCone')) ||
      (natB === 'symmetric' && natA === 'portRestrictedCone');
    if (impossible) {
      expect(w.a.agent.state).toBe('failed');
    } else {
      expect(connected(w.a.agent.state)).toBe(true);
      expect(connected(w.b.agent.state)).toBe(true);
    }
  });

  it('connects through 30% loss and 300 ms RTT', () => {
    const w = world({ natA: 'fullCone', natB: 'restrictedCone', latency: 150, loss: 0.3, seed: 3 });
    w.signal();
    expect(w.run(() => connected(w.a.agent.state) && connected(w.b.agent.state), 60_000)).toBe(true);
  });

  it('resolves a role conflict (both start controlling): exactly one side ends controlling', () => {
    const w = world({ roleB: 'controlling' });
    w.signal();
    expect(w.run(() => connected(w.a.agent.state) && connected(w.b.agent.state), 20_000)).toBe(true);
    expect(new Set([w.a.agent.role, w.b.agent.role])).toEqual(new Set(['controlling', 'controlled']));
    const loser = w.a.agent.role === 'controlled' ? w.a : w.b;
    expect(loser.ep.eventsOfType('role')).toEqual([{ type: 'role', role: 'controlled' }]);
  });

  it('resolves a role conflict (both start controlled)', () => {
    const w = world({ roleA: 'controlled' });
    w.signal();
    expect(w.run(() => connected(w.a.agent.state) && connected(w.b.agent.state), 20_000)).toBe(true);
    expect(new Set([w.a.agent.role, w.b.agent.role])).toEqual(new Set(['controlling', 'controlled']));
  });

  it('keeps consent while the peer answers, loses it 30 s after the peer vanishes', () => {
    const w = world({});
    w.signal();
    w.run(() => connected(w.a.agent.state) && connected(w.b.agent.state), 10_000);
    const t0 = w.sim.now;
    w.sim.runUntil(t0 + 120_000);
    expect(w.a.agent.state).toBe('completed');
    const checks = w.a.agent.stats.checksSent;
    expect(checks).toBeGreaterThan(0);
    // The peer vanishes.
    w.b.ep.remove();
    const gone = w.sim.now;
    w.sim.runUntil(gone + 40_000);
    expect(w.a.agent.state).toBe('failed');
    expect(states(w.a).slice(-2)).toEqual(['disconnected', 'failed']);
    const failedAt = w.a.ep.events.find((e) => e.event.type === 'state' && e.event.state === 'failed')!.time;
    expect(failedAt - gone).toBeGreaterThan(24_000);
    expect(failedAt - gone).toBeLessThanOrEqual(30_000);
    // Outstanding consent transactions were discarded: nothing left to time.
    expect(w.a.agent.pollTimeout()).toBeUndefined();
  });

  it('the lite side loses consent 30 s after the full peer vanishes (RFC 7675), via disconnected', () => {
    const w = world({ modeB: 'lite' });
    w.signal();
    w.run(() => w.b.agent.state === 'connected', 10_000);
    w.sim.runFor(60_000);
    expect(w.b.agent.state).toBe('connected'); // the full side's consent checks keep it fresh
    w.a.ep.remove();
    const gone = w.sim.now;
    w.sim.runFor(40_000);
    expect(states(w.b).slice(-2)).toEqual(['disconnected', 'failed']);
    const failedAt = w.b.ep.events.find((e) => e.event.type === 'state' && e.event.state === 'failed')!.time;
    expect(failedAt - gone).toBeGreaterThan(24_000);
    expect(failedAt - gone).toBeLessThanOrEqual(30_000);
    expect(w.b.agent.selectedPair).toBeUndefined();
  });

  it('ICE restart: new credentials, reconnects, old ones retired', () => {
    const w = world({});
    w.signal();
    w.run(() => connected(w.a.agent.state) && connected(w.b.agent.state), 10_000);
    const oldUfrag = w.b.agent.localCredentials.ufrag;
    const na = w.a.ep.act((m) => m.restart());
    const nb = w.b.ep.act((m) => m.restart());
    w.a.ep.act((m) => {
      m.setRemoteCredentials(nb);
      m.addRemoteCandidate(w.b.agent.localCandidates[0]!);
      m.endOfRemoteCandidates();
    });
    w.b.ep.act((m) => {
      m.setRemoteCredentials(na);
      m.addRemoteCandidate(w.a.agent.localCandidates[0]!);
      m.endOfRemoteCandidates();
    });
    w.sim.runFor(5000);
    expect(w.b.ep.eventsOfType('restart-complete')).toHaveLength(1);
    expect(w.b.agent.previousCredentials).toBeUndefined();
    expect(w.b.agent.localCredentials.ufrag).not.toBe(oldUfrag);
    w.sim.runFor(60_000);
    expect(connected(w.a.agent.state)).toBe(true);
    expect(connected(w.b.agent.state)).toBe(true);
    // The same 5-tuple was selected again, as the new session's candidates.
    for (const p of [w.a, w.b]) {
      const sel = p.agent.selectedPair!;
      expect(p.agent.remoteCandidates.some((c) => c === sel.remote)).toBe(true);
      expect(p.agent.localCandidates.some((c) => c === sel.local)).toBe(true);
    }
  });

  it("no usable remote candidate (e.g. only mDNS names): waits for the peer's checks instead of failing", () => {
    // Browsers signal their host candidates as `<uuid>.local` names, which we cannot resolve
    // (`parseCandidate` reports them unsupported). With nothing else signalled, B's checklist
    // is empty after end-of-candidates; A's checks then teach B a peer-reflexive candidate
    // (RFC 8445 §7.3.1.3) and its pair (§7.3.1.4). RFC 8863: an empty checklist is not
    // failure while the PAC timer runs.
    const w = world({ a: { stunServers: [] }, b: { stunServers: [] } });
    const ca = w.a.ep.act((m) => m.addLocalCandidate(w.a.ep.local));
    const cb = w.b.ep.act((m) => m.addLocalCandidate(w.b.ep.local));
    w.b.ep.act((m) => {
      m.setRemoteCredentials(w.a.agent.localCredentials);
      m.endOfRemoteCandidates(); // A's only candidate was a name B cannot resolve
    });
    expect(w.b.agent.state).toBe('new');
    // The answer reaches A a while later.
    w.sim.runFor(2000);
    expect(w.b.agent.state).toBe('new');
    w.a.ep.act((m) => {
      m.setRemoteCredentials(w.b.agent.localCredentials);
      m.addRemoteCandidate(cb);
      m.endOfRemoteCandidates();
    });
    w.sim.runFor(5000);
    expect(w.a.agent.state).toBe('completed');
    expect(connected(w.b.agent.state)).toBe(true);
    expect(w.b.agent.remoteCandidates.map((c) => c.type)).toEqual(['prflx']);
    expect(w.b.agent.selectedPair?.remote.address).toEqual(ca.address);
    expect(states(w.b)).not.toContain('failed');
  });

  it('no usable remote candidate and no check from the peer: fails when the PAC timer expires (RFC 8863)', () => {
    for (const pacTimeout of [undefined, 5000]) {
      const w = world({ b: { stunServers: [], ...(pacTimeout ? { pacTimeout } : {}) } });
      w.sim.runFor(1000);
      w.b.ep.act((m) => m.addLocalCandidate(w.b.ep.local));
      const t0 = w.sim.now;
      w.b.ep.act((m) => {
        m.setRemoteCredentials(w.a.agent.localCredentials);
        m.endOfRemoteCandidates();
      });
      w.sim.runFor(60_000);
      expect(states(w.b)).toEqual(['failed']);
      const failedAt = w.b.ep.events.find((e) => e.event.type === 'state')!.time;
      expect(failedAt - t0).toBe(pacTimeout ?? 39_500);
      expect(w.b.agent.pollTimeout()).toBeUndefined();
    }
  });

  it('a peer-reflexive candidate signalled later takes the signalled type, priority and foundation (§7.3.1.3)', () => {
    // B answers at once and checks A before A has B's answer: A learns B as peer-reflexive.
    const w = world({ a: { stunServers: [] }, b: { stunServers: [] } });
    const ca = w.a.ep.act((m) => m.addLocalCandidate(w.a.ep.local));
    const cb = w.b.ep.act((m) => m.addLocalCandidate(w.b.ep.local));
    w.b.ep.act((m) => {
      m.setRemoteCredentials(w.a.agent.localCredentials);
      m.addRemoteCandidate(ca);
      m.endOfRemoteCandidates();
    });
    w.sim.runFor(500);
    expect(w.a.agent.remoteCandidates.map((c) => c.type)).toEqual(['prflx']);
    const learned = w.a.agent.remoteCandidates[0]!;
    expect(learned.priority).not.toBe(cb.priority);
    // B's answer arrives: its host candidate is the address A already knows.
    w.a.ep.act((m) => {
      m.setRemoteCredentials(w.b.agent.localCredentials);
      expect(m.addRemoteCandidate(cb)).toBe(true);
      expect(m.addRemoteCandidate(cb)).toBe(false); // a plain duplicate is still ignored
      m.endOfRemoteCandidates();
    });
    expect(w.a.agent.remoteCandidates).toEqual([cb]);
    expect(w.a.agent.pairs.map((p) => p.foundation)).toEqual([`${ca.foundation}:${cb.foundation}`]);
    w.sim.runFor(5000);
    expect(w.a.agent.state).toBe('completed');
    expect(w.a.agent.selectedPair?.remote).toEqual(cb);
  });

  it.each([
    ['portRestrictedCone', 'completed'],
    ['linuxMasquerade', 'failed'],
  ] as const)('offer/answer with the answerer checking first, both behind %s: %s', (nat, outcome) => {
    // The real-NAT test's finding, deterministic: behind Linux masquerade with no input filter,
    // B's first check to A's server-reflexive address claims that tuple on A's NAT, which then
    // sends A's checks to B from another port, which B's NAT filters (real-nat.test.ts).
    const w = world({ natA: nat, natB: nat });
    for (const p of [w.a, w.b]) {
      p.ep.act((m) => m.addLocalCandidate(p.ep.local));
      p.ep.act((m, now) => m.gather(now));
    }
    w.sim.runFor(1000);
    const give = (to: typeof w.a, from: typeof w.b) =>
      to.ep.act((m) => {
        m.setRemoteCredentials(from.agent.localCredentials);
        for (const c of from.agent.localCandidates) m.addRemoteCandidate(c);
        m.endOfRemoteCandidates();
      });
    give(w.b, w.a); // the offer reaches B, which starts checking
    w.sim.runFor(500);
    give(w.a, w.b); // the answer reaches A half a second later
    w.sim.runFor(120_000);
    expect(w.a.agent.state).toBe(outcome);
    expect(w.b.agent.state).toBe(outcome === 'completed' ? 'completed' : 'failed');
  });

  it("re-selecting the same 5-tuple after a restart reports the new session's candidates", () => {
    // First session: B is never told A's candidate and learns it peer-reflexively.
    const w = world({ a: { stunServers: [] }, b: { stunServers: [] } });
    const ca = w.a.ep.act((m) => m.addLocalCandidate(w.a.ep.local));
    const cb = w.b.ep.act((m) => m.addLocalCandidate(w.b.ep.local));
    w.a.ep.act((m) => {
      m.setRemoteCredentials(w.b.agent.localCredentials);
      m.addRemoteCandidate(cb);
    });
    w.b.ep.act((m) => m.setRemoteCredentials(w.a.agent.localCredentials));
    w.sim.runFor(2000);
    expect(w.b.agent.selectedPair?.remote.type).toBe('prflx');
    // After a restart both candidates are signalled; the same 5-tuple is nominated again.
    const na = w.a.ep.act((m) => m.restart());
    const nb = w.b.ep.act((m) => m.restart());
    w.a.ep.act((m) => {
      m.setRemoteCredentials(nb);
      m.addRemoteCandidate(cb);
    });
    w.b.ep.act((m) => {
      m.setRemoteCredentials(na);
      m.addRemoteCandidate(ca);
    });
    w.sim.runFor(5000);
    expect(w.b.agent.state).toBe('completed');
    expect(w.b.agent.remoteCandidates).toEqual([ca]);
    expect(w.b.agent.selectedPair?.remote).toBe(w.b.agent.remoteCandidates[0]);
  });

  it('fails (not stuck) when the peer never answers', () => {
    const w = world({});
    w.b.ep.remove();
    w.signal();
    w.a.ep.act((m) => m.endOfRemoteCandidates());
    expect(w.run(() => settled(w.a.agent), 120_000)).toBe(true);
    expect(w.a.agent.state).toBe('failed');
    expect(w.a.agent.pollTimeout()).toBeUndefined();
  });
});
