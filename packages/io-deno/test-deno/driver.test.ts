// The io-deno driver under real Deno. Deno's op and resource sanitizers (on by default) fail
// any test that leaves a timer, a receive, a send or a socket behind, so each test also checks
// that close() releases everything.
import assert from 'node:assert/strict';
import { bindUdp, type DriverEvent, UdpDriver } from '@natkit/io-deno';
// The same hand-written machines the io-node suite runs: both drivers run the same machine code.
import {
  BusyMachine,
  type EchoEvent,
  EchoMachine,
  FaultyMachine,
  FloodMachine,
  OneShotMachine,
  ReusingMachine,
} from '../../io-node/test/machines.ts';
import { sleep, udpPeer, until } from './peer.ts';

const LOOPBACK = { address: '127.0.0.1' } as const;

Deno.test('feeds each datagram to handleInput and sends what the machine transmits (IPv4)', async () => {
  const machine = new EchoMachine();
  const driver = await bindUdp(machine, LOOPBACK);
  const p = udpPeer();
  try {
    const local = driver.localAddress;
    assert.ok(local);
    assert.equal(local.address, '127.0.0.1');
    await p.send('hello', local);
    assert.equal((await p.next()).text, 'hello');
    await p.send('world', local);
    assert.equal((await p.next()).text, 'world');
    assert.deepEqual(
      machine.inputs.map((i) => i.to),
      [local, local],
    );
    assert.deepEqual(
      { ...driver.stats },
      { ...driver.stats, datagramsIn: 2, bytesIn: 10, datagramsOut: 2, bytesOut: 10 },
    );
  } finally {
    p.close();
    await driver.close();
  }
});

Deno.test('works on IPv6 and reports the family of the sender', async () => {
  const driver = await bindUdp(new EchoMachine(), { address: '::1' });
  const p = udpPeer('IPv6');
  try {
    const received = driver.waitFor((e) => e.type === 'machine');
    await p.send('six', driver.localAddress ?? p.address);
    assert.equal((await p.next()).text, 'six');
    const event = (await received) as Extract<DriverEvent<EchoEvent>, { type: 'machine' }>;
    assert.deepEqual(event.event, { type: 'received', text: 'six', from: p.address });
    assert.equal(driver.localAddress?.family, 'IPv6');
  } finally {
    p.close();
    await driver.close();
  }
});

Deno.test('on a dual-stack socket (::), IPv4 peers are IPv4 to the machine and are answered', async () => {
  // The kernel shows an IPv4 peer of a socket bound to :: as ::ffff:127.0.0.1; the machine
  // must see 127.0.0.1 (IPv4), and its reply to that must reach the peer.
  const driver = await bindUdp(new EchoMachine(), { address: '::' });
  const p = udpPeer('IPv4');
  try {
    const port = driver.localAddress!.port;
    const received = driver.waitFor((e) => e.type === 'machine');
    await p.send('four', { address: '127.0.0.1', port, family: 'IPv4' });
    const reply = await p.next();
    assert.equal(reply.text, 'four');
    assert.deepEqual(reply.from, { address: '127.0.0.1', port, family: 'IPv4' });
    const event = (await received) as Extract<DriverEvent<EchoEvent>, { type: 'machine' }>;
    assert.deepEqual(event.event, { type: 'received', text: 'four', from: p.address });
    assert.equal(driver.stats.sendErrors, 0);
  } finally {
    p.close();
    await driver.close();
  }
});

Deno.test('hands the machine views into one receive slab (no copy per datagram)', async () => {
  const machine = new EchoMachine();
  const driver = await bindUdp(machine, LOOPBACK);
  const p = udpPeer();
  try {
    const to = driver.localAddress ?? p.address;
    await p.send('one', to);
    await p.next();
    await p.send('two', to);
    await p.next();
    const [a, b] = machine.inputs.map((i) => i.payload);
    assert.ok(a && b);
    assert.equal(a.buffer, b.buffer);
    assert.equal(b.byteOffset, a.byteOffset + 8); // 'one' (3 bytes) rounded up to 8
    // Earlier views stay intact: the driver never receives into bytes it handed out.
    assert.equal(new TextDecoder().decode(a), 'one');
  } finally {
    p.close();
    await driver.close();
  }
});

