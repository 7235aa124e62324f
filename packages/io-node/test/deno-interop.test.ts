// Node ↔ Deno: the same StunClient and StunServer machines, one side on io-node in this
// process, the other on io-deno under real Deno (spawned from node_modules/.bin/deno).
import { StunServer } from '@natkit/stun-agent';
import { describe, expect, it } from 'vitest';
import { bindUdp } from '../src/index.ts';
import { publicAddress } from '../src/stun.ts';
import { DENO, DENO_ENV, spawnJson } from './processes.ts';
import { RecordingMachine } from './recording.ts';

const DENO_ARGS = [
  'run',
  '--config',
  'deno.json',
  '--unstable-net',
  '--allow-net',
  '--allow-read',
  '--allow-env',
];
const CLIENT = 'packages/io-deno/test-deno/fixtures/stun-client.ts';
const SERVER = 'packages/io-deno/test-deno/fixtures/stun-server.ts';

describe('Node ↔ Deno', () => {
  it('our client on io-deno gets its address from our server on io-node', async () => {
    const server = new RecordingMachine(new StunServer());
    const driver = await bindUdp(server, { address: '127.0.0.1' });
    try {
      const deno = spawnJson(
        DENO,
        [...DENO_ARGS, CLIENT, `127.0.0.1:${driver.localAddress?.port}`],
        DENO_ENV,
      );
      const result = await deno.line<{ type: string; mapped: unknown; local: unknown }>();
      expect(await deno.stop()).toBe(0);
      expect(result.type, deno.stderr()).toBe('success');
      // The mapped address the Deno client got is the address it sent from, as Node saw it.
      expect(result.mapped).toEqual(result.local);
      expect(result.mapped).toEqual(server.inputs[0]);
      expect(server.inner.stats.success).toBe(1);
    } finally {
      await driver.close();
    }
  }, 60_000);

  it('our client on io-node gets its address from our server on io-deno', async () => {
    const deno = spawnJson(DENO, [...DENO_ARGS, SERVER], DENO_ENV);
    try {
      const { port } = await deno.line<{ port: number }>((v) => 'port' in v);
      const result = await publicAddress(`127.0.0.1:${port}`, {
        localAddress: '127.0.0.1',
        client: { rto: 200 },
        signal: AbortSignal.timeout(10_000),
      });
      expect(result.mapped).toEqual(result.local);
      const seen = await deno.line<{ from: unknown }>((v) => 'from' in v);
      expect(seen.from).toEqual(result.local);
    } finally {
      expect(await deno.stop()).toBe(0);
    }
  }, 60_000);
});
