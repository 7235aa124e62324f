import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { describe, expect, it } from 'vitest';
import { BindingDiscovery, type BindingDiscoveryEvent } from '../src/binding-discovery.ts';
import { StunServer } from '../src/server.ts';
import { CLIENT, drainEvents, SERVER, SERVER2, seededRandom } from './helpers.ts';
import { Link, perfect } from './link.ts';

/** A STUN server behind which the client appears at `nat.port` (changeable), like through a NAT. */
class NattedServer implements Machine<never> {
  readonly server = new StunServer();
  publicPort = 40000;
  down = false;
  handleInput(p: Uint8Array, from: SocketAddress, now: number): void {
    if (this.down) return;
    this.server.handleInput(p, { address: '203.0.113.5', port: this.publicPort, family: 'IPv4' }, now);
    void from;
  }
  pollTransmit(): Transmit | undefined {
    const t = this.server.pollTransmit();
    return t && { destination: CLIENT, payload: t.payload };
  }
  pollTimeout() {
    return undefined;
  }
  handleTimeout() {}
  pollEvent() {
    return undefined;
  }
}

describe('BindingDiscovery', () => {
  it('finds the public address, refreshes, and reports mapping changes and failures', () => {
    const d = new BindingDiscovery({
      servers: [SERVER, SERVER2],
      interval: 25_000,
      retryInterval: 5_000,
      client: { random: seededRandom(1) },
    });
    const a = new NattedServer();
    const b = new NattedServer();
    const link = new Link(
      [
        { address: CLIENT, machine: d },
        { address: SERVER, machine: a },
        { address: SERVER2, machine: b },
      ],
      () => perfect,
    );
    const events: [number, BindingDiscoveryEvent][] = [];
    const collect = (t: number) => {
      for (const e of drainEvents(d)) events.push([t, e]);
    };
    d.start(0);
    let now = link.run(0, 1000, collect);
    expect(events.map(([, e]) => e.type)).toEqual(['mapping', 'public-address', 'mapping']);
    expect(d.publicAddress).toEqual({ address: '203.0.113.5', port: 40000, family: 'IPv4' });
    events.length = 0;

    // Refreshes every 25 s keep going without events while nothing changes.
    now = link.run(now, 80_000, collect);
    expect(events).toEqual([]);
    expect(a.server.stats.success).toBe(4);

    // The NAT rebinds: both servers now see port 40001.
    a.publicPort = 40001;
    b.publicPort = 40001;
    now = link.run(now, 110_000, collect);
    const types = events.map(([, e]) => e.type);
    expect(types).toContain('public-address');
    expect(d.publicAddress?.port).toBe(40001);
    events.length = 0;

    // One server dies: reported once, retried every 5 s, and the public address stays.
    a.down = true;
    now = link.run(now, 250_000, collect);
    expect(events.map(([, e]) => e.type)).toEqual(['server-failed']);
    expect(d.publicAddress?.port).toBe(40001);
    d.stop(now);
    link.run(now, 1_000_000, collect);
    expect(d.pollTimeout()).toBeUndefined();
  });

  it('rejects an empty server list', () => {
    expect(() => new BindingDiscovery({ servers: [] })).toThrow(RangeError);
  });
});