Deno.test('sends a private copy of each payload (Deno sends after send() returns)', async () => {
  const p = udpPeer();
  const driver = await bindUdp(new ReusingMachine(), LOOPBACK);
  try {
    // All three are encoded into the machine's one buffer before the first send completes.
    driver.update((m) => m.start(['one', 'two', 'six'], p.address));
    assert.deepEqual(
      [(await p.next()).text, (await p.next()).text, (await p.next()).text],
      ['one', 'two', 'six'],
    );
  } finally {
    p.close();
    await driver.close();
  }
});

Deno.test('runs on a socket the caller opened; sends what was queued before and after update()', async () => {
  const p = udpPeer();
  const machine = new EchoMachine();
  machine.send('early', p.address);
  const socket = Deno.listenDatagram({ transport: 'udp', hostname: '127.0.0.1', port: 0 });
  const driver = new UdpDriver(machine, { socket });
  try {
    assert.equal((await p.next()).text, 'early');
    driver.update((m) => m.send('later', p.address));
    assert.equal((await p.next()).text, 'later');
    assert.equal(driver.localAddress?.port, (socket.addr as Deno.NetAddr).port);
  } finally {
    p.close();
    await driver.close();
  }
});

Deno.test('calls handleTimeout(now) once the deadline has passed; one timer, none after close', async () => {
  const machine = new EchoMachine();
  const driver = await bindUdp(machine, LOOPBACK);
  try {
    const armedAt = performance.now();
    driver.update((m) => {
      m.deadline = armedAt + 30;
    });
    assert.equal(driver.timerDeadline, armedAt + 30);
    const ev = await driver.waitFor((e) => e.type === 'machine' && e.event.type === 'timeout');
    const now = (ev as { event: { now: number } }).event.now;
    assert.ok(now >= armedAt + 30);
    assert.equal(machine.timeouts.length, 1);
    assert.equal(driver.stats.timeouts, 1);
    assert.equal(driver.timerDeadline, undefined);
    // Re-arming replaces the one timer; close clears it (the sanitizer would catch a leak).
    for (let i = 0; i < 20; i++) {
      driver.update((m) => {
        m.deadline = performance.now() + 60_000 + i;
      });
    }
    assert.equal(driver.timerDeadline, machine.deadline);
  } finally {
    await driver.close();
  }
  assert.equal(driver.timerDeadline, undefined);
});

Deno.test('yields to I/O and counts it when a machine keeps asking for a past timeout', async () => {
  const machine = new BusyMachine();
  const driver = await bindUdp(machine, LOOPBACK);
  const p = udpPeer();
  try {
    for (let i = 0; i < 5; i++) await p.send('ping', driver.localAddress ?? p.address);
    await until(() => machine.inputs === 5 && driver.stats.busyLoopYields > 100);
    assert.equal(machine.timeouts, driver.stats.timeouts);
  } finally {
    p.close();
    await driver.close();
  }
  const after = machine.timeouts;
  await sleep(20);
  assert.equal(machine.timeouts, after);
});

Deno.test('a machine that throws from handleInput: error event, datagram dropped, loop alive', async () => {
  const events: DriverEvent<EchoEvent>[] = [];
  const driver = await bindUdp(new EchoMachine(), { ...LOOPBACK, onEvent: (e) => events.push(e) });
  const p = udpPeer();
  try {
    const to = driver.localAddress ?? p.address;
    await p.send('boom', to);
    await p.send('fine', to);
    assert.equal((await p.next()).text, 'fine');
    const err = events.find((e) => e.type === 'machine-error');
    assert.equal(err?.type, 'machine-error');
    assert.equal(err.phase, 'handleInput');
    assert.deepEqual(err.from, p.address);
    assert.equal(driver.stats.machineErrors, 1);
  } finally {
    p.close();
    await driver.close();
  }
});

for (const verb of ['pollTransmit', 'pollEvent', 'pollTimeout', 'handleTimeout'] as const) {
  Deno.test(`a machine that throws from ${verb}: error event, loop alive`, async () => {
    const machine = new FaultyMachine();
    const driver = await bindUdp(machine, LOOPBACK);
    const p = udpPeer();
    try {
      const failed = driver.waitFor((e) => e.type === 'machine-error');
      machine.throwIn = verb;
      driver.update((m) => {
        m.deadline = performance.now() + 5;
      });
      assert.equal(((await failed) as { phase: string }).phase, verb);
      await p.send('still here', driver.localAddress ?? p.address);
      assert.equal((await p.next()).text, 'still here');
    } finally {
      p.close();
      await driver.close();
    }
  });
}

