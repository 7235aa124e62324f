import { MessageBuilder, MessageClass, Method } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { IceAgent, IceRouter } from '../src/index.ts';
import { check, describeResponse, tid, v4 } from './peer.ts';

const server = v4('192.0.2.1', 3478);

function makeAgent(i: number) {
  const a = new IceAgent({
    credentials: { ufrag: `user${i}`, pwd: `password-for-agent-${i}`.replace(/-/g, '+').padEnd(22, 'x') },
  });
  a.addLocalCandidate(server);
  return a;
}

describe('IceRouter', () => {
  it('routes requests to the agent named by the USERNAME ufrag', () => {
    const router = new IceRouter();
    const agents = Array.from({ length: 50 }, (_, i) => makeAgent(i));
    for (const a of agents) router.add(a);
    expect(router.size).toBe(50);
    for (const i of [0, 17, 49]) {
      const a = agents[i]!;
      const from = v4('198.51.100.1', 1000 + i);
      const verdict = router.handleInput(
        check({
          username: `${a.localCredentials.ufrag}:peer`,
          pwd: a.localCredentials.pwd,
          useCandidate: true,
        }),
        from,
        i,
        server,
      );
      expect(verdict).toBe('answered');
      const t = router.pollTransmit()!;
      expect(describeResponse(t.payload, a.localCredentials.pwd)).toMatchObject({
        integrity: 'ok',
        mapped: from,
      });
      expect(router.pollTransmit()).toBeUndefined();
      const events = [];
      for (let e = router.pollEvent(); e; e = router.pollEvent()) events.push(e);
      expect(events.every((e) => e.agent === a)).toBe(true);
      expect(events.map((e) => e.event.type)).toContain('selected-pair');
      expect(a.state).toBe('connected');
    }
  });

  it('drops requests for unknown ufrags silently and counts them', () => {
    const router = new IceRouter();
    router.add(makeAgent(1));
    expect(
      router.handleInput(check({ username: 'nobody:x', pwd: 'whateverpassword22chars' }), server, 0),
    ).toBe('unknown-ufrag');
    expect(router.handleInput(check({ pwd: 'whateverpassword22chars' }), server, 0)).toBe('unknown-ufrag');
    expect(router.handleInput(new Uint8Array([0x17, 0xfe, 0xfd]), server, 0)).toBe('not-stun');
    // RFC 7983's STUN range (first byte 0–3), shorter than a header: malformed STUN, not data.
    expect(router.handleInput(new Uint8Array([0x00, 0x01, 0x00]), server, 0)).toBe('malformed');
    expect(router.pollTransmit()).toBeUndefined();
    expect(router.stats.unknownUfrag).toBe(2);
  });

  it('the agent still answers a wrong password with 401', () => {
    const router = new IceRouter();
    const a = makeAgent(1);
    router.add(a);
    expect(router.handleInput(check({ username: 'user1:x', pwd: 'wrongpassword22chars++' }), server, 0)).toBe(
      'unauthorized',
    );
    expect(describeResponse(router.pollTransmit()!.payload).error).toBe(401);
  });

  it('drops responses that match no outstanding transaction', () => {
    const router = new IceRouter();
    router.add(makeAgent(1));
    const resp = new MessageBuilder()
      .reset(Method.Binding, MessageClass.Success, tid())
      .addFingerprint()
      .build();
    expect(router.handleInput(resp, server, 0)).toBe('unknown-transaction');
    expect(router.stats.unknownTransaction).toBe(1);
  });

  it('runs the agents timers from one heap and reports the earliest', () => {
    const router = new IceRouter();
    const agents = [makeAgent(1), makeAgent(2), makeAgent(3)];
    for (const a of agents) router.add(a);
    expect(router.pollTimeout()).toBeUndefined();
    agents.forEach((a, i) => {
      router.handleInput(
        check({ username: `${a.localCredentials.ufrag}:p`, pwd: a.localCredentials.pwd, useCandidate: true }),
        v4('10.0.0.1', i + 1),
        [3000, 1000, 2000][i]!,
        server,
      );
    });
    while (router.pollTransmit());
    while (router.pollEvent());
    expect(router.pollTimeout()).toBe(13_000); // agent 2, connected at 1000, disconnected at +12 s
    router.handleTimeout(13_000);
    expect(agents.map((a) => a.state)).toEqual(['connected', 'disconnected', 'connected']);
    expect(router.pollTimeout()).toBe(14_000);
    const t = 100_000;
    router.handleTimeout(t);
    expect(agents.map((a) => a.state)).toEqual(['failed', 'failed', 'failed']);
    expect(router.pollTimeout()).toBeUndefined();
  });

  it('follows an ICE restart: new ufrag routed, old one until the peer switches', () => {
    const router = new IceRouter();
    const a = makeAgent(1);
    router.add(a);
    const old = a.localCredentials;
    const fresh = a.restart({ ufrag: 'fresh', pwd: 'freshpassword22chars++' });
    router.update(a);
    expect(router.get('user1')).toBe(a);
    expect(router.get('fresh')).toBe(a);
    expect(router.handleInput(check({ username: `${old.ufrag}:p`, pwd: old.pwd }), server, 0)).toBe(
      'answered',
    );
    expect(router.handleInput(check({ username: 'fresh:p', pwd: fresh.pwd }), server, 1)).toBe('answered');
    expect(router.get('user1')).toBeUndefined();
    expect(router.handleInput(check({ username: `${old.ufrag}:p`, pwd: old.pwd }), server, 2)).toBe(
      'unknown-ufrag',
    );
  });

  it('an agent turning busy (its entry and slots re-allocated) keeps its routes, timers and removal', () => {
    const router = new IceRouter();
    const agents = [makeAgent(1), makeAgent(2)];
    for (const a of agents) router.add(a);
    const [a, b] = agents as [IceAgent, IceAgent];
    const creds = { ...a.localCredentials };
    const ask = (x: IceAgent, now: number, ufrag = x.localCredentials.ufrag) =>
      router.handleInput(
        check({ username: `${ufrag}:p`, pwd: x.localCredentials.pwd, useCandidate: true }),
        server,
        now,
      );
    expect(ask(a, 0)).toBe('answered');
    while (router.pollTransmit() !== undefined);
    // Same credentials by value, and routed by them as before.
    expect(a.localCredentials).toEqual(creds);
    expect(router.get(creds.ufrag)).toBe(a);
    expect(ask(a, 1)).toBe('answered');
    expect(router.pollTransmit()).toBeDefined();
    // The consent timer of its selected pair lives in the router's heap (moved lazily: the
    // deadline of the first check fires, finds nothing due, and the real one is read then).
    expect(router.pollTimeout()).toBe(12_000);
    router.handleTimeout(12_000);
    expect(a.state).toBe('connected');
    expect(router.pollTimeout()).toBe(12_001);
    router.handleTimeout(12_001);
    expect(a.state).toBe('disconnected');
    // A restart after the move is routed too.
    const fresh = a.restart({ ufrag: 'fresh1', pwd: 'freshpassword22chars++' });
    router.update(a);
    expect(router.handleInput(check({ username: 'fresh1:p', pwd: fresh.pwd }), server, 20_000)).toBe(
      'answered',
    );
    expect(router.get(creds.ufrag)).toBeUndefined();
    // Removing it leaves the other agent alone.
    router.remove(a);
    expect(router.size).toBe(1);
    expect(router.get('fresh1')).toBeUndefined();
    expect(router.handleInput(check({ username: 'fresh1:p', pwd: fresh.pwd }), server, 20_001)).toBe(
      'unknown-ufrag',
    );
    expect(ask(b, 20_002)).toBe('answered');
  });

  it('refuses two agents with one ufrag and forgets removed agents', () => {
    const router = new IceRouter();
    const a = makeAgent(1);
    router.add(a);
    expect(() => router.add(makeAgent(1))).toThrow();
    router.remove(a);
    expect(router.get('user1')).toBeUndefined();
    expect(router.size).toBe(0);
  });

  it('a removed agent no longer gets the responses to its requests', () => {
    const router = new IceRouter();
    const a = new IceAgent({ mode: 'full', credentials: { ufrag: 'full', pwd: 'fullpassword22chars+++' } });
    a.addLocalCandidate(server);
    a.setRemoteCredentials({ ufrag: 'peer', pwd: 'peerpassword22chars+++' });
    const peer = v4('198.51.100.9', 4000);
    a.addRemoteCandidate({
      foundation: '1',
      component: 1,
      transport: 'UDP',
      priority: 1,
      address: peer,
      type: 'host',
    });
    router.add(a);
    router.handleTimeout(router.pollTimeout() ?? 0);
    const req = router.pollTransmit()!;
    expect(req.destination).toEqual(peer);
    router.remove(a);
    while (router.pollEvent());
    const resp = new MessageBuilder()
      .reset(Method.Binding, MessageClass.Success, req.payload.slice(8, 20))
      .addFingerprint()
      .build();
    expect(router.handleInput(resp, peer, 1, server)).toBe('unknown-transaction');
    expect(router.pollEvent()).toBeUndefined();
  });
});

