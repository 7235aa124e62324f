import type { SocketAddress } from '@natkit/sans-io';
import { describe, expect, it } from 'vitest';
import {
  type NatBehaviour,
  type NatBehaviourConfig,
  NatPresets,
  Sim,
  socketAddress,
  type TraceEntry,
} from '../src/index.ts';
import { Peer, Reflector, reflected } from './machines.ts';

const EXTERNAL = '203.0.113.1';
const S1 = '198.51.100.1';
const S2 = '198.51.100.2';

/**
 * alice (192.168.1.2:5000) behind `nat` (203.0.113.1) on `home`; two public hosts s1 and s2
 * with reflectors on s1:3478, s1:3479, s2:3478 and plain peers on s1:4000, s2:4000.
 */
function world(config: Partial<NatBehaviourConfig>, seed = 3) {
  const sim = new Sim({ seed });
  const internet = sim.network('internet', { latency: 20 });
  const home = sim.network('home', { latency: 1 });
  const nat = sim.nat('nat', { inside: home, outside: internet, externalAddress: EXTERNAL, ...config });
  const alice = sim.host('alice', { network: home, address: '192.168.1.2' });
  const s1 = sim.host('s1', { network: internet, address: S1 });
  const s2 = sim.host('s2', { network: internet, address: S2 });
  for (const [h, port] of [
    [s1, 3478],
    [s1, 3479],
    [s2, 3478],
  ] as const) {
    h.add(new Reflector(), { port, name: `reflector${port}` });
  }
  const client = alice.add(new Peer(), { port: 5000, name: 'client' });
  const p1 = s1.add(new Peer(), { port: 4000, name: 'peer' });
  const p2 = s2.add(new Peer(), { port: 4000, name: 'peer' });
  /** Asks a reflector what our address is. */
  const whoami = (server: SocketAddress, from = client) => {
    from.act((m) => m.send(server, 'who am i'));
    sim.runUntilIdle();
    return reflected(from.events);
  };
  /** Sends from a public peer to `to`; returns the verdict of the hop that reached the NAT. */
  const probe = (peer: typeof p1, to: SocketAddress): TraceEntry | undefined => {
    const before = sim.trace.length;
    peer.act((m) => m.send(to, 'probe'));
    sim.runUntilIdle();
    return sim.trace.slice(before).find((e) => e.hop === 0 && e.network === 'internet');
  };
  return { sim, internet, home, nat, alice, s1, s2, client, p1, p2, whoami, probe };
}

const behaviours: NatBehaviour[] = [
  'endpoint-independent',
  'address-dependent',
  'address-and-port-dependent',
];

