import { createSocket } from 'node:dgram';
import type { Machine } from '@natkit/sans-io';
import { afterEach, describe, expect, it } from 'vitest';
import { bindUdp, type DriverEvent, UdpDriver } from '../src/index.ts';
import {
  BusyMachine,
  type EchoEvent,
  EchoMachine,
  FaultyMachine,
  FloodMachine,
  OneShotMachine,
  ReusingMachine,
} from './machines.ts';
import { activeTimers, type Peer, sleep, udpPeer, until } from './peer.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function peer(family: 'IPv4' | 'IPv6' = 'IPv4'): Promise<Peer> {
  const p = await udpPeer(family);
  cleanups.push(() => p.close());
  return p;
}
function track<D extends { close(): Promise<void> }>(driver: D): D {
  cleanups.push(() => driver.close());
  return driver;
}

describe('datagrams', () => {
  it('feeds each datagram to handleInput and sends what the machine transmits (IPv4)', async () => {
    const machine = new EchoMachine();
    const driver = track(await bindUdp(machine, { address: '127.0.0.1' }));
    const local = driver.localAddress;
    expect(local).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    const p = await peer();
    if (!local) throw new Error('not bound');
    p.send('hello', local);
    p.send('world', local);
    expect((await p.next()).data.toString()).toBe('hello');
    expect((await p.next()).data.toString()).toBe('world');
    expect(machine.inputs.map((i) => i.to)).toEqual([local, local]);
    expect(driver.stats).toMatchObject({ datagramsIn: 2, bytesIn: 10, datagramsOut: 2, bytesOut: 10 });
  });

  it('works on IPv6 and reports the family of the sender', async () => {
    const machine = new EchoMachine();
    const driver = track(await bindUdp(machine, { address: '::1' }));
    const p = await peer('IPv6');
    const received = driver.waitFor((e) => e.type === 'machine');
    p.send('six', driver.localAddress ?? p.address);
    expect((await p.next()).data.toString()).toBe('six');
    const event = (await received) as Extract<DriverEvent<EchoEvent>, { type: 'machine' }>;
    expect(event.event).toEqual({ type: 'received', text: 'six', from: p.address });
    expect(driver.localAddress?.family).toBe('IPv6');
  });

  it('on a dual-stack IPv6 socket, IPv4 peers are IPv4 to the machine and are answered', async () => {
    // Bound to `::` with ipv6Only off, the kernel shows an IPv4 peer as ::ffff:127.0.0.1; the
    // machine must see 127.0.0.1 (IPv4), and its reply to that must reach the peer.
    const machine = new EchoMachine();
    const driver = track(await bindUdp(machine, { family: 'IPv6', ipv6Only: false }));
    expect(driver.localAddress).toMatchObject({ address: '::', family: 'IPv6' });
    const p = await peer('IPv4');
    const received = driver.waitFor((e) => e.type === 'machine');
    p.send('four', { address: '127.0.0.1', port: driver.localAddress!.port, family: 'IPv4' });
    const reply = await p.next();
    expect(reply.data.toString()).toBe('four');
    expect(reply.from).toEqual({ address: '127.0.0.1', port: driver.localAddress!.port, family: 'IPv4' });
    const event = (await received) as Extract<DriverEvent<EchoEvent>, { type: 'machine' }>;
    expect(event.event).toEqual({ type: 'received', text: 'four', from: p.address });
    expect(p.address).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(driver.stats.sendErrors).toBe(0);
  });

  it('an IPv6-only socket cannot reach an IPv4 destination: a send-error naming it', async () => {
    const driver = track(await bindUdp(new OneShotMachine(), { family: 'IPv6', ipv6Only: true }));
    const p = await peer('IPv4');
    const failed = driver.waitFor((e) => e.type === 'send-error');
    driver.update((m) => m.queue(4, p.address));
    expect(await failed).toMatchObject({ destination: p.address, bytes: 4 });
  });

  it('sends survive the machine reusing its buffer, across copy slabs and while the socket binds', async () => {
    // Every payload is the same buffer, rewritten by each pollTransmit (the contract allows it).
    // 40 × 2000 bytes (too large for the copy pool) crosses the driver's 64 KiB copy slab (and
    // still fits the peer's receive buffer on loopback); the sends wait for the bind.
    const shared = new Uint8Array(2000);
    let left = 40;
    const p = await peer();
    const burst: Machine<never> = {
      handleInput() {},
      pollTransmit() {
        if (left === 0) return undefined;
        shared.fill(--left);
        return { destination: p.address, payload: shared };
      },
      pollTimeout: () => undefined,
      handleTimeout() {},
      pollEvent: () => undefined,
    };
    const socket = createSocket('udp4');
    // Unbound: node:dgram binds it on the first send and queues the burst until it is bound.
    const driver = track(new UdpDriver(burst, { socket }));
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const { data } = await p.next();
      expect(data.byteLength).toBe(2000);
      expect(data.every((b) => b === data[0])).toBe(true);
      seen.add(data[0]!);
    }
    expect(seen.size).toBe(40);
    expect(driver.stats.datagramsOut).toBe(40);
  });

  it('reuses a copy only after its send completed (pooled copies of one size stay intact)', async () => {
    // Three bursts of 40 same-sized datagrams from one rewritten buffer. The first two are
    // queued together while the socket binds (no send has completed, so no copy may be shared
    // between them); the third goes out once they arrived, on copies their sends gave back.
    const shared = new Uint8Array(40);
    let next = 0;
    let until = 0;
    const p = await peer();
    const burst: Machine<never> = {
      handleInput() {},
      pollTransmit() {
        if (next === until) return undefined;
        shared.fill(next++);
        return { destination: p.address, payload: shared };
      },
      pollTimeout: () => undefined,
      handleTimeout() {},
      pollEvent: () => undefined,
    };
    const driver = track(new UdpDriver(burst, { socket: createSocket('udp4') }));
    const receive = async (n: number): Promise<number[]> => {
      const seen: number[] = [];
      for (let i = 0; i < n; i++) {
        const { data } = await p.next();
        expect(data.every((b) => b === data[0])).toBe(true);
        seen.push(data[0]!);
      }
      return seen.sort((a, b) => a - b);
    };
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    driver.update(() => {
      until = 40;
    });
    driver.update(() => {
      until = 80;
    });
    expect(await receive(80)).toEqual(range(0, 80));
    await sleep(10); // the send callbacks have run: their copies are back in the pool
    driver.update(() => {
      until = 120;
    });
    expect(await receive(40)).toEqual(range(80, 120));
    expect(driver.stats).toMatchObject({ datagramsOut: 120, sendErrors: 0 });
  });

  it('bindUdp sockets still resolve a host name through dns.lookup (literals skip it)', async () => {
    const p = await peer();
    const driver = track(await bindUdp(new OneShotMachine(), { address: '127.0.0.1' }));
    driver.update((m) => m.queue(3, { address: 'localhost', port: p.address.port, family: 'IPv4' }));
    driver.update((m) => m.queue(5, p.address));
    const sizes = [(await p.next()).data.byteLength, (await p.next()).data.byteLength].sort();
    expect(sizes).toEqual([3, 5]);
    expect(driver.stats.sendErrors).toBe(0);
  });

  it('hands the machine a view over the received Buffer, not a copy', async () => {
    const socket = createSocket('udp4');
    const seen: Buffer[] = [];
    socket.on('message', (buf) => seen.push(buf)); // registered first: sees the same Buffer as the driver
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const machine = new EchoMachine();
    const driver = track(new UdpDriver(machine, { socket }));
    const p = await peer();
    p.send('view', driver.localAddress ?? p.address);
    await p.next();
    const input = machine.inputs[0]?.payload;
    expect(input).toBeInstanceOf(Uint8Array);
    expect(input?.buffer).toBe(seen[0]?.buffer);
    expect(input?.byteOffset).toBe(seen[0]?.byteOffset);
  });

  it('copies each payload even when node:dgram queues the send (socket still binding)', async () => {
    const p = await peer();
    const socket = createSocket('udp4'); // not bound: node:dgram binds implicitly and queues the sends
    const driver = track(new UdpDriver(new ReusingMachine(), { socket }));
    driver.update((m) => m.start(['one', 'two', 'six'], p.address));
    const got = [
      (await p.next()).data.toString(),
      (await p.next()).data.toString(),
      (await p.next()).data.toString(),
    ];
    expect(got).toEqual(['one', 'two', 'six']);
  });

  it('runs a machine on a socket the caller bound, and leaves it open when asked', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
    const driver = new UdpDriver(new EchoMachine(), { socket, keepSocketOpen: true });
    const p = await peer();
    p.send('x', driver.localAddress ?? p.address);
    expect((await p.next()).data.toString()).toBe('x');
    await driver.close();
    expect(socket.listenerCount('message')).toBe(0);
    expect(socket.address().port).toBe(driver.localAddress?.port); // still bound
  });

  it('accepts an unbound socket and learns its address when it binds', async () => {
    const socket = createSocket('udp4');
    const driver = track(new UdpDriver(new EchoMachine(), { socket }));
    expect(driver.localAddress).toBeUndefined();
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    expect(driver.localAddress?.port).toBe(socket.address().port);
  });

  it('sends what a machine queued before the driver existed, and after update()', async () => {
    const p = await peer();
    const machine = new EchoMachine();
    machine.send('early', p.address);
    const driver = track(await bindUdp(machine, { address: '127.0.0.1' }));
    expect((await p.next()).data.toString()).toBe('early');
    driver.update((m) => m.send('later', p.address));
    expect((await p.next()).data.toString()).toBe('later');
  });

  it('rejects binding to a port in use and leaves nothing open', async () => {
    const first = track(await bindUdp(new EchoMachine(), { address: '127.0.0.1' }));
    const before = process.getActiveResourcesInfo().length;
    await expect(
      bindUdp(new EchoMachine(), { address: '127.0.0.1', port: first.localAddress?.port ?? 0 }),
    ).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    await sleep(5);
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(before);
  });
});

