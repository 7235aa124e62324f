// The "what is my public address" convenience, the natkit-stun CLI, and garbage on the wire,
// all with stun-agent's StunClient/StunServer on io-node over loopback.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fc, test } from '@fast-check/vitest';
import type { SocketAddress } from '@natkit/sans-io';
import { StunServer } from '@natkit/stun-agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindUdp, type UdpDriver } from '../src/index.ts';
import { formatAddress, parseHostPort, publicAddress, resolveServer, StunQueryError } from '../src/stun.ts';
import { ROOT, TSX } from './processes.ts';
import { RecordingMachine } from './recording.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

describe('parseHostPort', () => {
  it.each([
    ['stun.example.org', { host: 'stun.example.org', port: 3478 }],
    ['stun.example.org:19302', { host: 'stun.example.org', port: 19302 }],
    ['192.0.2.1:3479', { host: '192.0.2.1', port: 3479 }],
    ['2001:db8::1', { host: '2001:db8::1', port: 3478 }],
    ['[2001:db8::1]', { host: '2001:db8::1', port: 3478 }],
    ['[::1]:5349', { host: '::1', port: 5349 }],
  ])('%s', (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });

  it.each(['', ':3478', 'host:', 'host:0', 'host:65536', 'host:12a', '[::1', '[::1]x'])(
    'rejects %j',
    (text) => {
      expect(() => parseHostPort(text)).toThrow(TypeError);
    },
  );

  it('resolves literals without DNS and formats them back', async () => {
    expect(await resolveServer('[::1]:9')).toEqual({ address: '::1', port: 9, family: 'IPv6' });
    expect(formatAddress({ address: '::1', port: 9, family: 'IPv6' })).toBe('[::1]:9');
    expect(await resolveServer('127.0.0.1:9')).toEqual({ address: '127.0.0.1', port: 9, family: 'IPv4' });
  });
});