describe('RFC 4787 mapping × filtering (each independently configurable)', () => {
  for (const mapping of behaviours) {
    for (const filtering of behaviours) {
      it(`${mapping} mapping, ${filtering} filtering`, () => {
        const w = world({ mapping, filtering });
        const viaS1a = w.whoami(socketAddress(S1, 3478))!;
        const viaS1b = w.whoami(socketAddress(S1, 3479))!;
        const viaS2 = w.whoami(socketAddress(S2, 3478))!;
        expect(viaS1a).toEqual(socketAddress(EXTERNAL, 5000));
        // Mapping: which destinations share the external port (RFC 4787 §4.1).
        const sameAddrOtherPort = viaS1a.port === viaS1b.port;
        const otherAddr = viaS1a.port === viaS2.port;
        expect([sameAddrOtherPort, otherAddr]).toEqual(
          mapping === 'endpoint-independent'
            ? [true, true]
            : mapping === 'address-dependent'
              ? [true, false]
              : [false, false],
        );
        expect(w.nat.mappings()).toHaveLength(
          mapping === 'endpoint-independent' ? 1 : mapping === 'address-dependent' ? 2 : 3,
        );

        // Filtering (RFC 4787 §5): alice's first mapping has seen S1:3478 (and, under EIM, S1:3479 and S2:3478).
        // Unsolicited probes from S1:4000 (known address, new port) and S2:4000.
        const fromS1 = w.probe(w.p1, viaS1a);
        const fromS2 = w.probe(w.p2, viaS1a);
        const verdicts = [fromS1?.verdict, fromS2?.verdict];
        const reasons = [fromS1, fromS2].map((e) => (e?.verdict === 'dropped' ? e.reason : 'ok'));
        expect(verdicts.every((v) => v === 'translated' || v === 'dropped')).toBe(true);
        const sawS2 = mapping === 'endpoint-independent'; // only then did the mapping we probe talk to S2
        const expected =
          filtering === 'endpoint-independent'
            ? ['ok', 'ok']
            : filtering === 'address-dependent'
              ? ['ok', sawS2 ? 'ok' : 'nat-filtered']
              : ['nat-filtered', 'nat-filtered'];
        expect(reasons).toEqual(expected);
        const got = w.client.eventsOfType('received').filter((e) => e.text === 'probe');
        expect(got.map((e) => e.from.address)).toEqual(
          expected.flatMap((r, i) => (r === 'ok' ? [i === 0 ? S1 : S2] : [])),
        );
      });
    }
  }

  it('presets are the classic names', () => {
    expect(NatPresets.fullCone).toEqual({
      mapping: 'endpoint-independent',
      filtering: 'endpoint-independent',
    });
    expect(NatPresets.restrictedCone.filtering).toBe('address-dependent');
    expect(NatPresets.portRestrictedCone.filtering).toBe('address-and-port-dependent');
    expect(NatPresets.symmetric).toEqual({
      mapping: 'address-and-port-dependent',
      filtering: 'address-and-port-dependent',
    });
  });

  it('linuxMasquerade: an unsolicited datagram claims its tuple, and a later flow to that remote gets another port', () => {
    const w = world({ ...NatPresets.linuxMasquerade });
    const mapped = w.whoami(socketAddress(S1, 3478))!;
    expect(mapped).toEqual(socketAddress(EXTERNAL, 5000));
    // s2:4000 sends first (ICE: the other side's check wins the race): filtered, but it claims
    // (5000, s2:4000), as the router's own conntrack entry would.
    expect(w.probe(w.p2, mapped)).toMatchObject({ verdict: 'dropped', reason: 'nat-filtered' });
    // alice now sends to s2:4000: her mapping's port is taken for that remote, so the flow
    // leaves from another port — which s2 did not send to.
    w.client.act((m) => m.send(socketAddress(S2, 4000), 'hello'));
    w.sim.runUntilIdle();
    const seen = w.p2.eventsOfType('received').map((e) => e.from);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.address).toBe(EXTERNAL);
    expect(seen[0]!.port).not.toBe(5000);
    // s2's replies to that port reach alice; its datagrams to 5000 are still refused.
    expect(w.probe(w.p2, seen[0]!)).toMatchObject({ verdict: 'translated' });
    expect(w.probe(w.p2, mapped)).toMatchObject({ verdict: 'dropped', reason: 'nat-filtered' });
    // Other remotes still share the endpoint-independent mapping.
    expect(w.whoami(socketAddress(S2, 3478))).toEqual(mapped);
  });

  it('linuxMasquerade: a claim lapses after unsolicitedTimeout without datagrams; portRestrictedCone claims nothing', () => {
    const w = world({ ...NatPresets.linuxMasquerade, unsolicitedTimeout: 5000 });
    const mapped = w.whoami(socketAddress(S1, 3478))!;
    w.probe(w.p2, mapped);
    w.sim.runFor(5001);
    w.client.act((m) => m.send(socketAddress(S2, 4000), 'hello'));
    w.sim.runUntilIdle();
    expect(w.p2.eventsOfType('received').map((e) => e.from)).toEqual([mapped]);

    const home = world({ ...NatPresets.portRestrictedCone });
    const m2 = home.whoami(socketAddress(S1, 3478))!;
    home.probe(home.p2, m2);
    home.client.act((m) => m.send(socketAddress(S2, 4000), 'hello'));
    home.sim.runUntilIdle();
    expect(home.p2.eventsOfType('received').map((e) => e.from)).toEqual([m2]);
    expect(() => world({ unsolicitedTimeout: 0 })).toThrow(RangeError);
  });

  it('drops unsolicited traffic to a port with no mapping', () => {
    const w = world(NatPresets.fullCone);
    const e = w.probe(w.p1, socketAddress(EXTERNAL, 5000));
    expect(e).toMatchObject({ verdict: 'dropped', reason: 'no-mapping', by: 'nat' });
  });

  it('the trace shows the translation hop by hop', () => {
    const w = world(NatPresets.portRestrictedCone);
    w.whoami(socketAddress(S1, 3478));
    expect(w.sim.formatTrace().split('\n')).toEqual([
      '     1.000 #1/0 home 192.168.1.2:5000 -> 198.51.100.1:3478 8B translated by nat to 203.0.113.1:5000 -> 198.51.100.1:3478',
      '    21.000 #1/1 internet 203.0.113.1:5000 -> 198.51.100.1:3478 8B delivered s1/reflector3478',
      '    41.000 #2/0 internet 198.51.100.1:3478 -> 203.0.113.1:5000 16B translated by nat to 198.51.100.1:3478 -> 192.168.1.2:5000',
      '    42.000 #2/1 home 198.51.100.1:3478 -> 192.168.1.2:5000 16B delivered alice/client',
    ]);
    expect(w.s1.received().map((e) => e.from)).toEqual([socketAddress(EXTERNAL, 5000)]);
  });

  it('hosts on the same private network talk directly, not through the NAT', () => {
    const w = world(NatPresets.symmetric);
    const bob = w.sim.host('bob', { network: w.home, address: '192.168.1.3' });
    const pb = bob.add(new Peer(), { port: 6000 });
    w.client.act((m) => m.send(socketAddress('192.168.1.3', 6000), 'lan'));
    w.sim.runUntilIdle();
    expect(pb.events.map((e) => [e.time, e.event.from])).toEqual([[1, socketAddress('192.168.1.2', 5000)]]);
    expect(w.nat.mappings()).toHaveLength(0);
  });
});

