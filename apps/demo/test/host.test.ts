// The real machines (StunServer, StunClient, ICE agents) behind two multiplexers, on a lossy
// simulated internet with a NAT in between (netsim, virtual time).
import { NatPresets, Sim, socketAddress } from '@natkit/netsim';
import type { SocketAddress } from '@natkit/sans-io';
import { describe, expect, it } from 'vitest';
import { type HostEvent, type IceSession, NatHost } from '../src/host.ts';
import { decodePing, encodePing } from '../src/rtp.ts';

function world(loss: number) {
  const sim = new Sim({ seed: 7 });
  const internet = sim.network('internet', { latency: 15, jitter: 3, loss });
  const home = sim.network('home', { latency: 1 });
  sim.nat('router', {
    inside: home,
    outside: internet,
    externalAddress: '203.0.113.7',
    ...NatPresets.portRestrictedCone,
  });
  const server = sim.host('server', { network: internet, address: '198.51.100.1' });
  const laptop = sim.host('laptop', { network: home, address: '192.168.1.10' });
  const serverAddr = socketAddress('198.51.100.1', 3478);
  const laptopAddr = socketAddress('192.168.1.10', 5000);

  const aEvents: HostEvent[] = [];
  const bEvents: HostEvent[] = [];
  const echoesAtB = new Map<string, number>();
  // A: the public natkit server (lite ICE), echoing application data.
  const a: NatHost = new NatHost({
    localAddress: serverAddr,
    random: sim.randomSource('a'),
    onEvent: (e) => aEvents.push(e),
    onData: (s, p) => a.send(s, p),
  });
  // B: behind the NAT, controlling agents; counts echoes per session (by SSRC routing at A and B).
  const b: NatHost = new NatHost({
    localAddress: laptopAddr,
    random: sim.randomSource('b'),
    onEvent: (e) => bEvents.push(e),
    onData: (s: IceSession, p) => {
      const ping = decodePing(p);
      if (ping?.ssrc === s.ssrc) echoesAtB.set(s.id, (echoesAtB.get(s.id) ?? 0) + 1);
    },
  });
  const ea = server.add(a.mux, { port: 3478, name: 'a' });
  const eb = laptop.add(b.mux, { port: 5000, name: 'b' });
  return { sim, a, b, ea, eb, aEvents, bEvents, echoesAtB, serverAddr };
}

function connect(w: ReturnType<typeof world>, n: number): [IceSession, IceSession][] {
  const pairs: [IceSession, IceSession][] = [];
  for (let i = 0; i < n; i++) {
    const sa = w.ea.act(() => w.a.createSession({ mode: 'lite' }, w.sim.now));
    const sb = w.eb.act(() =>
      w.b.createSession(
        {
          mode: 'full',
          remote: sa.local,
          remoteCandidates: [sa.candidate],
          ssrc: sa.ssrc,
        },
        w.sim.now,
      ),
    );
    pairs.push([sa, sb]);
  }
  // Lite agents report `connected`; the controlling full agents `completed` once nominated.
  w.sim.runUntil(() => pairs.every(([x, y]) => x.state === 'connected' && y.state === 'completed'), {
    timeout: 30_000,
  });
  return pairs;
}

