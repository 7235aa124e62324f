/**
 * What the driver costs on top of a raw node:dgram socket, measured as UDP round trips over
 * 127.0.0.1 (one datagram out, one back, awaited):
 *   1. raw dgram echo server (the floor: two sockets, no machine);
 *   2. the same echo as a sans-IO machine run by io-node's UdpDriver;
 *   3. a real STUN Binding request/response: StunClient and StunServer, each on a UdpDriver.
 * Then a burst: 10 000 datagrams into a driver-run echo machine, timed until all are echoed.
 *
 * Run: pnpm --filter @natkit/io-node bench
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { StunClient, type StunClientEvent, StunServer } from '@natkit/stun-agent';
import { bench, run, summary } from 'mitata';
import { bindUdp, type DriverEvent } from '../src/index.ts';

/** Echoes each datagram back to its sender from one reused buffer. */
class Echo implements Machine<never> {
  readonly #buf = new Uint8Array(2048);
  #out: Transmit | undefined;
  handleInput(payload: Uint8Array, from: SocketAddress): void {
    this.#buf.set(payload);
    this.#out = { destination: from, payload: this.#buf.subarray(0, payload.byteLength) };
  }
  pollTransmit(): Transmit | undefined {
    const t = this.#out;
    this.#out = undefined;
    return t;
  }
  pollTimeout(): undefined {
    return undefined;
  }
  handleTimeout(): void {}
  pollEvent(): undefined {
    return undefined;
  }
}

async function socket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

const PAYLOAD = Buffer.alloc(100, 1);

// 1. raw echo
const rawServer = await socket();
rawServer.on('message', (m, r) => rawServer.send(m, r.port, r.address));
// 2. driver echo
const echo = await bindUdp(new Echo(), { address: '127.0.0.1' });
// the client side of 1 and 2: a raw socket that resolves one promise per reply
const client = await socket();
let reply: (() => void) | undefined;
client.on('message', () => reply?.());
const ping = (port: number) =>
  new Promise<void>((resolve) => {
    reply = resolve;
    client.send(PAYLOAD, port, '127.0.0.1');
  });
const rawPort = rawServer.address().port;
const echoPort = echo.localAddress?.port ?? 0;

// 3. STUN over two drivers
const stunServer = await bindUdp(new StunServer(), { address: '127.0.0.1' });
const stunClient = await bindUdp(new StunClient(), { address: '127.0.0.1' });
const stunTarget = stunServer.localAddress as SocketAddress;
const isDone = (e: DriverEvent<StunClientEvent>) => e.type === 'machine';
const binding = async () => {
  const done = stunClient.waitFor(isDone);
  stunClient.update((c) => c.request(stunTarget, stunClient.now()));
  await done;
};

summary(() => {
  bench('raw dgram echo round trip', () => ping(rawPort));
  bench('io-node driver echo round trip', () => ping(echoPort));
  bench('STUN Binding round trip (StunClient ↔ StunServer, two drivers)', binding);
});

await run();

// Burst: datagrams handled per second by a driver-run echo machine.
const N = 10_000;
let got = 0;
let allBack: (() => void) | undefined;
client.removeAllListeners('message');
client.on('message', () => {
  if (++got === N) allBack?.();
});
const t0 = performance.now();
const finished = new Promise<void>((r) => {
  allBack = r;
});
// Paced in windows of 64 in flight so the loopback receive buffers never overflow.
let sent = 0;
const pump = () => {
  while (sent < N && sent - got < 64) {
    client.send(PAYLOAD, echoPort, '127.0.0.1');
    sent++;
  }
  if (sent < N) setImmediate(pump);
};
pump();
await finished;
const ms = performance.now() - t0;
console.log(
  `\nburst: ${N} datagrams echoed by the driver in ${ms.toFixed(0)} ms = ${Math.round((N / ms) * 1000)} datagrams/s round trip` +
    ` (driver stats: in ${echo.stats.datagramsIn}, out ${echo.stats.datagramsOut}, budget yields ${echo.stats.budgetYields})`,
);

await Promise.all([echo.close(), stunServer.close(), stunClient.close()]);
rawServer.close();
client.close();