describe('IceRouter with full agents (responses routed by transaction ID)', () => {
  it('two full agents behind one router connect to two lite agents in netsim', async () => {
    const { Sim } = await import('@natkit/netsim');
    const sim = new Sim({ seed: 5, trace: false });
    const net = sim.network('internet', { latency: 10 });
    const hostA = sim.host('a', { network: net, address: '192.0.2.1' });
    const hostB = sim.host('b', { network: net, address: '192.0.2.2' });
    const router = new IceRouter();
    const routerEp = hostA.add(router, { port: 5000, name: 'router' });
    const fulls = [0, 1].map((i) => new IceAgent({ mode: 'full', random: sim.randomSource(`full${i}`) }));
    const lites = [0, 1].map((i) => new IceAgent({ random: sim.randomSource(`lite${i}`) }));
    const liteEps = lites.map((l, i) => hostB.add(l, { port: 6000 + i, name: `lite${i}` }));
    for (let i = 0; i < 2; i++) {
      const full = fulls[i]!;
      const lite = lites[i]!;
      routerEp.act((r) => {
        full.addLocalCandidate(routerEp.local);
        r.add(full);
      });
      const lc = liteEps[i]!.act((l) => {
        const c = l.addLocalCandidate(liteEps[i]!.local);
        l.setRemoteCredentials(full.localCredentials);
        return c;
      });
      routerEp.act((r) => {
        full.setRemoteCredentials(lite.localCredentials);
        full.addRemoteCandidate(lc);
        full.endOfRemoteCandidates();
        r.update(full);
      });
    }
    sim.runUntil(
      () => fulls.every((f) => f.state === 'completed') && lites.every((l) => l.state === 'connected'),
      {
        timeout: 10_000,
      },
    );
    expect(router.stats.unknownTransaction).toBe(0);
    expect(fulls.map((f) => f.selectedPair?.remote.address.port)).toEqual([6000, 6001]);
  });
});