describe('port assignment', () => {
  function twoInside(config: Partial<NatBehaviourConfig>, seed = 3) {
    const w = world(config, seed);
    const bob = w.sim.host('bob', { network: w.home, address: '192.168.1.3' });
    const bobClient = bob.add(new Peer(), { port: 5000 });
    return [w.whoami(socketAddress(S1, 3478))!.port, w.whoami(socketAddress(S1, 3478), bobClient)!.port];
  }

  it('preserve keeps the internal port, then takes the next free one', () => {
    expect(twoInside({ portAssignment: 'preserve' })).toEqual([5000, 5001]);
  });

  it('sequential counts up from the start of the range', () => {
    expect(twoInside({ portAssignment: 'sequential', portRange: [40000, 40100] })).toEqual([40000, 40001]);
  });

  it('random draws from the range, the same ports for the same seed', () => {
    const a = twoInside({ portAssignment: 'random', portRange: [20000, 29999] }, 11);
    const b = twoInside({ portAssignment: 'random', portRange: [20000, 29999] }, 11);
    expect(a).toEqual(b);
    expect(a[0]).not.toBe(a[1]);
    for (const p of a) expect(p >= 20000 && p <= 29999).toBe(true);
  });

  it('runs out of ports and says so', () => {
    const w = world({ ...NatPresets.symmetric, portRange: [2000, 2001] });
    w.whoami(socketAddress(S1, 3478));
    w.whoami(socketAddress(S1, 3479));
    w.client.act((m) => m.send(socketAddress(S2, 3478), 'x'));
    w.sim.runUntilIdle();
    expect(w.sim.trace.at(-1)).toMatchObject({ verdict: 'dropped', reason: 'nat-ports-exhausted' });
  });
});

