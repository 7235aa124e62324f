import { Sim } from '@natkit/netsim';
import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { describe, expect, it } from 'vitest';
import { IceAgent, IceTransport, type IceTransportEvent } from '../src/index.ts';
import { check, v4 } from './peer.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);

/** Two full agents, each inside an IceTransport, on the netsim internet; signalled at t=0. */
function pair(options: { onDataB?: (payload: Uint8Array, from: SocketAddress) => void } = {}) {
  const sim = new Sim({ seed: 5 });
  const internet = sim.network('internet', { latency: 10 });
  const ta = new IceTransport(
    new IceAgent({ mode: 'full', role: 'controlling', random: sim.randomSource('a') }),
  );
  const tb = new IceTransport(
    new IceAgent({ mode: 'full', role: 'controlled', random: sim.randomSource('b') }),
    {
      ...(options.onDataB ? { onData: options.onDataB } : {}),
    },
  );
  const ea = sim.host('a', { network: internet, address: '192.0.2.1' }).add(ta, { port: 5000 });
  const eb = sim.host('b', { network: internet, address: '192.0.2.2' }).add(tb, { port: 6000 });
  const stranger = sim.host('c', { network: internet, address: '192.0.2.3' });
  const ca = ea.act((m) => m.agent.addLocalCandidate(ea.local));
  const cb = eb.act((m) => m.agent.addLocalCandidate(eb.local));
  ea.act((m) => {
    m.agent.setRemoteCredentials(tb.agent.localCredentials);
    m.agent.addRemoteCandidate(cb);
    m.agent.endOfRemoteCandidates();
  });
  eb.act((m) => {
    m.agent.setRemoteCredentials(ta.agent.localCredentials);
    m.agent.addRemoteCandidate(ca);
    m.agent.endOfRemoteCandidates();
  });
  return { sim, ta, tb, ea, eb, stranger };
}

const data = (events: readonly { event: IceTransportEvent }[]) =>
  events.flatMap((e) => (e.event.type === 'data' ? [e.event] : []));

describe('IceTransport: application data on the selected pair (RFC 8445 §12, RFC 7675)', () => {
  it('refuses to send before a pair is selected, then carries data both ways', () => {
    const { sim, ta, tb, ea, eb } = pair();
    expect(ea.act((m) => m.send(bytes(0x80, 1)))).toBe(false);
    expect(ta.stats.sendsRefused).toBe(1);
    sim.runFor(2000);
    expect(ta.agent.state).toBe('completed');
    expect(ta.canSend).toBe(true);
    // RTP-like first bytes (RFC 7983: 128–191), then DTLS-like (20–63).
    expect(ea.act((m) => m.send(bytes(0x80, 1, 2, 3)))).toBe(true);
    expect(eb.act((m) => m.send(bytes(22, 254, 253)))).toBe(true);
    sim.runFor(100);
    expect(data(eb.events)).toEqual([{ type: 'data', payload: bytes(0x80, 1, 2, 3), from: ea.local }]);
    expect(data(ea.events)).toEqual([{ type: 'data', payload: bytes(22, 254, 253), from: eb.local }]);
    expect(ta.stats).toMatchObject({ dataIn: 1, dataOut: 1, sendsRefused: 1 });
    expect(tb.stats).toMatchObject({ dataIn: 1, dataOut: 1, dataUnexpected: 0 });
    // STUN still goes to the agent: consent checks keep being answered.
    sim.runFor(20_000);
    expect(ta.agent.state).toBe('completed');
    expect(tb.agent.stats.checksAnswered).toBeGreaterThan(2);
  });

  it('drops datagrams from an address ICE never checked', () => {
    const { sim, tb, eb, stranger } = pair();
    sim.runFor(2000);
    // A machine that sends one RTP-looking datagram to B's socket.
    const out: Transmit[] = [{ destination: eb.local, payload: bytes(0x80, 9) }];
    const intruder: Machine<never> = {
      handleInput: () => undefined,
      pollTransmit: () => out.shift(),
      pollTimeout: () => undefined,
      handleTimeout: () => undefined,
      pollEvent: () => undefined,
    };
    stranger.add(intruder, { port: 7000 }).act(() => undefined);
    sim.runFor(100);
    expect(data(eb.events)).toEqual([]);
    expect(tb.stats.dataUnexpected).toBe(1);
  });

  it('onData gets a view during handleInput, without a copy or an event', () => {
    const got: number[][] = [];
    const { sim, ea, eb } = pair({ onDataB: (p) => got.push([...p]) });
    sim.runFor(2000);
    ea.act((m) => m.send(bytes(0x90, 7)));
    sim.runFor(100);
    expect(got).toEqual([[0x90, 7]]);
    expect(data(eb.events)).toEqual([]);
  });

  it('stops sending when consent expires (RFC 7675 §5.1)', () => {
    const { sim, ta, ea, eb } = pair();
    sim.runFor(2000);
    eb.remove(); // the peer vanishes: consent checks go unanswered
    sim.runFor(31_000);
    expect(ta.agent.state).toBe('failed');
    expect(ta.canSend).toBe(false);
    expect(ea.act((m) => m.send(bytes(0x80)))).toBe(false);
  });

  it('accepts data from the peer before this side has selected (the peer may send on a pair it found valid first)', () => {
    const { ea, eb, tb } = pair();
    // Signalled, not selected yet: A's candidate is known to B.
    expect(tb.agent.selectedPair).toBeUndefined();
    // A datagram from A's (signalled) address, sent by hand as the peer's data would be.
    expect(eb.act((m, now) => m.handleInput(bytes(0x80, 5), ea.local, now))).toBe('data');
    expect(tb.stats.dataIn).toBe(1);
  });

  it('queued datagrams do not leave once consent has expired or the agent is closed (RFC 7675 §5.1)', () => {
    const server = v4('192.0.2.1', 3478);
    const browser = v4('198.51.100.7', 50000);
    for (const end of ['consent', 'close'] as const) {
      const t = new IceTransport(new IceAgent());
      t.agent.addLocalCandidate(server);
      const username = `${t.agent.localCredentials.ufrag}:peer`;
      expect(
        t.handleInput(check({ username, pwd: t.agent.localCredentials.pwd, useCandidate: true }), browser, 0),
      ).toBe('answered');
      expect(t.agent.state).toBe('connected');
      expect(t.send(bytes(0x80, 1))).toBe(true);
      expect(t.pollTransmit()?.payload[0]).toBe(1); // the agent's STUN response goes first
      // Before the driver polls again, consent expires (30 s without a check) or the app closes.
      if (end === 'consent') t.handleTimeout(30_000);
      else t.agent.close();
      expect(t.canSend).toBe(false);
      expect(t.pollTransmit()).toBeUndefined();
      expect(t.stats.sendsDropped).toBe(1);
    }
  });

  it('bounds both queues', () => {
    const a = new IceAgent();
    expect(() => new IceTransport(a, { maxQueuedData: -1 })).toThrow(RangeError);
    const t = new IceTransport(a, { maxQueuedSends: 0 });
    expect(t.send(bytes(1))).toBe(false);
  });
});
