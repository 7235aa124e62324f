// `pnpm demo` with no arguments: offline and self-contained, loopback only.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hostCandidate } from '@natkit/ice-lite';
import type { SocketAddress } from '@natkit/sans-io';
import { type HostEvent, type IceSession, NatHost } from './host.ts';
import type { FromRemote, RemoteSessionReport, ToRemote } from './link.ts';
import { decodePing, encodePing } from './rtp.ts';
import type { Runtime } from './runtime.ts';
import { color, fmtAddr, fmtMs, table } from './term.ts';

export interface DefaultDemoOptions {
  sessions: number;
  pings: number;
  /** Give up (exit 1) after this long. */
  deadlineMs: number;
}

class RemoteProcess {
  readonly #child;
  readonly #waiters: { match: (m: FromRemote) => boolean; resolve: (m: FromRemote) => void }[] = [];
  onMessage: (m: FromRemote) => void = () => {};
  exited: Promise<number | null>;

  constructor(rt: Runtime) {
    const script = fileURLToPath(new URL('./remote.ts', import.meta.url));
    const { command, args } = rt.scriptCommand(script);
    this.#child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((resolve) => this.#child.on('exit', (code) => resolve(code)));
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      let m: FromRemote;
      try {
        m = JSON.parse(line) as FromRemote;
      } catch {
        process.stderr.write(`remote: ${line}\n`);
        return;
      }
      this.onMessage(m);
      for (let i = 0; i < this.#waiters.length; i++) {
        const w = this.#waiters[i]!;
        if (w.match(m)) {
          this.#waiters.splice(i, 1);
          w.resolve(m);
          break;
        }
      }
    });
  }

  send(m: ToRemote): void {
    this.#child.stdin.write(`${JSON.stringify(m)}\n`);
  }

  next<T extends FromRemote['type']>(type: T): Promise<Extract<FromRemote, { type: T }>> {
    return new Promise((resolve) => {
      this.#waiters.push({ match: (m) => m.type === type, resolve: resolve as (m: FromRemote) => void });
    });
  }

  kill(): void {
    this.#child.kill('SIGTERM');
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runDefaultDemo(rt: Runtime, options: DefaultDemoOptions): Promise<number> {
  const t0 = rt.now();
  const log = (line: string): void =>
    console.log(`${color.dim(`[${fmtMs(rt.now() - t0).padStart(9)}]`)} ${line}`);
  const rtts = new Map<string, number[]>();
  const allConnected = deferred();
  const mapped = deferred();
  let connected = 0;
  const onEvent = (e: HostEvent): void => {
    switch (e.type) {
      case 'mapped-address':
        log(`STUN: ${fmtAddr(e.server)} sees us at ${color.bold(fmtAddr(e.mapped))} (rtt ${fmtMs(e.rtt)})`);
        mapped.resolve();
        break;
      case 'discovery-failed':
        log(color.red(`STUN: ${fmtAddr(e.server)} failed: ${e.reason}`));
        mapped.resolve();
        break;
      case 'session-selected':
        log(`ICE ${e.id}: selected pair ${fmtAddr(e.local)} ↔ ${fmtAddr(e.remote)}`);
        break;
      case 'session-state': {
        if (e.state === 'closed') break; // our own shutdown, after the summary
        const s = host.session(e.id);
        const extra = e.state === 'connected' && s ? ` in ${fmtMs(rt.now() - s.createdAt)}` : '';
        log(`ICE ${e.id}: ${e.state === 'connected' ? color.green(e.state) : e.state}${extra}`);
        if (e.state === 'connected' && ++connected === options.sessions) allConnected.resolve();
        break;
      }
      default: {
        const never: never = e;
        void never;
      }
    }
  };
  const host = new NatHost({
    software: 'natkit demo',
    onEvent,
    onData: (session: IceSession, payload: Uint8Array) => {
      const ping = decodePing(payload);
      if (ping === undefined) return;
      const list = rtts.get(session.id) ?? [];
      rtts.set(session.id, list);
      list.push(rt.now() - ping.sentAt);
    },
  });
  const sock = await rt.bind(host.mux, '127.0.0.1', 0);
  host.localAddress = sock.localAddress;
  console.log(color.bold(`natkit demo — every machine behind one UDP socket (${rt.name})`));
  log(`bound ${color.bold(fmtAddr(sock.localAddress))}: StunServer + StunClient + ICE agents, one Mux`);

  const remote = new RemoteProcess(rt);
  const remoteStates = new Map<string, string>();
  remote.onMessage = (m) => {
    if (m.type === 'state') remoteStates.set(m.id, m.state);
    if (m.type === 'error') log(color.red(`remote: ${m.message}`));
  };
  let timedOut = false;
  const guard = setTimeout(() => {
    timedOut = true;
    allConnected.resolve();
    mapped.resolve();
  }, options.deadlineMs);
  try {
    const ready = await Promise.race([remote.next('ready'), remote.exited.then(() => undefined)]);
    if (ready === undefined) throw new Error('the remote process exited before it was ready');
    const remoteAddr: SocketAddress = { address: ready.address, port: ready.port, family: 'IPv4' };
    log(`remote natkit process up on ${color.bold(fmtAddr(remoteAddr))} (${ready.runtime})`);

    sock.update(() => host.discover([remoteAddr], rt.now()));
    await mapped.promise;
    const theirMapped = remote.next('mapped');
    remote.send({ type: 'discover', server: sock.localAddress });
    const m = await Promise.race([theirMapped, sleep(3000).then(() => undefined)]);
    if (m?.mapped !== undefined) {
      log(
        `STUN: our StunServer tells the remote it is at ${color.bold(fmtAddr(m.mapped))} (its rtt ${fmtMs(m.rtt ?? 0)})`,
      );
    } else {
      log(
        color.red(`STUN: the remote's discovery through our StunServer failed: ${m?.error ?? 'no answer'}`),
      );
    }

    log(`offering ${options.sessions} ICE sessions (ours: lite, controlled; remote: controlling)`);
    for (let i = 0; i < options.sessions; i++) {
      const s = sock.update(() => host.createSession({ mode: 'lite' }, rt.now()));
      const answer = remote.next('answer');
      remote.send({
        type: 'offer',
        id: s.id,
        ufrag: s.local.ufrag,
        pwd: s.local.pwd,
        candidate: { address: s.candidate.address.address, port: s.candidate.address.port },
        ssrc: s.ssrc,
      });
      const a = await answer;
      sock.update(() =>
        host.setRemote(s, { ufrag: a.ufrag, pwd: a.pwd }, [hostCandidate(remoteAddr)], rt.now()),
      );
    }
    await allConnected.promise;
    if (timedOut) throw new Error(`only ${connected}/${options.sessions} sessions connected in time`);

    log(`all ${connected} sessions connected; ${options.pings} RTP pings over each selected pair`);
    for (let k = 0; k < options.pings; k++) {
      sock.update(() => {
        for (const s of host.sessions()) host.send(s, encodePing(k, s.ssrc, rt.now()));
      });
      await sleep(5);
    }
    await sleep(50);

    const reportP = remote.next('report');
    remote.send({ type: 'report' });
    const report = await Promise.race([reportP, sleep(3000).then(() => undefined)]);
    const theirs = new Map<string, RemoteSessionReport>((report?.sessions ?? []).map((r) => [r.id, r]));

    const rows: string[][] = [];
    let ok = 0;
    for (const s of host.sessions()) {
      const r = theirs.get(s.id);
      const list = rtts.get(s.id) ?? [];
      const avg = list.length === 0 ? undefined : list.reduce((a, b) => a + b, 0) / list.length;
      const agentStats = s.agent.mode === 'lite' ? s.agent.stats : undefined;
      const good = s.state === 'connected' && list.length === options.pings;
      if (good) ok++;
      rows.push([
        s.id,
        good ? color.green(s.state) : color.red(s.state),
        s.connectedAt === undefined ? '-' : fmtMs(s.connectedAt - s.createdAt),
        String(r?.checksSent ?? '-'),
        String(agentStats?.checksAnswered ?? '-'),
        String(r?.retransmits ?? '-'),
        r?.rtt === undefined ? '-' : fmtMs(r.rtt),
        `${list.length}/${options.pings}`,
        avg === undefined ? '-' : fmtMs(avg),
      ]);
    }
    console.log('');
    console.log(
      table(
        ['session', 'state', 'connect', 'checks', 'answered', 'retx', 'STUN rtt', 'echoes', 'data rtt'],
        rows,
      ),
    );
    const st = host.mux.stats;
    const dropped = Object.entries(st.dropped)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`);
    console.log('');
    console.log(
      `one socket: ${sock.counters.datagramsIn} datagrams in, ${sock.counters.datagramsOut} out; ` +
        `routed → server ${st.routed['stun-server']}, ice ${st.routed.ice}, responses ${st.routed.response}, ` +
        `data ${st.routed.data}; dropped ${dropped.length === 0 ? '0' : dropped.join(', ')}; ` +
        `${host.mux.childCount} children, ${st.childTimeouts} child timeouts`,
    );
    const green = ok === options.sessions;
    console.log(
      green
        ? color.green(`✔ ${ok}/${options.sessions} sessions connected and echoed application data`)
        : color.red(`✘ only ${ok}/${options.sessions} sessions completed`),
    );
    return green ? 0 : 1;
  } catch (error) {
    console.error(color.red(`demo failed: ${error instanceof Error ? error.message : String(error)}`));
    return 1;
  } finally {
    clearTimeout(guard);
    sock.update(() => {
      for (const s of [...host.sessions()]) host.closeSession(s.id, rt.now());
    });
    remote.send({ type: 'exit' });
    const exited = await Promise.race([remote.exited, sleep(2000).then(() => 'timeout' as const)]);
    if (exited === 'timeout') remote.kill();
    await sock.close();
  }
}
