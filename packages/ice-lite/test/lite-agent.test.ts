import { AttrType, MessageClass } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { IceAgent, type IceEvent } from '../src/index.ts';
import { check, describeResponse, v4 } from './peer.ts';

const creds = { ufrag: 'srvU', pwd: 'serverpassword22chars+' };
const server = v4('192.0.2.1', 3478);
const browser = v4('198.51.100.7', 50000);

function agent(opts: ConstructorParameters<typeof IceAgent>[0] = {}) {
  const a = new IceAgent({ credentials: creds, ...opts });
  a.addLocalCandidate(server);
  return a;
}

function drainEvents(a: IceAgent): IceEvent[] {
  const out: IceEvent[] = [];
  for (let e = a.pollEvent(); e; e = a.pollEvent()) out.push(e);
  return out;
}

function states(events: IceEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'state' ? [e.state] : []));
}

const good = (extra: Partial<Parameters<typeof check>[0]> = {}) =>
  check({ username: 'srvU:brws', pwd: creds.pwd, ...extra });

describe('lite agent answers checks (RFC 8445 §7.3)', () => {
  it('answers an authenticated check with XOR-MAPPED-ADDRESS, MI keyed by our pwd, FINGERPRINT, no USERNAME', () => {
    const a = agent();
    const req = good();
    expect(a.handleInput(req, browser, 0, server)).toBe('answered');
    const t = a.pollTransmit()!;
    expect(t.source).toEqual(server);
    expect(t.destination).toEqual(browser);
    const r = describeResponse(t.payload, creds.pwd);
    expect(r).toMatchObject({
      class: MessageClass.Success,
      mapped: browser,
      integrity: 'ok',
      fingerprint: 'ok',
      hasUsername: false,
    });
    expect(r.transactionId).toEqual(Array.from(req.subarray(8, 20)));
    expect(a.pollTransmit()).toBeUndefined();
    expect(a.stats.checksAnswered).toBe(1);
  });

  it('learns a peer-reflexive remote candidate with the PRIORITY of the request', () => {
    const a = agent();
    a.handleInput(good({ priority: 1845501695 }), browser, 0, server);
    const [cand] = a.remoteCandidates;
    expect(cand).toMatchObject({ type: 'prflx', priority: 1845501695, address: browser });
    expect(drainEvents(a)).toEqual([
      { type: 'remote-candidate', candidate: cand },
      { type: 'state', state: 'checking' },
    ]);
    // The same source is not learnt twice.
    a.handleInput(good(), browser, 1, server);
    expect(a.remoteCandidates).toHaveLength(1);
  });

  it('a signalled remote candidate is not re-learnt as prflx', () => {
    const a = agent();
    a.addRemoteCandidate({
      foundation: '1',
      component: 1,
      transport: 'UDP',
      priority: 2130706431,
      address: browser,
      type: 'host',
    });
    a.handleInput(good(), browser, 0, server);
    expect(a.remoteCandidates.map((c) => c.type)).toEqual(['host']);
  });

  it.each([
    ['no USERNAME', check({ pwd: creds.pwd }), 400, 'bad-request'],
    ['no MESSAGE-INTEGRITY', check({ username: 'srvU:brws' }), 400, 'bad-request'],
    ['unknown ufrag', check({ username: 'nope:brws', pwd: creds.pwd }), 401, 'unauthorized'],
    ['ufrag only a prefix', check({ username: 'srvUx:brws', pwd: creds.pwd }), 401, 'unauthorized'],
    ['no colon', check({ username: 'srvU', pwd: creds.pwd }), 401, 'unauthorized'],
    ['wrong password', check({ username: 'srvU:brws', pwd: 'wrongpassword22chars++' }), 401, 'unauthorized'],
  ] as const)('%s → error response without integrity, allocating nothing', (_name, req, code, verdict) => {
    const a = agent();
    expect(a.handleInput(req, browser, 0, server)).toBe(verdict);
    const r = describeResponse(a.pollTransmit()!.payload);
    expect(r).toMatchObject({
      class: MessageClass.Error,
      error: code,
      hasIntegrity: false,
      hasUsername: false,
    });
    expect(r.fingerprint).toBe('ok');
    expect(a.remoteCandidates).toHaveLength(0);
    expect(a.state).toBe('new');
    expect(a.pollEvent()).toBeUndefined();
  });

  it('drops requests without or with a wrong FINGERPRINT silently', () => {
    const a = agent();
    expect(a.handleInput(good({ fingerprint: false }), browser, 0, server)).toBe('bad-fingerprint');
    const bad = good();
    bad[bad.length - 1]! ^= 1;
    expect(a.handleInput(bad, browser, 0, server)).toBe('bad-fingerprint');
    expect(a.pollTransmit()).toBeUndefined();
    expect(a.stats.dropped).toBe(2);
  });

  it('classifies non-STUN and malformed input without throwing', () => {
    const a = agent();
    expect(a.handleInput(new Uint8Array([22, 254, 253, 0]), browser, 0)).toBe('not-stun');
    expect(a.handleInput(new Uint8Array(40).fill(0x80), browser, 0)).toBe('not-stun');
    const trunc = good().subarray(0, 30);
    expect(a.handleInput(trunc, browser, 0)).toBe('malformed');
    expect(a.pollTransmit()).toBeUndefined();
  });

  it('answers unknown comprehension-required attributes with an authenticated 420', () => {
    const a = agent();
    const req = good({ extra: [[0x0042, new Uint8Array(4)]] });
    expect(a.handleInput(req, browser, 0, server)).toBe('unknown-attribute');
    const r = describeResponse(a.pollTransmit()!.payload, creds.pwd);
    expect(r).toMatchObject({ error: 420, integrity: 'ok', unknown: [0x0042] });
  });

  it('answers ICE-CONTROLLED with an authenticated 487 (the full peer must control)', () => {
    const a = agent();
    expect(a.handleInput(good({ controlled: true }), browser, 0, server)).toBe('role-conflict');
    expect(describeResponse(a.pollTransmit()!.payload, creds.pwd)).toMatchObject({
      error: 487,
      integrity: 'ok',
    });
    expect(a.role).toBe('controlled');
    expect(a.selectedPair).toBeUndefined();
  });

  it('ignores indications (keepalives) and responses', () => {
    const a = agent();
    const ind = good();
    ind[1] = 0x11; // Binding indication
    expect(a.handleInput(ind, browser, 0, server)).toBe('ignored');
    expect(a.pollTransmit()).toBeUndefined();
  });

  it('queues several answers before a poll without corrupting the earlier ones', () => {
    const a = agent();
    const reqs = [good(), good(), good()];
    const from = [v4('10.0.0.1', 1), v4('10.0.0.2', 2), v4('10.0.0.3', 3)];
    for (let i = 0; i < 3; i++) a.handleInput(reqs[i]!, from[i]!, 0, server);
    const b = agent();
    b.handleInput(good(), v4('10.9.9.9', 9), 0, server); // another agent reuses the shared builder
    for (let i = 0; i < 3; i++) {
      const t = a.pollTransmit()!;
      expect(describeResponse(t.payload, creds.pwd)).toMatchObject({ mapped: from[i], integrity: 'ok' });
      expect(describeResponse(t.payload).transactionId).toEqual(Array.from(reqs[i]!.subarray(8, 20)));
    }
    expect(describeResponse(b.pollTransmit()!.payload).mapped).toEqual(v4('10.9.9.9', 9));
  });

  it('bounds its transmit queue and counts what it drops', () => {
    const a = agent({ maxQueuedTransmits: 2 });
    for (let i = 0; i < 5; i++) a.handleInput(good(), browser, 0, server);
    expect(a.stats.transmitsDropped).toBe(3);
    expect(a.pollTransmit()).toBeDefined();
    expect(a.pollTransmit()).toBeDefined();
    expect(a.pollTransmit()).toBeUndefined();
  });
});