describe('time', () => {
  it('calls handleTimeout(now) once the deadline has passed, with now from performance.now()', async () => {
    const machine = new EchoMachine();
    const driver = track(await bindUdp(machine, { address: '127.0.0.1' }));
    const armedAt = performance.now();
    driver.update((m) => {
      m.deadline = armedAt + 30;
    });
    const ev = await driver.waitFor((e) => e.type === 'machine' && e.event.type === 'timeout');
    const now = (ev as { event: { now: number } }).event.now;
    expect(now).toBeGreaterThanOrEqual(armedAt + 30);
    expect(now).toBeLessThanOrEqual(performance.now());
    expect(machine.timeouts).toHaveLength(1);
    expect(driver.stats.timeouts).toBe(1);
    expect(driver.timerDeadline).toBeUndefined();
  });

  it('keeps exactly one timer armed however often the deadline moves, and none after close', async () => {
    const machine = new EchoMachine();
    const driver = await bindUdp(machine, { address: '127.0.0.1' });
    // Counted synchronously around driver calls, so no other timer can come or go in between.
    const start = activeTimers();
    for (let i = 0; i < 50; i++) {
      driver.update((m) => {
        m.deadline = performance.now() + 10_000 + i;
      });
    }
    expect(activeTimers()).toBe(start + 1);
    expect(driver.timerDeadline).toBe(machine.deadline);
    // Datagrams that leave the deadline where it is keep the same timer.
    const p = await peer();
    for (let i = 0; i < 20; i++) p.send(`m${i}`, driver.localAddress ?? p.address);
    for (let i = 0; i < 20; i++) await p.next();
    expect(driver.timerDeadline).toBe(machine.deadline);
    const armed = activeTimers();
    driver.update((m) => {
      m.deadline = undefined;
    });
    expect(activeTimers()).toBe(armed - 1);
    expect(driver.timerDeadline).toBeUndefined();
    driver.update((m) => {
      m.deadline = performance.now() + 10_000;
    });
    expect(activeTimers()).toBe(armed);
    const closing = driver.close();
    expect(activeTimers()).toBe(armed - 1);
    expect(driver.timerDeadline).toBeUndefined();
    await closing;
  });

  it('treats a NaN deadline as none and reports it', async () => {
    const machine = new EchoMachine();
    const driver = track(await bindUdp(machine, { address: '127.0.0.1' }));
    const events: DriverEvent<EchoEvent>[] = [];
    const it = driver.events();
    driver.update((m) => {
      m.deadline = Number.NaN;
    });
    expect(driver.timerDeadline).toBeUndefined();
    events.push((await it.next()).value as DriverEvent<EchoEvent>);
    expect(events[0]).toMatchObject({ type: 'bad-timeout' });
  });

  it('yields to I/O and counts it when a machine keeps asking for a past timeout', async () => {
    const machine = new BusyMachine();
    const driver = track(await bindUdp(machine, { address: '127.0.0.1' }));
    const p = await peer();
    // Datagrams still get through although the machine never stops asking for time.
    for (let i = 0; i < 5; i++) p.send('ping', driver.localAddress ?? p.address);
    await until(() => machine.inputs === 5 && driver.stats.busyLoopYields > 100);
    expect(machine.timeouts).toBe(driver.stats.timeouts);
    expect(driver.stats.busyLoopYields).toBeGreaterThan(100);
    // Other tasks on the event loop (this test's timers) keep running too.
    await sleep(5);
    await driver.close();
    const after = machine.timeouts;
    await sleep(20);
    expect(machine.timeouts).toBe(after);
  });
});

