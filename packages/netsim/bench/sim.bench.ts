/**
 * How fast netsim moves datagrams in virtual time:
 *   1. 10 000 datagrams one way across a jittery, lossy, duplicating link;
 *   2. 10 000 request/response round trips through a symmetric NAT (4 hops each);
 *   3. the same with the trace switched off.
 * Prints mitata's table, then hops per second for each.
 *
 * Run: pnpm --filter @natkit/netsim bench
 */
import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { bench, run } from 'mitata';
import { NatPresets, Sim, socketAddress } from '../src/index.ts';

const N = 10_000;
const PAYLOAD = new Uint8Array(100);

/** Sends one datagram per ms to `to`, N in all. */
class Pump implements Machine<never> {
  #sent = 0;
  #pending: Transmit | undefined;
  constructor(readonly to: SocketAddress) {}
  handleInput(): void {}
  pollTransmit() {
    const t = this.#pending;
    this.#pending = undefined;
    return t;
  }
  pollTimeout() {
    return this.#sent < N ? this.#sent : undefined;
  }
  handleTimeout(): void {
    this.#pending = { destination: this.to, payload: PAYLOAD };
    this.#sent++;
  }
  pollEvent() {
    return undefined;
  }
}

/** Answers every datagram to its source. */
class Echo implements Machine<never> {
  #out: Transmit[] = [];
  handleInput(payload: Uint8Array, from: SocketAddress): void {
    this.#out.push({ destination: from, payload });
  }
  pollTransmit() {
    return this.#out.shift();
  }
  pollTimeout() {
    return undefined;
  }
  handleTimeout(): void {}
  pollEvent() {
    return undefined;
  }
}

function oneWay(): Sim {
  const sim = new Sim({ seed: 1 });
  const net = sim.network('wan', { latency: 30, jitter: 10, loss: 0.01, duplicate: 0.01 });
  sim.host('b', { network: net, address: '10.0.0.2' }).add(new Echo(), { port: 9 });
  sim.host('a', { network: net, address: '10.0.0.1' }).add(new Pump(socketAddress('10.0.0.2', 9)));
  sim.runUntilIdle();
  return sim;
}

function throughNat(trace: boolean): Sim {
  const sim = new Sim({ seed: 1, trace });
  const internet = sim.network('internet', { latency: 20 });
  const home = sim.network('home', { latency: 1 });
  sim.nat('nat', {
    inside: home,
    outside: internet,
    externalAddress: '203.0.113.1',
    ...NatPresets.symmetric,
  });
  sim.host('s', { network: internet, address: '198.51.100.1' }).add(new Echo(), { port: 7 });
  sim.host('pc', { network: home, address: '192.168.1.2' }).add(new Pump(socketAddress('198.51.100.1', 7)));
  sim.runUntilIdle();
  return sim;
}

bench('10k datagrams, jittery lossy link', () => oneWay());
bench('10k round trips through a symmetric NAT', () => throughNat(true));
bench('10k round trips through a symmetric NAT, no trace', () => throughNat(false));

const results = await run();
// Hops each run processes (the echo answers too; every hop is one trace entry).
const oneWayHops = oneWay().trace.length;
const natHops = throughNat(true).trace.length;
const hops = [oneWayHops, natHops, natHops];
results.benchmarks.forEach((b, i) => {
  const avgNs = b.runs[0]?.stats?.avg;
  if (avgNs) console.log(`${b.alias}: ${Math.round((hops[i]! / avgNs) * 1e9).toLocaleString('en')} hops/s`);
});
