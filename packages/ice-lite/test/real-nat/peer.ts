/**
 * One ICE peer for `real-nat.test.ts`, run inside a network namespace
 * (`ip netns exec <ns> node --conditions=source --import tsx peer.ts '<json config>'`).
 *
 * An {@link IceAgent} on an io-node socket; the test process is the signalling channel. Every line
 * on stdout and stdin is one JSON {@link PeerMessage} / {@link ControlMessage}; candidates travel
 * as SDP `candidate:` attributes (RFC 8839 §5.1), as they would in an offer/answer.
 */
import { createInterface } from 'node:readline';
import { bindUdp } from '@natkit/io-node';
import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { formatCandidate, IceAgent, type IceEvent, parseCandidate } from '../../src/index.ts';

export interface PeerConfig {
  mode: 'full' | 'lite';
  role?: 'controlling' | 'controlled';
  /** The host address to bind (not a wildcard, so the agent compares the local address, §7.2.5.2.1). */
  address: string;
  port: number;
  stunServers: readonly SocketAddress[];
  pacTimeout?: number;
}

/** Peer → test. `t` is ms since the peer started its agent. */
export type PeerMessage =
  | { type: 'hello'; ufrag: string; pwd: string; candidates: string[] }
  | { type: 'candidate'; candidate: string; t: number }
  | { type: 'gathering-complete'; t: number }
  | { type: 'state'; state: string; t: number }
  | { type: 'selected'; local: string; remote: string; t: number }
  | { type: 'prflx'; candidate: string; t: number }
  | { type: 'report'; report: PeerReport }
  /** Application data that arrived (a datagram the agent called `not-stun`). */
  | { type: 'data'; text: string; from: string; t: number }
  | { type: 'error'; message: string };

/** Test → peer. */
export type ControlMessage =
  | { type: 'remote'; ufrag: string; pwd: string }
  | { type: 'candidate'; candidate: string }
  | { type: 'end-of-candidates' }
  | { type: 'report' }
  /** Send `text` as application data on the selected pair (RFC 8445 §12.1). */
  | { type: 'send'; text: string }
  | { type: 'close' };

export interface PeerReport {
  state: string;
  /** ms from the agent's start to the arrival of the peer's credentials (when checks, and RFC 8863's PAC timer, start). */
  credentialsAt: number | undefined;
  role: string;
  selected?: { local: string; remote: string };
  local: string[];
  remote: string[];
  pairs: { local: string; remote: string; state: string }[];
  checksSent: number;
  checksAnswered: number;
  datagramsIn: number;
  datagramsOut: number;
}

type AppEvent = IceEvent | { type: 'data'; payload: Uint8Array; from: SocketAddress };

/**
 * The agent and the application sharing one socket: STUN goes to the agent, what it calls
 * `not-stun` is application data (RFC 7983); data goes out on the selected pair.
 */
class App implements Machine<AppEvent> {
  readonly #out: Transmit[] = [];
  readonly #data: AppEvent[] = [];
  constructor(readonly agent: IceAgent) {}

  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): void {
    if (this.agent.handleInput(payload, from, now, to) === 'not-stun')
      this.#data.push({ type: 'data', payload: payload.slice(), from }); // the view is Node's buffer
  }

  /** Throws without a selected pair: the test asks only once the agent has one. */
  send(payload: Uint8Array): void {
    const pair = this.agent.selectedPair;
    if (pair === undefined) throw new Error('no selected pair');
    this.#out.push({ source: pair.local.address, destination: pair.remote.address, payload });
  }

  pollTransmit(): Transmit | undefined {
    return this.#out.shift() ?? this.agent.pollTransmit();
  }
  pollTimeout(): number | undefined {
    return this.agent.pollTimeout();
  }
  handleTimeout(now: number): void {
    this.agent.handleTimeout(now);
  }
  pollEvent(): AppEvent | undefined {
    return this.#data.shift() ?? this.agent.pollEvent();
  }
}

const send = (m: PeerMessage) => process.stdout.write(`${JSON.stringify(m)}\n`);
const addr = (a: SocketAddress) => `${a.address}:${a.port}`;