describe('NatHost over netsim', () => {
  it('discovers the NAT mapping through the other host’s StunServer', () => {
    const w = world(0);
    w.eb.act(() => w.b.discover([w.serverAddr], w.sim.now));
    w.sim.runUntil(() => w.bEvents.some((e) => e.type === 'mapped-address'), { timeout: 5000 });
    const e = w.bEvents.find((x) => x.type === 'mapped-address') as Extract<
      HostEvent,
      { type: 'mapped-address' }
    >;
    expect(e.mapped.address).toBe('203.0.113.7');
    expect(w.b.publicAddress).toEqual(e.mapped);
    expect(w.a.mux.stats.routed['stun-server']).toBe(1);
    expect(w.b.mux.stats.routed.response).toBe(1);
  });

  it('connects many sessions through one socket each side, with 5 % loss, and keeps their data apart', () => {
    const w = world(0.05);
    const pairs = connect(w, 12);
    // A saw every session from the NAT's one external address: peer-reflexive, shared.
    const remotes = new Set(
      pairs.map(([sa]) => `${sa.selected?.remote.address}:${sa.selected?.remote.port}`),
    );
    expect(remotes.size).toBe(1);
    expect([...remotes][0]).toMatch(/^203\.0\.113\.7:/);
    for (let k = 0; k < 5; k++) {
      w.eb.act(() => {
        for (const [, sb] of pairs) w.b.send(sb, encodePing(k, sb.ssrc, w.sim.now));
      });
      w.sim.runFor(20);
    }
    w.sim.runFor(500);
    let echoes = 0;
    for (const [, sb] of pairs) echoes += w.echoesAtB.get(sb.id) ?? 0;
    expect(echoes).toBeGreaterThan(pairs.length * 5 * 0.8); // 5 % loss each way
    for (const [sa] of pairs) expect(w.a.mux.session(sa.id)?.datagramsIn ?? 0).toBeGreaterThan(0);
    expect(w.a.mux.stats.dropped['data-no-session']).toBe(0);
    expect(w.a.mux.stats.dropped['stun-unmatched-response']).toBe(0);
  });

  it('keeps consent alive for a minute without busy loops, then closes sessions cleanly', () => {
    const w = world(0);
    const pairs = connect(w, 3);
    w.sim.runFor(60_000); // netsim throws on a busy loop
    for (const [sa, sb] of pairs) {
      expect(sa.state).toBe('connected');
      expect(sb.state).toBe('completed');
    }
    const router = w.a.router.machine;
    expect(router.size).toBe(3);
    w.ea.act(() => w.a.closeSession(pairs[0]![0].id, w.sim.now));
    expect(router.size).toBe(2);
    expect(w.a.sessionCount).toBe(2);
    w.sim.runFor(40_000);
    // B's consent checks for the closed session now go unanswered (no owner for the ufrag): it fails.
    expect(pairs[0]![1].state).toBe('failed');
    expect(router.stats.unknownUfrag).toBeGreaterThan(0);
    expect(pairs[1]![1].state).toBe('completed');
  });
});

describe('NatHost SSRC routing for sessions sharing one remote', () => {
  const R: SocketAddress = { address: '127.0.0.1', port: 40000, family: 'IPv4' };
  function twoSessions() {
    const got: string[] = [];
    const host = new NatHost({
      localAddress: { address: '127.0.0.1', port: 3478, family: 'IPv4' },
      onData: (s) => got.push(s.id),
    });
    const a = host.createSession({ mode: 'lite', id: 'A', ssrc: 0x11111111 }, 0);
    const b = host.createSession({ mode: 'lite', id: 'B', ssrc: 0x22222222 }, 0);
    // Both selected the same remote (one peer socket, one NAT mapping).
    a.data = host.mux.bindSession('A', R, host.router);
    b.data = host.mux.bindSession('B', R, host.router);
    return { host, got };
  }
  /** An RTCP packet of type `pt` (RFC 3550 §6.4.1 layout): sender SSRC at 4..7, then `word8`. */
  function rtcp(pt: number, ssrc: number, word8: number): Uint8Array {
    const b = new Uint8Array(28);
    const v = new DataView(b.buffer);
    b[0] = 0x80;
    b[1] = pt;
    v.setUint16(2, 6);
    v.setUint32(4, ssrc);
    v.setUint32(8, word8);
    return b;
  }

  it('routes RTP by the SSRC at bytes 8..11', () => {
    const { host, got } = twoSessions();
    expect(host.mux.handleInput(encodePing(1, 0x22222222, 5), R, 1)).toBe('data');
    expect(got).toEqual(['B']);
  });

  it('routes RTCP (second byte 192..223, RFC 5761 §4) by the sender SSRC at bytes 4..7', () => {
    const { host, got } = twoSessions();
    // Sender Report from A whose NTP-seconds word (bytes 8..11) happens to equal B's SSRC.
    expect(host.mux.handleInput(rtcp(200, 0x11111111, 0x22222222), R, 1)).toBe('data');
    // Receiver Report (201) and a transport feedback (205) from B; a short RTCP packet from A.
    expect(host.mux.handleInput(rtcp(201, 0x22222222, 0xe8000000), R, 2)).toBe('data');
    expect(host.mux.handleInput(rtcp(205, 0x22222222, 0), R, 3)).toBe('data');
    expect(host.mux.handleInput(rtcp(203, 0x11111111, 0).subarray(0, 8), R, 4)).toBe('data');
    expect(got).toEqual(['A', 'B', 'B', 'A']);
    expect(host.mux.stats.dropped['data-no-session']).toBe(0);
  });
});

export type { SocketAddress };