describe('a machine that throws (a bug) is reported, and the loop goes on', () => {
  it('handleInput: error event with the sender, datagram dropped, next datagram handled', async () => {
    const machine = new EchoMachine();
    const events: DriverEvent<EchoEvent>[] = [];
    const driver = track(await bindUdp(machine, { address: '127.0.0.1', onEvent: (e) => events.push(e) }));
    const p = await peer();
    const to = driver.localAddress ?? p.address;
    p.send('boom', to);
    p.send('fine', to);
    expect((await p.next()).data.toString()).toBe('fine');
    const err = events.find((e) => e.type === 'machine-error');
    expect(err).toMatchObject({ type: 'machine-error', phase: 'handleInput', from: p.address });
    expect(String((err as { error: unknown }).error)).toContain('boom');
    expect(driver.stats.machineErrors).toBe(1);
  });

  for (const verb of ['pollTransmit', 'pollEvent', 'pollTimeout', 'handleTimeout'] as const) {
    it(`${verb}: error event, loop alive`, async () => {
      const machine = new FaultyMachine();
      const driver = track(await bindUdp(machine, { address: '127.0.0.1' }));
      const p = await peer();
      const to = driver.localAddress ?? p.address;
      const failed = driver.waitFor((e) => e.type === 'machine-error');
      machine.throwIn = verb;
      driver.update((m) => {
        m.deadline = performance.now() + 5;
      });
      expect(await failed).toMatchObject({ phase: verb });
      p.send('still here', to);
      expect((await p.next()).data.toString()).toBe('still here');
    });
  }

  it('a machine that always throws from pollTimeout still echoes', async () => {
    const machine = new FaultyMachine();
    machine.throwIn = 'pollTimeout';
    machine.always = true;
    const driver = track(await bindUdp(machine, { address: '127.0.0.1' }));
    const p = await peer();
    p.send('a', driver.localAddress ?? p.address);
    expect((await p.next()).data.toString()).toBe('a');
    expect(driver.stats.machineErrors).toBeGreaterThan(0);
  });

  it('a listener that throws is reported to iterators, and the loop goes on', async () => {
    const driver = track(
      await bindUdp(new EchoMachine(), {
        address: '127.0.0.1',
        onEvent: () => {
          throw new Error('listener bug');
        },
      }),
    );
    const it = driver.events();
    const p = await peer();
    p.send('x', driver.localAddress ?? p.address);
    expect((await p.next()).data.toString()).toBe('x');
    expect((await it.next()).value).toMatchObject({ type: 'listener-error' });
    expect((await it.next()).value).toMatchObject({ type: 'machine', event: { type: 'received' } });
    expect(driver.stats.listenerErrors).toBe(1);
  });
});