describe('nomination (RFC 8445 §7.3.2, §8.2)', () => {
  it('USE-CANDIDATE selects the pair and reports connected', () => {
    const a = agent();
    a.handleInput(good(), browser, 0, server);
    expect(a.selectedPair).toBeUndefined();
    drainEvents(a);
    a.handleInput(good({ useCandidate: true }), browser, 10, server);
    const events = drainEvents(a);
    expect(events[0]).toMatchObject({
      type: 'selected-pair',
      local: { address: server, type: 'host' },
      remote: { address: browser, type: 'prflx' },
    });
    expect(states(events)).toEqual(['connected']);
    expect(a.state).toBe('connected');
    // Repeated nominations of the same pair are not re-announced.
    a.handleInput(good({ useCandidate: true }), browser, 20, server);
    expect(drainEvents(a)).toEqual([]);
  });

  it('switches when the peer nominates another pair', () => {
    const a = agent();
    const other = v4('203.0.113.9', 40000);
    a.handleInput(good({ useCandidate: true }), browser, 0, server);
    drainEvents(a);
    a.handleInput(good({ useCandidate: true }), other, 5, server);
    const events = drainEvents(a);
    expect(events.map((e) => e.type)).toEqual(['remote-candidate', 'selected-pair']);
    expect(a.selectedPair?.remote.address).toEqual(other);
  });

  it("the browser's candidate signalled after its checks replaces the peer-reflexive one (§7.3.1.3)", () => {
    const a = agent();
    a.handleInput(good({ useCandidate: true }), browser, 0, server);
    expect(a.selectedPair?.remote.type).toBe('prflx');
    const host = {
      foundation: '3590775579',
      component: 1,
      transport: 'UDP',
      priority: 2122260223,
      address: browser,
      type: 'host',
    } as const;
    expect(a.addRemoteCandidate(host)).toBe(true);
    expect(a.remoteCandidates).toEqual([host]);
    expect(a.selectedPair?.remote).toEqual(host);
  });

  it('picks the local candidate the request arrived on', () => {
    const a = agent();
    const second = v4('192.0.2.2', 3478);
    const c2 = a.addLocalCandidate(second);
    expect(c2.priority).toBeLessThan(a.localCandidates[0]!.priority);
    a.handleInput(good({ useCandidate: true }), browser, 0, second);
    expect(a.selectedPair?.local.address).toEqual(second);
    expect(a.pollTransmit()!.source).toEqual(second);
  });
});

