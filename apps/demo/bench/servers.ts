// A server for throughput.ts, in its own process so it does not share a core with the load
// generator:
//   echo          plain node:dgram, sends every datagram back
//   echo-copy-cb  the same, copying each payload and passing a send callback (as drivers do)
//   driver-echo   io-node running a machine that sends every datagram back (the driver's own cost)
//   stun          a bare StunServer on io-node
//   demo          the demo's Mux (StunServer, StunClient, IceRouter with 1000 idle sessions) on io-node
// Prints `port <n>` once listening. On SIGUSR2 prints `mark <cpu µs> <datagrams in>` (the bench
// brackets its measurement window with two marks); exits on SIGTERM.
import { createSocket } from 'node:dgram';
import { bindUdp } from '@natkit/io-node';
import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { StunServer } from '@natkit/stun-agent';
import { NatHost } from '../src/host.ts';

const kind = process.argv[2];

/** Sends every datagram back, doing nothing else: io-node's cost without any protocol work. */
class EchoMachine implements Machine<never> {
  readonly #out: Transmit[] = [];
  handleInput(payload: Uint8Array, from: SocketAddress): void {
    this.#out.push({ destination: from, payload });
  }
  pollTransmit(): Transmit | undefined {
    return this.#out.shift();
  }
  pollTimeout(): undefined {
    return undefined;
  }
  handleTimeout(): void {}
  pollEvent(): undefined {
    return undefined;
  }
}
let received = 0;
let close: () => Promise<void>;
let port: number;

if (kind === 'echo' || kind === 'echo-copy-cb') {
  const s = createSocket('udp4');
  if (kind === 'echo') {
    s.on('message', (msg, rinfo) => {
      received++;
      s.send(msg, rinfo.port, rinfo.address);
    });
  } else {
    s.on('message', (msg, rinfo) => {
      received++;
      s.send(Buffer.from(msg), rinfo.port, rinfo.address, () => {});
    });
  }
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  port = s.address().port;
  close = () => new Promise((r) => s.close(() => r()));
} else if (kind === 'driver-echo') {
  const d = await bindUdp(new EchoMachine(), { address: '127.0.0.1' });
  port = d.localAddress!.port;
  Object.defineProperty(globalThis, '__received', { get: () => d.stats.datagramsIn });
  close = () => d.close();
} else if (kind === 'demo' || kind === 'stun') {
  let driver: {
    localAddress: { port: number } | undefined;
    stats: { datagramsIn: number };
    close(): Promise<void>;
  };
  if (kind === 'demo') {
    const host = new NatHost({});
    const d = await bindUdp(host.mux, { address: '127.0.0.1' });
    host.localAddress = d.localAddress!;
    // The socket is not idle: 1000 ICE-lite sessions live behind it too.
    d.update(() => {
      for (let i = 0; i < 1000; i++) host.createSession({ mode: 'lite' }, performance.now());
    });
    driver = d;
  } else {
    // The same StunServer on io-node without the Mux: separates the Mux's cost from the rest.
    driver = await bindUdp(new StunServer(), { address: '127.0.0.1' });
  }
  port = driver.localAddress!.port;
  Object.defineProperty(globalThis, '__received', { get: () => driver.stats.datagramsIn });
  close = () => driver.close();
} else {
  console.error('usage: servers.ts echo|echo-copy-cb|driver-echo|stun|demo');
  process.exit(2);
}

const count = (): number => (globalThis as { __received?: number }).__received ?? received;
process.on('SIGUSR2', () => {
  const c = process.cpuUsage();
  console.log(`mark ${c.user + c.system} ${count()}`);
});
process.on('SIGTERM', () => void close().then(() => process.exit(0)));
console.log(`port ${port}`);
