// `pnpm demo serve`: one UDP socket answering STUN for anyone and hosting ICE-lite sessions
// that browsers create through a WHIP-style HTTP endpoint.
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { type Candidate, hostCandidate } from '@natkit/ice-lite';
import type { SocketAddress } from '@natkit/sans-io';
import { type HostEvent, NatHost } from './host.ts';
import { PAGE } from './page.ts';
import type { BoundSocket, Runtime } from './runtime.ts';
import { buildAnswer, parseOffer } from './sdp.ts';
import { fmtAddr } from './term.ts';

export interface ServeOptions {
  host: string;
  port: number;
  httpPort: number;
  stun: { text: string; host: string; port: number }[];
}

export class UsageError extends Error {}

function parsePort(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !/^\d+$/.test(v) || n > 65535)
    throw new UsageError(`${flag} needs a port 0-65535, got ${v ?? 'nothing'}`);
  return n;
}

/** `host:port`, `[v6]:port`, or `host` (port 3478, RFC 8489 §18.7). */
export function parseHostPort(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const m = v6 ?? /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  if (m === null || m[1] === undefined || m[1] === '')
    throw new UsageError(`bad --stun address ${JSON.stringify(text)}: expected host:port`);
  const port = m[2] === undefined ? 3478 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`bad --stun address ${JSON.stringify(text)}: port out of range`);
  return { host: m[1], port };
}