describe('mapping timeouts', () => {
  it('a mapping expires mappingTimeout after the last outbound datagram', () => {
    const w = world({ ...NatPresets.fullCone, mappingTimeout: 30_000, portAssignment: 'sequential' });
    const mapped = w.whoami(socketAddress(S1, 3478))!; // outbound reached the NAT at t=1
    expect(w.nat.mappings()[0]).toMatchObject({ external: mapped, expiresAt: 30_001 });
    w.sim.runUntil(30_001 - 21); // a probe sent now reaches the NAT at 30 000: still open
    expect(w.probe(w.p2, mapped)).toMatchObject({ verdict: 'translated' });
    w.sim.runUntil(30_001 - 20); // ...and one arriving at 30 001 finds it gone
    expect(w.probe(w.p2, mapped)).toMatchObject({ verdict: 'dropped', reason: 'no-mapping' });
    expect(w.nat.mappings()).toEqual([]);
    // A new outbound datagram makes a new mapping (sequential: a new port).
    const again = w.whoami(socketAddress(S1, 3478))!;
    expect(again.port).toBe(mapped.port + 1);
  });

  it('outbound keepalives refresh it; inbound traffic does not (unless inboundRefresh)', () => {
    for (const inboundRefresh of [false, true]) {
      const w = world({ ...NatPresets.fullCone, mappingTimeout: 30_000, inboundRefresh });
      const mapped = w.whoami(socketAddress(S1, 3478))!;
      // Keepalives every 20 s for two minutes: the mapping never lapses.
      for (let t = 20_000; t <= 120_000; t += 20_000) {
        w.sim.runUntil(t);
        expect(w.whoami(socketAddress(S1, 3478))).toEqual(mapped);
      }
      // Then only inbound traffic, every 20 s.
      const verdicts: string[] = [];
      for (let t = 140_000; t <= 200_000; t += 20_000) {
        w.sim.runUntil(t);
        const e = w.probe(w.p1, mapped)!;
        verdicts.push(e.verdict === 'dropped' ? e.reason : e.verdict);
      }
      expect(verdicts).toEqual(
        inboundRefresh
          ? ['translated', 'translated', 'translated', 'translated']
          : ['translated', 'no-mapping', 'no-mapping', 'no-mapping'],
      );
    }
  });

  it('a NAT reboot forgets every mapping', () => {
    const w = world(NatPresets.fullCone);
    const mapped = w.whoami(socketAddress(S1, 3478))!;
    w.nat.reset();
    expect(w.probe(w.p1, mapped)).toMatchObject({ verdict: 'dropped', reason: 'no-mapping' });
  });
});

describe('hairpinning', () => {
  function neighbours(config: Partial<NatBehaviourConfig>) {
    const w = world(config);
    const bob = w.sim.host('bob', { network: w.home, address: '192.168.1.3' });
    const bobClient = bob.add(new Peer(), { port: 6000, name: 'client' });
    const aliceMapped = w.whoami(socketAddress(S1, 3478))!;
    const bobMapped = w.whoami(socketAddress(S1, 3478), bobClient)!;
    return { ...w, bob, bobClient, aliceMapped, bobMapped };
  }

  it('off: a datagram to the NAT’s own external address is dropped', () => {
    const w = neighbours({ ...NatPresets.fullCone, hairpinning: false });
    w.client.act((m) => m.send(w.bobMapped, 'hello neighbour'));
    w.sim.runUntilIdle();
    expect(w.sim.trace.at(-1)).toMatchObject({ verdict: 'dropped', reason: 'hairpin-disabled', by: 'nat' });
    expect(w.bobClient.eventsOfType('received').filter((e) => e.text === 'hello neighbour')).toEqual([]);
  });

  it('on: it loops back inside, from the sender’s external mapping (RFC 4787 REQ-9)', () => {
    const w = neighbours({ ...NatPresets.fullCone, hairpinning: true });
    w.client.act((m) => m.send(w.bobMapped, 'hello neighbour'));
    w.sim.runUntilIdle();
    const got = w.bobClient.eventsOfType('received').filter((e) => e.text === 'hello neighbour');
    expect(got.map((e) => e.from)).toEqual([w.aliceMapped]);
    const hop = w.sim.trace.find((e) => e.verdict === 'translated' && e.hairpin);
    expect(hop).toMatchObject({
      network: 'home',
      next: { from: w.aliceMapped, to: socketAddress('192.168.1.3', 6000) },
    });
  });

  it('on, with port-restricted filtering: the target mapping must have sent to the sender’s mapping first', () => {
    const w = neighbours({ ...NatPresets.portRestrictedCone, hairpinning: true });
    w.client.act((m) => m.send(w.bobMapped, 'first'));
    w.sim.runUntilIdle();
    expect(w.sim.trace.at(-1)).toMatchObject({ verdict: 'dropped', reason: 'nat-filtered' });
    w.bobClient.act((m) => m.send(w.aliceMapped, 'bob punches'));
    w.sim.runUntilIdle();
    expect(w.client.eventsOfType('received').at(-1)).toMatchObject({
      text: 'bob punches',
      from: w.bobMapped,
    });
  });
});