describe('socket errors become events', () => {
  it('EMSGSIZE: send-error event, loop alive', async () => {
    const machine = new OneShotMachine();
    const driver = track(await bindUdp(machine, { address: '127.0.0.1' }));
    const p = await peer();
    const failed = driver.waitFor((e) => e.type === 'send-error');
    driver.update((m) => m.queue(70_000, p.address));
    expect(await failed).toMatchObject({ code: 'EMSGSIZE', destination: p.address, bytes: 70_000 });
    driver.update((m) => m.queue(10, p.address));
    expect((await p.next()).data.byteLength).toBe(10);
    expect(driver.stats.sendErrors).toBe(1);
  });

  it('ECONNREFUSED (ICMP port unreachable on a connected socket): socket-error event, loop alive', async () => {
    const gone = await udpPeer();
    const closedPort = gone.address;
    await gone.close();
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => socket.connect(closedPort.port, closedPort.address, r));
    const machine = new OneShotMachine();
    const driver = track(new UdpDriver(machine, { socket }));
    const refused = driver.waitFor((e) => e.type === 'socket-error');
    driver.update((m) => m.queue(8, closedPort));
    expect(await refused).toMatchObject({ type: 'socket-error', code: 'ECONNREFUSED' });
    expect(driver.closed).toBe(false);
    // The loop is alive: the next send still goes out (and is refused again).
    const again = driver.waitFor((e) => e.type === 'socket-error');
    driver.update((m) => m.queue(8, closedPort));
    await again;
    expect(driver.stats.socketErrors).toBe(2);
    expect(driver.stats.datagramsOut).toBe(2);
  });

  it('a connected socket refuses other destinations with a send-error', async () => {
    const p = await peer();
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => socket.connect(p.address.port, p.address.address, r));
    const driver = track(new UdpDriver(new OneShotMachine(), { socket }));
    const failed = driver.waitFor((e) => e.type === 'send-error');
    driver.update((m) => m.queue(4, { address: '127.0.0.1', port: 9, family: 'IPv4' }));
    expect(await failed).toMatchObject({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' });
  });

  it('send on a socket closed underneath: send-error, then closed (socket-closed)', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const driver = new UdpDriver(new OneShotMachine(), { socket });
    const events: string[] = [];
    const it = driver.events();
    socket.close();
    driver.update((m) => m.queue(4, { address: '127.0.0.1', port: 9, family: 'IPv4' }));
    for await (const e of it) events.push(e.type === 'send-error' ? `send-error:${e.code}` : e.type);
    expect(events).toEqual(['send-error:ERR_SOCKET_DGRAM_NOT_RUNNING', 'closed']);
    expect(driver.closed).toBe(true);
    await driver.close(); // still fine
  });
});

