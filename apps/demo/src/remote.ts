// The stand-in "remote" natkit process of `pnpm demo`: its own socket, its own StunServer and
// one controlling ICE agent per offered session, all behind its own Mux. Talks to the parent
// through JSON lines on stdin/stdout (see link.ts). Echoes application data back.
import { createInterface } from 'node:readline';
import { hostCandidate } from '@natkit/ice-lite';
import { NatHost } from './host.ts';
import type { FromRemote, RemoteSessionReport, ToRemote } from './link.ts';
import { selectRuntime } from './select-runtime.ts';

const rt = await selectRuntime();
const say = (m: FromRemote): void => {
  process.stdout.write(`${JSON.stringify(m)}\n`);
};
/** Parent's session id (its ufrag) by our session id. */
const parentId = new Map<string, string>();
const echoed = new Map<string, number>();
const host = new NatHost({
  software: 'natkit demo remote',
  perUfragStats: true,
  onEvent: (e) => {
    if (e.type === 'session-state') say({ type: 'state', id: parentId.get(e.id) ?? e.id, state: e.state });
    if (e.type === 'mapped-address') say({ type: 'mapped', mapped: e.mapped, rtt: e.rtt });
    if (e.type === 'discovery-failed')
      say({ type: 'mapped', mapped: undefined, rtt: undefined, error: e.reason });
  },
  onData: (session, payload) => {
    echoed.set(session.id, (echoed.get(session.id) ?? 0) + 1);
    host.send(session, payload);
  },
});
const sock = await rt.bind(host.mux, '127.0.0.1', 0);
host.localAddress = sock.localAddress;
say({ type: 'ready', address: sock.localAddress.address, port: sock.localAddress.port, runtime: rt.name });

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  sock.update(() => {
    for (const s of [...host.sessions()]) host.closeSession(s.id, rt.now());
  });
  await sock.close();
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let msg: ToRemote;
  try {
    msg = JSON.parse(line) as ToRemote;
  } catch {
    say({ type: 'error', message: `bad line: ${line.slice(0, 80)}` });
    return;
  }
  switch (msg.type) {
    case 'offer': {
      const now = rt.now();
      const s = sock.update(() =>
        host.createSession(
          {
            mode: 'full',
            remote: { ufrag: msg.ufrag, pwd: msg.pwd },
            remoteCandidates: [hostCandidate({ ...msg.candidate, family: 'IPv4' })],
            ssrc: msg.ssrc,
          },
          now,
        ),
      );
      parentId.set(s.id, msg.id);
      say({ type: 'answer', id: msg.id, ufrag: s.local.ufrag, pwd: s.local.pwd });
      break;
    }
    case 'discover':
      sock.update(() => host.discover([{ ...msg.server, family: 'IPv4' }], rt.now()));
      break;
    case 'report': {
      const sessions: RemoteSessionReport[] = [];
      for (const s of host.sessions()) {
        const u = host.mux.ufragStats(s.local.ufrag);
        sessions.push({
          id: parentId.get(s.id) ?? s.id,
          state: s.state,
          checksSent: s.agent.stats.checksSent,
          retransmits: u?.retransmits ?? 0,
          rtt: u === undefined || u.rttSamples === 0 ? undefined : u.rttSum / u.rttSamples,
          connectMs: s.connectedAt === undefined ? undefined : s.connectedAt - s.createdAt,
          echoed: echoed.get(s.id) ?? 0,
        });
      }
      say({ type: 'report', sessions, mux: host.mux.stats });
      break;
    }
    case 'exit':
      void shutdown();
      break;
    default: {
      const never: never = msg;
      void never;
    }
  }
});
lines.on('close', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