describe('consent freshness from the lite side (RFC 7675)', () => {
  function connected() {
    const a = agent();
    a.handleInput(good({ useCandidate: true }), browser, 1000, server);
    drainEvents(a);
    return a;
  }

  it('goes disconnected, then failed after 30 s without an authenticated check', () => {
    const a = connected();
    expect(a.pollTimeout()).toBe(13_000);
    a.handleTimeout(13_000);
    expect(states(drainEvents(a))).toEqual(['disconnected']);
    expect(a.pollTimeout()).toBe(31_000);
    a.handleTimeout(30_999);
    expect(a.state).toBe('disconnected');
    a.handleTimeout(31_000);
    expect(states(drainEvents(a))).toEqual(['failed']);
    expect(a.selectedPair).toBeUndefined();
    expect(a.pollTimeout()).toBeUndefined();
  });

  it('a check on the selected pair revives a disconnected agent', () => {
    const a = connected();
    a.handleTimeout(13_000);
    drainEvents(a);
    a.handleInput(good(), browser, 20_000, server);
    expect(states(drainEvents(a))).toEqual(['connected']);
    expect(a.pollTimeout()).toBe(32_000);
  });

  it('checks keep it fresh; checks on other pairs and unauthenticated ones do not', () => {
    const a = connected();
    for (let t = 5000; t <= 60_000; t += 5000) {
      a.handleInput(good(), browser, t, server);
      a.handleInput(check({ username: 'srvU:brws', pwd: 'wrongpassword22chars++' }), browser, t, server);
      a.handleTimeout(t);
    }
    expect(a.state).toBe('connected');
    a.handleInput(good(), v4('203.0.113.9', 1), 61_000, server);
    a.handleTimeout(72_000);
    expect(a.state).toBe('disconnected');
  });

  it('after expiry nominations are ignored until an ICE restart', () => {
    const a = connected();
    a.handleTimeout(100_000);
    drainEvents(a);
    a.handleInput(good({ useCandidate: true }), browser, 100_001, server);
    expect(a.selectedPair).toBeUndefined();
    expect(a.pollTransmit()).toBeDefined(); // still answered: a lite agent is a STUN server
    const fresh = a.restart({ ufrag: 'newU', pwd: 'newpassword22chars+++/' });
    expect(states(drainEvents(a))).toEqual(['checking']);
    a.handleInput(
      check({ username: `${fresh.ufrag}:b2`, pwd: fresh.pwd, useCandidate: true }),
      browser,
      100_002,
      server,
    );
    expect(a.state).toBe('connected');
  });

  it('never asks for a timeout at or before the time it just handled', () => {
    const a = connected();
    for (const t of [0, 5000, 13_000, 13_000, 20_000, 31_000, 40_000]) {
      a.handleTimeout(t);
      const next = a.pollTimeout();
      expect(next === undefined || next > t).toBe(true);
    }
  });
});

