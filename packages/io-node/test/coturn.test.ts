// Interop with a real third-party STUN/TURN server and client: coturn 4.6 (Debian package).
import { spawn } from 'node:child_process';
import type { SocketAddress } from '@natkit/sans-io';
import { StunClient, type StunClientEvent, StunServer } from '@natkit/stun-agent';
import { AttrType } from '@natkit/stun-codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindUdp, type DriverEvent, type UdpDriver } from '../src/index.ts';
import { type Coturn, startCoturn } from './coturn.ts';
import { RecordingMachine } from './recording.ts';

const CREDS = { type: 'long-term', username: 'alice', password: 'wonderland' } as const;
type MachineEvent = Extract<DriverEvent<StunClientEvent>, { type: 'machine' }>;

/** One Binding (or other) request from a fresh client on 127.0.0.1; resolves with its one event. */
async function ask(
  server: SocketAddress,
  options: Parameters<StunClient['request']>[2] = {},
): Promise<{ event: StunClientEvent; driver: UdpDriver<StunClient> }> {
  const driver = await bindUdp(new StunClient({ rto: 200 }), { address: '127.0.0.1' });
  try {
    const done = driver.waitFor((e): e is MachineEvent => e.type === 'machine');
    driver.update((c) => c.request(server, driver.now(), options));
    return { event: (await done).event, driver };
  } finally {
    await driver.close();
  }
}

describe('our StunClient on io-node against coturn', () => {
  let open: Coturn | undefined;
  let secure: Coturn | undefined;
  const server = (c: Coturn | undefined): Coturn => {
    if (c === undefined) throw new Error('coturn did not start');
    return c;
  };
  beforeAll(async () => {
    const started = await Promise.allSettled([
      startCoturn(),
      startCoturn(['--lt-cred-mech', '--user=alice:wonderland', '--realm=example.org', '--secure-stun']),
    ]);
    // Keep whichever started so afterAll stops it even when the other failed.
    if (started[0].status === 'fulfilled') open = started[0].value;
    if (started[1].status === 'fulfilled') secure = started[1].value;
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  });
  afterAll(async () => {
    await Promise.all([open?.stop(), secure?.stop()]);
  });

  it('gets its own address back as XOR-MAPPED-ADDRESS (no credentials)', async () => {
    const { event, driver } = await ask(server(open).address);
    expect(event).toMatchObject({ type: 'success', destination: server(open).address });
    if (event.type !== 'success') throw new Error(server(open).log());
    expect(event.mappedAddress).toEqual(driver.localAddress);
    expect(event.response.has(AttrType.XorMappedAddress)).toBe(true);
    expect(event.rtt).toBeGreaterThanOrEqual(0);
    expect(driver.stats).toMatchObject({ datagramsOut: 1, datagramsIn: 1, machineErrors: 0 });
  });

  it('with long-term credentials: 401 challenge, authenticated retry, mapped address', async () => {
    const { event, driver } = await ask(server(secure).address, { credentials: CREDS });
    if (event.type !== 'success') throw new Error(`${JSON.stringify(event)}\n${server(secure).log()}`);
    expect(event.mappedAddress).toEqual(driver.localAddress);
    // Two round trips: the unauthenticated request drew a 401, the retry a success.
    expect(driver.stats).toMatchObject({ datagramsOut: 2, datagramsIn: 2 });
    expect(event.response.has(AttrType.MessageIntegrity)).toBe(true);
  });

  it('without credentials a --secure-stun coturn answers 401 with REALM and NONCE', async () => {
    const { event } = await ask(server(secure).address);
    expect(event).toMatchObject({ type: 'error-response', code: 401 });
    if (event.type !== 'error-response') throw new Error('unreachable');
    expect(event.response.realm()).toBe('example.org');
    expect(event.response.nonce()).toBeTruthy();
  });

  it('a wrong password does not succeed', async () => {
    const { event } = await ask(server(secure).address, { credentials: { ...CREDS, password: 'nope' } });
    expect(event.type).not.toBe('success');
  });

  it('an Allocate with long-term credentials gets a relayed and a mapped address', async () => {
    const { event, driver } = await ask(server(secure).address, {
      credentials: CREDS,
      method: 0x003,
      attributes: [{ type: AttrType.RequestedTransport, value: new Uint8Array([17, 0, 0, 0]) }],
    });
    if (event.type !== 'success') throw new Error(`${JSON.stringify(event)}\n${server(secure).log()}`);
    expect(event.mappedAddress).toEqual(driver.localAddress);
    expect(event.response.has(AttrType.XorRelayedAddress)).toBe(true);
  });
});

describe("coturn's turnutils_stunclient against our StunServer on io-node", () => {
  it('gets a correct reflexive address', async () => {
    const server = new RecordingMachine(new StunServer());
    const driver = await bindUdp(server, { address: '127.0.0.1' });
    try {
      const port = String(driver.localAddress?.port);
      // It blocks forever when nothing answers and always exits 0: bound it and read its output.
      const child = spawn('timeout', ['5', 'turnutils_stunclient', '-p', port, '127.0.0.1'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      const m = /UDP reflexive addr: ([\d.]+):(\d+)/.exec(out);
      expect(m, out).not.toBeNull();
      expect(code).toBe(0); // not 124: it got its answer before `timeout` fired
      const first = server.inputs[0];
      expect(first).toBeDefined();
      expect({ address: m?.[1], port: Number(m?.[2]) }).toEqual({
        address: first?.address,
        port: first?.port,
      });
      expect(server.inner.stats.success).toBeGreaterThanOrEqual(1);
      expect(driver.stats.machineErrors).toBe(0);
    } finally {
      await driver.close();
    }
  });
});
