// Deno ↔ Node, driven from Deno: the same StunClient/StunServer machines, one side on io-deno
// in this process, the other on io-node in a Node child process (tsx runs its sources).
import assert from 'node:assert/strict';
import { bindUdp, type DriverEvent } from '@natkit/io-deno';
import type { SocketAddress } from '@natkit/sans-io';
import { StunClient, type StunClientEvent, StunServer } from '@natkit/stun-agent';
import { RecordingMachine } from '../../io-node/test/recording.ts';

const TSX = new URL('../../../node_modules/.bin/tsx', import.meta.url).pathname;
const ROOT = new URL('../../../', import.meta.url).pathname;
const NODE_SERVER = 'packages/io-node/test/fixtures/stun-server.ts';
const NODE_CLIENT = 'packages/io-node/test/fixtures/stun-client.ts';

/** A Node child that prints JSON lines; `stop()` closes its stdin and waits for its exit. */
function node(args: string[]) {
  const child = new Deno.Command(TSX, {
    args: ['--conditions=source', ...args],
    cwd: ROOT,
    stdin: 'piped',
    stdout: 'piped',
    stderr: 'inherit',
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  return {
    async line(): Promise<Record<string, unknown>> {
      for (;;) {
        const nl = buffered.indexOf('\n');
        if (nl >= 0) {
          const text = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (text.startsWith('{')) return JSON.parse(text);
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('node child ended before the expected line');
        buffered += value;
      }
    },
    async stop(): Promise<number> {
      await child.stdin.close();
      // Drain the rest of stdout so the stream and the process are fully released.
      while (!(await reader.read()).done) {
        // discard
      }
      return (await child.status).code;
    },
  };
}

type MachineEvent = Extract<DriverEvent<StunClientEvent>, { type: 'machine' }>;

Deno.test('our client on io-deno gets its address from our server on io-node (Node child)', async () => {
  const server = node([NODE_SERVER]);
  const driver = await bindUdp(new StunClient({ rto: 200 }), { address: '127.0.0.1' });
  try {
    const { port } = (await server.line()) as { port: number };
    const target: SocketAddress = { address: '127.0.0.1', port, family: 'IPv4' };
    const answered = driver.waitFor((e): e is MachineEvent => e.type === 'machine');
    driver.update((c) => c.request(target, driver.now()));
    const { event } = await answered;
    assert.equal(event.type, 'success');
    assert.deepEqual(event.mappedAddress, driver.localAddress);
    // The Node side saw us at the very address it reported back.
    assert.deepEqual((await server.line()).from, driver.localAddress);
  } finally {
    await driver.close();
    assert.equal(await server.stop(), 0);
  }
});

Deno.test('our client on io-node (Node child) gets its address from our server on io-deno', async () => {
  const server = new RecordingMachine(new StunServer());
  const driver = await bindUdp(server, { address: '127.0.0.1' });
  try {
    const client = node([NODE_CLIENT, `127.0.0.1:${driver.localAddress?.port}`]);
    const result = (await client.line()) as { type: string; mapped: unknown; local: unknown };
    assert.equal(await client.stop(), 0);
    assert.equal(result.type, 'success');
    assert.deepEqual(result.mapped, result.local);
    assert.deepEqual(result.mapped, server.inputs[0]);
    assert.equal(server.inner.stats.success, 1);
  } finally {
    await driver.close();
  }
});