describe('publicAddress / natkit-stun against our StunServer', () => {
  let v4: UdpDriver<RecordingMachine<never, StunServer>>;
  let v6: UdpDriver<RecordingMachine<never, StunServer>>;
  beforeAll(async () => {
    v4 = await bindUdp(new RecordingMachine(new StunServer()), { address: '127.0.0.1' });
    v6 = await bindUdp(new RecordingMachine(new StunServer()), { address: '::1' });
  });
  afterAll(async () => {
    await Promise.all([v4?.close(), v6?.close()]);
  });
  const addr = (d: { localAddress: SocketAddress | undefined }): SocketAddress => {
    if (d.localAddress === undefined) throw new Error('unbound');
    return d.localAddress;
  };

  it('returns the mapped address (IPv4), which is where the server saw us', async () => {
    const r = await publicAddress(formatAddress(addr(v4)), { localAddress: '127.0.0.1' });
    expect(r.mapped).toEqual(r.local);
    expect(r.mapped).toEqual(v4.machine.inputs.at(-1));
    expect(r.server).toEqual(addr(v4));
    expect(r.rtt).toBeGreaterThanOrEqual(0);
  });

  it('returns the mapped address (IPv6)', async () => {
    const r = await publicAddress(formatAddress(addr(v6)), { localAddress: '::1' });
    expect(r.mapped).toEqual({ address: '::1', port: r.local.port, family: 'IPv6' });
  });

  it('a dual-stack server answers an IPv4 client with its IPv4 address, not an IPv4-mapped one', async () => {
    const dual = await bindUdp(new StunServer(), { family: 'IPv6', ipv6Only: false });
    try {
      const server = { address: '127.0.0.1', port: addr(dual).port, family: 'IPv4' as const };
      const r = await publicAddress(formatAddress(server), { localAddress: '127.0.0.1' });
      expect(r.mapped).toEqual({ address: '127.0.0.1', port: r.local.port, family: 'IPv4' });
    } finally {
      await dual.close();
    }
  });

  it('rejects with StunQueryError on an error response (long-term auth the server does not know)', async () => {
    const auth = await bindUdp(
      new StunServer({ auth: { type: 'long-term', realm: 'example.org', password: () => undefined } }),
      { address: '127.0.0.1' },
    );
    try {
      const err = await publicAddress(addr(auth), {
        credentials: { type: 'long-term', username: 'mallory', password: 'x' },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StunQueryError);
      expect(err).not.toMatchObject({ kind: 'success' });
    } finally {
      await auth.close();
    }
  });

  it('honours an abort signal when nothing answers', async () => {
    const silent = await bindUdp(new RecordingMachine(new StunServer()), { address: '127.0.0.1' });
    const target = addr(silent);
    await silent.close();
    await expect(publicAddress(target, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });

  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(TSX, ['--conditions=source', CLI, ...args], { cwd: ROOT });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('exit', (code) => resolve({ code, out, err }));
    });

  it('natkit-stun prints the mapped address and RTT', async () => {
    const { code, out } = await run([formatAddress(addr(v4)), '--local', '127.0.0.1']);
    expect(code).toBe(0);
    const mapped = /^mapped address: 127\.0\.0\.1:(\d+)$/m.exec(out);
    expect(mapped, out).not.toBeNull();
    expect(Number(mapped?.[1])).toBe(v4.machine.inputs.at(-1)?.port);
    expect(out).toMatch(/^rtt: \d+\.\d\d ms/m);
  }, 60_000);

  it('natkit-stun --json, and exit codes for no answer (1) and bad usage (2)', async () => {
    const ok = await run([formatAddress(addr(v6)), '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({
      mapped: { address: '::1', family: 'IPv6' },
      server: addr(v6),
    });
    const silent = await bindUdp(new StunServer(), { address: '127.0.0.1' });
    const target = formatAddress(addr(silent));
    await silent.close();
    const none = await run([target, '--timeout', '300']);
    expect(none).toMatchObject({ code: 1, out: '' });
    expect(none.err).toMatch(/no answer within 300 ms/);
    expect((await run([])).code).toBe(2);
    expect((await run(['127.0.0.1:1', '--user', 'only-user'])).code).toBe(2);
  }, 60_000); // each run starts tsx: slow on a busy machine
});

describe('bad input: garbage from the network does not hurt the driver or the server', () => {
  let driver: UdpDriver<StunServer>;
  let garbage: UdpDriver<RecordingMachine<never, StunServer>>;
  beforeAll(async () => {
    driver = await bindUdp(new StunServer(), { address: '127.0.0.1' });
    // A second driver as the sender: it just transmits whatever we hand its socket.
    garbage = await bindUdp(new RecordingMachine(new StunServer()), { address: '127.0.0.1' });
  });
  afterAll(async () => {
    await Promise.all([driver?.close(), garbage?.close()]);
  });

  const target = (): SocketAddress =>
    driver.localAddress ?? { address: '127.0.0.1', port: 9, family: 'IPv4' };
  const sendRaw = (bytes: Uint8Array) =>
    new Promise<void>((resolve) =>
      garbage.socket.send(bytes, target().port, target().address, () => resolve()),
    );

  test.prop([fc.array(fc.uint8Array({ minLength: 0, maxLength: 600 }), { minLength: 1, maxLength: 20 })], {
    numRuns: 25,
  })('random datagrams are dropped and counted, and a real request is still answered', async (datagrams) => {
    const before = driver.stats.datagramsIn;
    for (const d of datagrams) await sendRaw(d);
    // A STUN-shaped header with a random body exercises the decoder's error paths too.
    const header = new Uint8Array(20 + 8);
    header.set([0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42]);
    header.set(datagrams[0]?.subarray(0, 20) ?? [], 8);
    await sendRaw(header);
    const r = await publicAddress(target(), { localAddress: '127.0.0.1', signal: AbortSignal.timeout(5000) });
    expect(r.mapped).toEqual(r.local);
    expect(driver.stats.datagramsIn).toBe(before + datagrams.length + 2);
    expect(driver.stats.machineErrors).toBe(0);
    expect(driver.closed).toBe(false);
  });
});