describe('fairness', () => {
  it('a machine that floods transmits cannot starve input: the driver yields between budgets', async () => {
    const machine = new FloodMachine();
    const sink = await peer();
    const driver = track(await bindUdp(machine, { address: '127.0.0.1', budget: 64 }));
    const p = await peer();
    driver.update((m) => m.start(20_000, sink.address));
    p.send('probe', driver.localAddress ?? p.address);
    await until(() => machine.sent === 20_000 && machine.inputsAt.length === 1);
    expect(machine.inputsAt[0]).toBeLessThan(20_000);
    expect(driver.stats.budgetYields).toBeGreaterThanOrEqual(20_000 / 64 - 1);
    expect(driver.stats.datagramsOut).toBe(20_000);
  });
});

describe('events and close', () => {
  it('delivers the same events to the callback, every iterator and waitFor, then ends them', async () => {
    const cb: string[] = [];
    const driver = await bindUdp(new EchoMachine(), {
      address: '127.0.0.1',
      onEvent: (e) => cb.push(e.type),
    });
    const a = driver.events();
    const b = driver.events();
    const p = await peer();
    const waited = driver.waitFor((e) => e.type === 'machine');
    p.send('e', driver.localAddress ?? p.address);
    await waited;
    await driver.close();
    const drain = async (it: AsyncIterable<DriverEvent<EchoEvent>>): Promise<string[]> => {
      const out: string[] = [];
      for await (const e of it) out.push(e.type);
      return out;
    };
    expect(await drain(a)).toEqual(['machine', 'closed']);
    expect(await drain(b)).toEqual(['machine', 'closed']);
    expect(cb).toEqual(['machine', 'closed']);
    await expect(driver.waitFor(() => true)).rejects.toThrow(/closed/);
    expect(await drain(driver.events())).toEqual([]);
  });

  it('an iterator that falls behind drops the oldest events and counts them', async () => {
    const driver = track(await bindUdp(new EchoMachine(), { address: '127.0.0.1', eventBuffer: 2 }));
    const it = driver.events();
    const p = await peer();
    for (let i = 0; i < 5; i++) p.send(`n${i}`, driver.localAddress ?? p.address);
    for (let i = 0; i < 5; i++) await p.next();
    expect(driver.stats.eventsDropped).toBe(3);
    expect((await it.next()).value).toMatchObject({ event: { text: 'n3' } });
    await it.return();
  });

  it('waitFor rejects when its signal aborts, or when the driver closes first', async () => {
    const driver = await bindUdp(new EchoMachine(), { address: '127.0.0.1' });
    await expect(driver.waitFor(() => false, AbortSignal.timeout(10))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    const pending = driver.waitFor(() => false);
    await driver.close();
    await expect(pending).rejects.toThrow(/closed/);
  });

  it('close() is idempotent, stops input and timers, and closes the socket', async () => {
    const machine = new EchoMachine();
    const driver = await bindUdp(machine, { address: '127.0.0.1' });
    const to = driver.localAddress;
    driver.update((m) => {
      m.deadline = performance.now() + 5;
    });
    const first = driver.close();
    expect(driver.close()).toBe(first);
    await first;
    await driver.close();
    expect(driver.closed).toBe(true);
    await sleep(20);
    expect(machine.timeouts).toEqual([]);
    // The port is free again.
    const again = track(await bindUdp(new EchoMachine(), { address: '127.0.0.1', port: to?.port ?? 0 }));
    expect(again.localAddress?.port).toBe(to?.port);
    // Calls after close do nothing and throw nothing.
    driver.flush();
    driver.update((m) => m.send('late', { address: '127.0.0.1', port: 9, family: 'IPv4' }));
    expect(driver.stats.datagramsOut).toBe(0);
  });
});
