import { type Endpoint, NatPresets, Sim } from '@natkit/netsim';
import type { SocketAddress } from '@natkit/sans-io';
import { StunServer } from '@natkit/stun-agent';
import { IceAgent, type IceAgentOptions, type IceEvent } from '../src/index.ts';

export type NatKind = keyof typeof NatPresets | 'none';

export interface Scenario {
  seed?: number;
  natA?: NatKind;
  natB?: NatKind;
  modeB?: 'lite' | 'full';
  roleA?: 'controlling' | 'controlled';
  roleB?: 'controlling' | 'controlled';
  latency?: number;
  jitter?: number;
  loss?: number;
  a?: IceAgentOptions;
  b?: IceAgentOptions;
  trace?: boolean;
}

export interface Peer {
  agent: IceAgent;
  ep: Endpoint<IceAgent>;
  /** Events already forwarded to the other side. */
  seen: number;
}

/**
 * Two ICE agents in a netsim world: A (full) and B (full or lite), each on the public internet or
 * behind a NAT of the given kind, one STUN server, signalling with zero delay (trickle: every
 * `local-candidate` and `gathering-complete` is forwarded as it happens).
 */
export function world(s: Scenario) {
  const sim = new Sim({ seed: s.seed ?? 1, trace: s.trace ?? false });
  const internet = sim.network('internet', {
    latency: s.latency ?? 10,
    jitter: s.jitter ?? 0,
    loss: s.loss ?? 0,
  });
  const stunHost = sim.host('stun', { network: internet, address: '198.51.100.1' });
  stunHost.add(new StunServer(), { port: 3478, name: 'stun' });
  const stun: SocketAddress = { address: '198.51.100.1', port: 3478, family: 'IPv4' };

  const place = (name: string, kind: NatKind, inside: string, external: string, pub: string) => {
    if (kind === 'none') return sim.host(name, { network: internet, address: pub });
    const lan = sim.network(`${name}-lan`, { latency: 1 });
    sim.nat(`${name}-nat`, {
      inside: lan,
      outside: internet,
      externalAddress: external,
      ...NatPresets[kind],
    });
    return sim.host(name, { network: lan, address: inside });
  };
  const hostA = place('a', s.natA ?? 'none', '10.0.0.2', '203.0.113.1', '192.0.2.1');
  const hostB = place('b', s.natB ?? 'none', '10.1.0.2', '203.0.113.2', '192.0.2.2');

  const modeB = s.modeB ?? 'full';
  const agentA = new IceAgent({
    mode: 'full',
    role: s.roleA ?? 'controlling',
    random: sim.randomSource('agent-a'),
    stunServers: [stun],
    ...s.a,
  });
  const agentB = new IceAgent({
    mode: modeB,
    ...(modeB === 'full' ? { role: s.roleB ?? 'controlled', stunServers: [stun] } : {}),
    random: sim.randomSource('agent-b'),
    ...s.b,
  });
  const a: Peer = { agent: agentA, ep: hostA.add(agentA, { port: 5000, name: 'ice' }), seen: 0 };
  const b: Peer = { agent: agentB, ep: hostB.add(agentB, { port: 6000, name: 'ice' }), seen: 0 };

  /** Offer/answer at t=now: credentials and host candidates both ways, then gathering. */
  const signal = () => {
    const ca = a.ep.act((m) => m.addLocalCandidate(a.ep.local));
    const cb = b.ep.act((m) => m.addLocalCandidate(b.ep.local));
    a.ep.act((m) => {
      m.setRemoteCredentials(agentB.localCredentials);
      m.addRemoteCandidate(cb);
      if (modeB === 'lite') m.endOfRemoteCandidates();
    });
    b.ep.act((m) => {
      m.setRemoteCredentials(agentA.localCredentials);
      m.addRemoteCandidate(ca);
    });
    a.ep.act((m, now) => m.gather(now));
    if (modeB === 'full') b.ep.act((m, now) => m.gather(now));
  };

  /** Trickle what each side gathered since the last call. */
  const forward = () => {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      while (from.seen < from.ep.events.length) {
        const e: IceEvent = from.ep.events[from.seen++]!.event;
        if (e.type === 'local-candidate') to.ep.act((m) => m.addRemoteCandidate(e.candidate));
        if (e.type === 'gathering-complete' && to.agent.mode === 'full')
          to.ep.act((m) => m.endOfRemoteCandidates());
      }
    }
  };

  /** Steps until `done()` or `until` ms of virtual time; returns whether `done()` held. */
  const run = (done: () => boolean, until: number) => {
    forward();
    while (!done()) {
      const next = sim.nextEventTime();
      if (next === undefined || next > until) break;
      sim.step();
      forward();
    }
    if (!done() && sim.now < until) sim.runUntil(until);
    return done();
  };

  return { sim, a, b, signal, run, stun, internet };
}

export const settled = (x: IceAgent) => ['connected', 'completed', 'failed', 'closed'].includes(x.state);

export function states(p: Peer): string[] {
  return p.ep.events.flatMap((e) => (e.event.type === 'state' ? [e.event.state] : []));
}