Deno.test('a listener that throws is reported to iterators, and the loop goes on', async () => {
  const driver = await bindUdp(new EchoMachine(), {
    ...LOOPBACK,
    onEvent: () => {
      throw new Error('listener bug');
    },
  });
  const p = udpPeer();
  try {
    const it = driver.events();
    await p.send('x', driver.localAddress ?? p.address);
    assert.equal((await p.next()).text, 'x');
    assert.equal((await it.next()).value?.type, 'listener-error');
    assert.equal((await it.next()).value?.type, 'machine');
    assert.equal(driver.stats.listenerErrors, 1);
  } finally {
    p.close();
    await driver.close();
  }
});

Deno.test('EMSGSIZE and ENETUNREACH become send-error events, loop alive', async () => {
  const driver = await bindUdp(new OneShotMachine(), { address: '::1' });
  const p = udpPeer('IPv6');
  try {
    const big = driver.waitFor((e) => e.type === 'send-error');
    driver.update((m) => m.queue(70_000, p.address));
    assert.equal(((await big) as { code: string }).code, 'EMSGSIZE');
    const unreachable = driver.waitFor((e) => e.type === 'send-error');
    driver.update((m) => m.queue(8, { address: '127.0.0.1', port: 9, family: 'IPv4' }));
    assert.equal(((await unreachable) as { code: string }).code, 'ENETUNREACH');
    driver.update((m) => m.queue(10, p.address));
    assert.equal((await p.next()).data.byteLength, 10);
    assert.equal(driver.stats.sendErrors, 2);
  } finally {
    p.close();
    await driver.close();
  }
});

Deno.test('a socket closed underneath: send-error for the send after close, then closed (socket-closed)', async () => {
  const socket = Deno.listenDatagram({ transport: 'udp', hostname: '127.0.0.1', port: 0 });
  const driver = new UdpDriver(new OneShotMachine(), { socket });
  const it = driver.events();
  socket.close();
  driver.update((m) => m.queue(4, { address: '127.0.0.1', port: 9, family: 'IPv4' }));
  const seen: string[] = [];
  for await (const e of it) seen.push(e.type === 'send-error' ? `send-error:${e.code}` : e.type);
  assert.deepEqual(seen, ['send-error:BadResource', 'closed']);
  assert.equal(driver.closed, true);
  await driver.close();
});

Deno.test('a machine that floods transmits cannot starve input: the driver yields between budgets', async () => {
  const machine = new FloodMachine();
  const sink = udpPeer();
  const driver = await bindUdp(machine, { ...LOOPBACK, budget: 64 });
  const p = udpPeer();
  try {
    driver.update((m) => m.start(5_000, sink.address));
    await p.send('probe', driver.localAddress ?? p.address);
    await until(() => machine.sent === 5_000 && machine.inputsAt.length === 1);
    assert.ok((machine.inputsAt[0] ?? Number.POSITIVE_INFINITY) < 5_000);
    assert.ok(driver.stats.budgetYields >= 5_000 / 64 - 1);
  } finally {
    p.close();
    sink.close();
    await driver.close();
  }
});

Deno.test('events reach the callback, iterators and waitFor; close() is idempotent and ends them', async () => {
  const cb: string[] = [];
  const driver = await bindUdp(new EchoMachine(), { ...LOOPBACK, onEvent: (e) => cb.push(e.type) });
  const a = driver.events();
  const p = udpPeer();
  const waited = driver.waitFor((e) => e.type === 'machine');
  await p.send('e', driver.localAddress ?? p.address);
  await waited;
  await p.next();
  p.close();
  const first = driver.close();
  assert.equal(driver.close(), first);
  await first;
  const seen: string[] = [];
  for await (const e of a) seen.push(e.type);
  assert.deepEqual(seen, ['machine', 'closed']);
  assert.deepEqual(cb, ['machine', 'closed']);
  await assert.rejects(
    driver.waitFor(() => true),
    /closed/,
  );
  driver.flush();
  driver.update((m) => m.send('late', { address: '127.0.0.1', port: 9, family: 'IPv4' }));
  assert.equal(driver.stats.datagramsOut, 1);
});

Deno.test('waitFor rejects when its signal aborts', async () => {
  const driver = await bindUdp(new EchoMachine(), LOOPBACK);
  const signal = AbortSignal.timeout(10);
  await assert.rejects(
    driver.waitFor(() => false, signal),
    { name: 'TimeoutError' },
  );
  await driver.close();
});