async function main(config: PeerConfig): Promise<void> {
  const agent = new IceAgent({
    mode: config.mode,
    ...(config.mode === 'full'
      ? {
          role: config.role ?? 'controlling',
          stunServers: config.stunServers,
          ...(config.pacTimeout !== undefined ? { pacTimeout: config.pacTimeout } : {}),
        }
      : {}),
  });
  const started = performance.now();
  const t = () => Math.round(performance.now() - started);
  const onEvent = (e: AppEvent) => {
    switch (e.type) {
      case 'data':
        return send({ type: 'data', text: new TextDecoder().decode(e.payload), from: addr(e.from), t: t() });
      case 'local-candidate':
        return send({ type: 'candidate', candidate: formatCandidate(e.candidate), t: t() });
      case 'gathering-complete':
        return send({ type: 'gathering-complete', t: t() });
      case 'state':
        return send({ type: 'state', state: e.state, t: t() });
      case 'selected-pair':
        return send({
          type: 'selected',
          local: formatCandidate(e.local),
          remote: formatCandidate(e.remote),
          t: t(),
        });
      case 'remote-candidate':
        return send({ type: 'prflx', candidate: formatCandidate(e.candidate), t: t() });
      case 'role':
      case 'restart-complete':
        return;
      default:
        e satisfies never;
    }
  };
  const app = new App(agent);
  const driver = await bindUdp(app, {
    address: config.address,
    port: config.port,
    onEvent: (e) => {
      if (e.type === 'machine') onEvent(e.event);
      else if (e.type === 'machine-error')
        send({ type: 'error', message: `machine-error (${e.phase}): ${String(e.error)}` });
    },
  });
  const host = driver.update((m) => m.agent.addLocalCandidate(driver.localAddress!));
  send({ type: 'hello', ...agent.localCredentials, candidates: [formatCandidate(host)] });
  if (config.mode === 'full') driver.update((m) => m.agent.gather(driver.now()));

  let credentialsAt: number | undefined;
  const report = (): PeerReport => {
    const s = agent.selectedPair;
    const cands = agent.localCandidates;
    const remotes = agent.remoteCandidates;
    return {
      state: agent.state,
      credentialsAt,
      role: agent.role,
      ...(s ? { selected: { local: formatCandidate(s.local), remote: formatCandidate(s.remote) } } : {}),
      local: cands.map(formatCandidate),
      remote: remotes.map(formatCandidate),
      pairs: agent.pairs.map((p) => ({
        local: addr(cands[p.local]!.address),
        remote: addr(remotes[p.remote]!.address),
        state: p.state,
      })),
      checksSent: agent.stats.checksSent,
      checksAnswered: agent.stats.checksAnswered,
      datagramsIn: driver.stats.datagramsIn,
      datagramsOut: driver.stats.datagramsOut,
    };
  };

  for await (const line of createInterface({ input: process.stdin })) {
    const m = JSON.parse(line) as ControlMessage;
    switch (m.type) {
      case 'remote':
        credentialsAt = t();
        driver.update((a) => a.agent.setRemoteCredentials({ ufrag: m.ufrag, pwd: m.pwd }));
        break;
      case 'candidate': {
        const parsed = parseCandidate(m.candidate);
        if (parsed.ok) driver.update((a) => a.agent.addRemoteCandidate(parsed.candidate));
        else send({ type: 'error', message: `bad candidate ${m.candidate}: ${parsed.reason}` });
        break;
      }
      case 'end-of-candidates':
        if (config.mode === 'full') driver.update((a) => a.agent.endOfRemoteCandidates());
        break;
      case 'report':
        send({ type: 'report', report: report() });
        break;
      case 'send':
        driver.update((a) => a.send(new TextEncoder().encode(m.text)));
        break;
      case 'close':
        await driver.close();
        return;
      default:
        m satisfies never;
    }
  }
  await driver.close(); // stdin closed: the test went away
}

main(JSON.parse(process.argv[2] ?? '{}') as PeerConfig).catch((e: unknown) => {
  send({ type: 'error', message: String(e) });
  process.exitCode = 1;
});