describe('nested NATs (carrier-grade NAT)', () => {
  it('the reflector sees the outermost mapping; the trace shows both translations', () => {
    const sim = new Sim({ seed: 5 });
    const internet = sim.network('internet', { latency: 20 });
    const carrier = sim.network('carrier', { latency: 5 });
    const home = sim.network('home', { latency: 1 });
    sim.nat('cgn', {
      inside: carrier,
      outside: internet,
      externalAddress: EXTERNAL,
      portAssignment: 'sequential',
    });
    sim.nat('cpe', { inside: home, outside: carrier, externalAddress: '100.64.0.7' });
    const s1 = sim.host('s1', { network: internet, address: S1 });
    s1.add(new Reflector(), { port: 3478 });
    const pc = sim.host('pc', { network: home, address: '192.168.1.2' }).add(new Peer(), { port: 5000 });
    pc.act((m) => m.send(socketAddress(S1, 3478), 'who am i'));
    sim.runUntilIdle();
    expect(reflected(pc.events)).toEqual(socketAddress(EXTERNAL, 1024));
    expect(sim.trace.filter((e) => e.packet === 1).map((e) => [e.network, e.verdict, e.time])).toEqual([
      ['home', 'translated', 1],
      ['carrier', 'translated', 6],
      ['internet', 'delivered', 26],
    ]);
    expect(pc.events[0]!.time).toBe(52);
  });
});

describe('IP families', () => {
  it('a host sends only to its own family: an IPv4-only host cannot reach an IPv6 address', () => {
    const sim = new Sim({ seed: 1 });
    const internet = sim.network('internet', { latency: 10 });
    const a = sim.host('a', { network: internet, address: '192.0.2.1' }).add(new Peer(), { port: 5000 });
    const b = sim.host('b', { network: internet, address: '2001:db8::1' }).add(new Peer(), { port: 6000 });
    a.act((m) => m.send(socketAddress('2001:db8::1', 6000), 'v4 to v6'));
    sim.runUntilIdle();
    expect(b.events).toEqual([]);
    expect(sim.trace.map((e) => (e.verdict === 'dropped' ? e.reason : e.verdict))).toEqual([
      'family-mismatch',
    ]);
  });

  it('a NAT translates its own family only: IPv6 from inside an IPv4 NAT goes no further', () => {
    const sim = new Sim({ seed: 1 });
    const internet = sim.network('internet', { latency: 10 });
    const home = sim.network('home', { latency: 1 });
    sim.nat('nat', { inside: home, outside: internet, externalAddress: EXTERNAL });
    const h = sim.host('h', {
      interfaces: [
        { network: home, address: '192.168.1.2' },
        { network: home, address: 'fd00::2' },
      ],
    });
    sim.host('s', { network: internet, address: '2001:db8::1' }).add(new Reflector(), { port: 3478 });
    const c = h.add(new Peer(), { port: 5000 });
    c.act((m) => m.send(socketAddress('2001:db8::1', 3478), 'x'));
    sim.runUntilIdle();
    expect(c.events).toEqual([]);
    expect(sim.trace.map((e) => [e.network, e.verdict === 'dropped' ? e.reason : e.verdict])).toEqual([
      ['home', 'family-mismatch'],
    ]);
  });
});