describe('ICE restart (RFC 8445 §9)', () => {
  it('honours the old credentials until the peer uses the new ones', () => {
    const a = agent();
    a.handleInput(good({ useCandidate: true }), browser, 0, server);
    a.pollTransmit();
    drainEvents(a);
    const fresh = a.restart({ ufrag: 'newU', pwd: 'newpassword22chars+++/' });
    expect(a.localCredentials).toEqual(fresh);
    expect(a.previousCredentials).toEqual(creds);
    // Old credentials still work, and the old selected pair stays.
    expect(a.handleInput(good(), browser, 1, server)).toBe('answered');
    a.pollTransmit();
    expect(a.selectedPair?.remote.address).toEqual(browser);
    // The peer switches.
    expect(a.handleInput(check({ username: 'newU:b2', pwd: fresh.pwd }), browser, 2, server)).toBe(
      'answered',
    );
    expect(describeResponse(a.pollTransmit()!.payload, fresh.pwd).integrity).toBe('ok');
    expect(drainEvents(a)).toEqual([{ type: 'restart-complete', ufrag: 'newU' }]);
    expect(a.previousCredentials).toBeUndefined();
    // Now the old ones are refused.
    expect(a.handleInput(good(), browser, 3, server)).toBe('unauthorized');
  });

  it('before the peer switches, old credentials still learn new addresses and nominate', () => {
    const a = agent();
    a.handleInput(good({ useCandidate: true }), browser, 0, server);
    a.restart({ ufrag: 'newU', pwd: 'newpassword22chars+++/' });
    const moved = v4('198.51.100.7', 50002);
    expect(a.handleInput(good({ useCandidate: true }), moved, 1, server)).toBe('answered');
    expect(a.selectedPair?.remote.address).toEqual(moved);
    expect(a.previousCredentials).toEqual(creds);
  });

  it('two restarts in a row keep honouring what the peer last used', () => {
    const a = agent();
    a.handleInput(good(), browser, 0, server);
    a.restart({ ufrag: 'twoU', pwd: 'twopassword22chars+++/' });
    a.restart({ ufrag: 'thrU', pwd: 'thrpassword22chars+++/' });
    expect(a.previousCredentials).toEqual(creds);
    expect(a.handleInput(good(), browser, 1, server)).toBe('answered');
    expect(
      a.handleInput(check({ username: 'twoU:x', pwd: 'twopassword22chars+++/' }), browser, 1, server),
    ).toBe('unauthorized');
  });

  it('rejects a restart that does not change both credentials', () => {
    const a = agent();
    expect(() => a.restart({ ufrag: creds.ufrag, pwd: 'newpassword22chars+++/' })).toThrow();
  });
});