export function parseServeArgs(args: readonly string[]): ServeOptions {
  const o: ServeOptions = { host: '127.0.0.1', port: 3478, httpPort: 8080, stun: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.includes('=')
      ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
      : [a, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    switch (flag) {
      case '--host': {
        const v = value();
        if (v === undefined || isIP(v) === 0)
          throw new UsageError(`--host needs an IP address, got ${v ?? 'nothing'}`);
        o.host = v;
        break;
      }
      case '--port':
        o.port = parsePort('--port', value());
        break;
      case '--http-port':
        o.httpPort = parsePort('--http-port', value());
        break;
      case '--stun': {
        const v = value();
        if (v === undefined) throw new UsageError('--stun needs host:port');
        o.stun.push({ text: v, ...parseHostPort(v) });
        break;
      }
      default:
        throw new UsageError(`unknown option ${JSON.stringify(a)}`);
    }
  }
  return o;
}

async function resolveStun(s: ServeOptions['stun'][number], family: 4 | 6): Promise<SocketAddress> {
  try {
    const r = await lookup(s.host, { family });
    return { address: r.address, port: s.port, family: family === 4 ? 'IPv4' : 'IPv6' };
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    throw new UsageError(`bad --stun address ${JSON.stringify(s.text)}: cannot resolve ${s.host} (${code})`);
  }
}

/** The addresses browsers can reach us at: ours, or every interface for a wildcard bind, plus the public one. */
function candidateAddresses(local: SocketAddress, publicAddress: SocketAddress | undefined): SocketAddress[] {
  const out: SocketAddress[] = [];
  if (local.address === '0.0.0.0' || local.address === '::') {
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) {
        if (i.family === local.family && !i.address.startsWith('fe80')) {
          out.push({ address: i.address, port: local.port, family: local.family });
        }
      }
    }
  } else {
    out.push(local);
  }
  if (publicAddress !== undefined && !out.some((a) => a.address === publicAddress.address))
    out.push(publicAddress);
  return out;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
};
const text = (res: ServerResponse, status: number, body: string): void => {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${body}\n`);
};

function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Runs until SIGINT/SIGTERM; returns the exit code. */
export async function runServe(rt: Runtime, args: readonly string[]): Promise<number> {
  let options: ServeOptions;
  let stunServers: SocketAddress[];
  try {
    options = parseServeArgs(args);
    const family = isIP(options.host) === 6 ? 6 : 4;
    stunServers = await Promise.all(options.stun.map((s) => resolveStun(s, family)));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`natkit serve: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const started = rt.now();
  const log = (line: string): void => console.log(`[${new Date().toISOString()}] ${line}`);
  let sock: BoundSocket | undefined;
  const onEvent = (e: HostEvent): void => {
    switch (e.type) {
      case 'mapped-address':
        log(
          `STUN ${fmtAddr(e.server)}: our public address is ${fmtAddr(e.mapped)} (rtt ${e.rtt.toFixed(1)} ms)`,
        );
        break;
      case 'discovery-failed':
        log(`STUN ${fmtAddr(e.server)}: discovery failed (${e.reason}); serving on the local address only`);
        break;
      case 'session-state':
        log(`session ${e.id}: ${e.state}`);
        // Sessions whose consent expired go away (after this event is delivered).
        if (e.state === 'failed') setImmediate(() => sock?.update(() => host.closeSession(e.id, rt.now())));
        break;
      case 'session-selected':
        log(`session ${e.id}: selected pair ${fmtAddr(e.local)} ⇄ ${fmtAddr(e.remote)}`);
        break;
      default: {
        const never: never = e;
        void never;
      }
    }
  };
  const host = new NatHost({ software: 'natkit demo serve', onEvent });
  try {
    sock = await rt.bind(host.mux, options.host, options.port);
  } catch (error) {
    const code = (error as { code?: string }).code;
    console.error(
      code === 'EADDRINUSE'
        ? `natkit serve: UDP port ${options.port} on ${options.host} is already in use (EADDRINUSE); pick another with --port`
        : `natkit serve: cannot bind UDP ${options.host}:${options.port}: ${code ?? String(error)}`,
    );
    return 1;
  }
  const udp = sock;
  host.localAddress = udp.localAddress;
  if (stunServers.length > 0) udp.update(() => host.discover(stunServers, rt.now()));

  let version = 1;
  const http = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      log(`HTTP ${req.method} ${req.url}: ${String(error)}`);
      if (!res.headersSent) text(res, 500, 'internal error');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path === '/' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    if (path === '/stats' && req.method === 'GET') {
      json(res, 200, stats());
      return;
    }
    if (path === '/ice' && req.method === 'POST') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/sdp') {
        text(res, 415, `Content-Type must be application/sdp, got ${JSON.stringify(type)}`);
        return;
      }
      const body = await readBody(req, 64 * 1024);
      if (body === undefined) {
        text(res, 413, 'SDP offer larger than 64 KiB');
        return;
      }
      const parsed = parseOffer(body);
      if (!parsed.ok) {
        log(`POST /ice: 400 ${parsed.reason}`);
        text(res, 400, `malformed offer: ${parsed.reason}`);
        return;
      }
      const offer = parsed.offer;
      const id = randomBytes(8).toString('hex');
      const s = udp.update(() =>
        host.createSession(
          {
            mode: 'lite',
            id,
            remote: offer.remote,
            remoteCandidates: offer.candidates.filter((c) => c.address.family === udp.localAddress.family),
          },
          rt.now(),
        ),
      );
      const candidates: Candidate[] = candidateAddresses(udp.localAddress, host.publicAddress).map((a, i) =>
        i === 0 ? s.candidate : hostCandidate(a, { localPreference: 65535 - i }),
      );
      const answer = buildAnswer(offer, { local: s.local, candidates, sessionVersion: version++ });
      log(
        `POST /ice: session ${id} (remote ufrag ${offer.remote.ufrag}, ${offer.candidates.length} candidates)`,
      );
      res.writeHead(201, { 'Content-Type': 'application/sdp', Location: `/ice/${id}` }).end(answer);
      return;
    }
    const m = /^\/ice\/([0-9a-f]{16})$/.exec(path);
    if (m !== null && req.method === 'DELETE') {
      const closed = udp.update(() => host.closeSession(m[1]!, rt.now()));
      if (closed) log(`DELETE ${path}: session closed`);
      res.writeHead(closed ? 204 : 404).end();
      return;
    }
    if (path === '/' || path === '/stats' || path === '/ice' || m !== null) {
      text(res, 405, `method ${req.method} not allowed on ${path}`);
      return;
    }
    text(res, 404, `no such resource ${path}`);
  }

  function stats(): unknown {
    const now = rt.now();
    const sessions = [...host.sessions()].map((s) => ({
      id: s.id,
      state: s.state,
      remoteUfrag: s.remote?.ufrag,
      selected: s.selected && { local: fmtAddr(s.selected.local), remote: fmtAddr(s.selected.remote) },
      checksAnswered: 'checksAnswered' in s.agent.stats ? s.agent.stats.checksAnswered : 0,
      dataIn: s.data?.datagramsIn ?? 0,
      ageMs: Math.round(now - s.createdAt),
      connectMs: s.connectedAt === undefined ? undefined : Math.round(s.connectedAt - s.createdAt),
    }));
    return {
      uptimeMs: Math.round(now - started),
      socket: fmtAddr(udp.localAddress),
      publicAddress: host.publicAddress && fmtAddr(host.publicAddress),
      datagrams: udp.counters,
      sessionsOpen: host.sessionCount,
      sessionsConnected: sessions.filter((s) => s.state === 'connected').length,
      sessionsClosed: host.closedSessions,
      stunServer: host.server.machine.stats,
      router: host.router.machine.stats,
      mux: host.mux.stats,
      sessions,
    };
  }

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.httpPort, options.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    console.error(
      code === 'EADDRINUSE'
        ? `natkit serve: HTTP port ${options.httpPort} on ${options.host} is already in use (EADDRINUSE); pick another with --http-port`
        : `natkit serve: cannot listen on HTTP ${options.host}:${options.httpPort}: ${code ?? String(error)}`,
    );
    await udp.close();
    return 1;
  }
  const httpAddr = http.address();
  const httpPort = typeof httpAddr === 'object' && httpAddr !== null ? httpAddr.port : options.httpPort;
  log(`UDP ${fmtAddr(udp.localAddress)}: STUN Binding for anyone + ICE-lite sessions (one socket)`);
  log(
    `HTTP http://${fmtAddr({ address: options.host, port: httpPort })}/  (POST /ice, DELETE /ice/:id, GET /stats)`,
  );

  // Sessions a browser never completed (or abandoned) are reaped.
  const reaper = setInterval(() => {
    const now = rt.now();
    udp.update(() => {
      for (const s of [...host.sessions()]) {
        if ((s.state === 'new' || s.state === 'checking') && now - s.createdAt > 30_000)
          host.closeSession(s.id, now);
      }
    });
  }, 5000);

  const signal = await rt.waitForSignal();
  clearInterval(reaper);
  const open = host.sessionCount;
  udp.update(() => {
    for (const s of [...host.sessions()]) host.closeSession(s.id, rt.now());
  });
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
  await udp.close();
  log(`${signal}: closed ${open} sessions, the HTTP server and the UDP socket; bye`);
  return 0;
}