describe('configuration and lifecycle', () => {
  it('generates credentials from the injected RandomSource', () => {
    const a = new IceAgent({ random: (b) => b.fill(1) });
    expect(a.localCredentials).toEqual({ ufrag: 'BBBBBBBB', pwd: 'B'.repeat(24) });
  });
  it('refuses non-host local candidates in lite mode and bad options', () => {
    const a = agent();
    expect(() => a.addLocalCandidate({ ...a.localCandidates[0]!, type: 'srflx' })).toThrow();
    expect(() => a.addLocalCandidate(server)).toThrow();
    expect(() => new IceAgent({ consentTimeout: 0 })).toThrow(RangeError);
    expect(() => new IceAgent({ credentials: { ufrag: 'ab', pwd: creds.pwd } })).toThrow(RangeError);
  });
  it('a consentTimeout shorter than the default disconnectedTimeout alone is accepted', () => {
    const a = agent({ consentTimeout: 10_000 });
    a.handleInput(good({ useCandidate: true }), browser, 0, server);
    expect(a.state).toBe('connected');
    a.handleTimeout(9_999);
    expect(a.state).toBe('connected');
    a.handleTimeout(10_000);
    expect(a.state).toBe('failed');
    expect(() => new IceAgent({ consentTimeout: 10_000, disconnectedTimeout: 11_000 })).toThrow(RangeError);
  });
  it('caps remote candidates and ignores trickled ones after end-of-candidates', () => {
    const a = agent({ maxRemoteCandidates: 1 });
    a.handleInput(good(), v4('10.0.0.1', 1), 0, server);
    a.handleInput(good(), v4('10.0.0.2', 2), 0, server);
    expect(a.remoteCandidates).toHaveLength(1);
    expect(a.stats.remoteCandidatesRefused).toBe(1);
    const b = agent();
    b.endOfRemoteCandidates();
    expect(
      b.addRemoteCandidate({
        foundation: '1',
        component: 1,
        transport: 'UDP',
        priority: 1,
        address: browser,
        type: 'host',
      }),
    ).toBe(false);
  });
  it('close() stops everything', () => {
    const a = agent();
    a.handleInput(good({ useCandidate: true }), browser, 0, server);
    a.close();
    expect(a.state).toBe('closed');
    expect(a.pollTransmit()).toBeUndefined();
    expect(a.pollTimeout()).toBeUndefined();
    expect(a.handleInput(good(), browser, 1, server)).toBe('closed');
  });
  it('answers without a `to` address from its only candidate', () => {
    const a = agent();
    a.handleInput(good(), browser, 0);
    expect(a.pollTransmit()!.source).toEqual(server);
    expect(AttrType.Username).toBe(6);
  });
});

describe('IPv6', () => {
  it('answers over IPv6 with an IPv6 XOR-MAPPED-ADDRESS', () => {
    const local = { address: '2001:db8::1', port: 3478, family: 'IPv6' as const };
    const from = { address: '2001:db8::99', port: 40000, family: 'IPv6' as const };
    const a = new IceAgent({ credentials: creds });
    a.addLocalCandidate(local);
    expect(a.handleInput(good({ useCandidate: true }), from, 0, local)).toBe('answered');
    const t = a.pollTransmit()!;
    expect(t.source).toEqual(local);
    expect(describeResponse(t.payload, creds.pwd)).toMatchObject({ mapped: from, integrity: 'ok' });
    expect(a.selectedPair?.remote.address).toEqual(from);
  });

  it('without `to`, a check is attributed to a host candidate of its own family (dual-stack socket)', () => {
    const local6 = { address: '2001:db8::1', port: 3478, family: 'IPv6' as const };
    const from6 = { address: '2001:db8::99', port: 40000, family: 'IPv6' as const };
    const a = new IceAgent({ credentials: creds });
    a.addLocalCandidate(server);
    a.addLocalCandidate(local6);
    // io-node passes no `to`: the agent must not pair the IPv4 candidate with an IPv6 peer.
    expect(a.handleInput(good({ useCandidate: true }), from6, 0)).toBe('answered');
    expect(a.pollTransmit()!.source).toEqual(local6);
    expect(a.selectedPair?.local.address).toEqual(local6);
    expect(a.selectedPair?.remote.address).toEqual(from6);
  });

  it('a full agent pairs only candidates of the same address family (RFC 8445 §6.1.2.2)', () => {
    const a = new IceAgent({ mode: 'full', credentials: creds });
    a.addLocalCandidate(server);
    a.addLocalCandidate({ address: '2001:db8::1', port: 3478, family: 'IPv6' });
    a.addRemoteCandidate({
      foundation: '1',
      component: 1,
      transport: 'UDP',
      priority: 1,
      address: browser,
      type: 'host',
    });
    a.addRemoteCandidate({
      foundation: '2',
      component: 1,
      transport: 'UDP',
      priority: 2,
      address: { address: '2001:db8::99', port: 1, family: 'IPv6' },
      type: 'host',
    });
    expect(a.pairs).toHaveLength(2);
    for (const p of a.pairs) {
      expect(a.localCandidates[p.local]!.address.family).toBe(a.remoteCandidates[p.remote]!.address.family);
    }
  });
});
