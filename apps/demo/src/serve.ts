// `pnpm demo serve`: one UDP socket answering STUN for anyone and hosting ICE-lite sessions
// that browsers create through a WHIP-style HTTP endpoint.
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { type Candidate, hostCandidate } from '@natkit/ice-lite';
import { WILDCARD_ADDRESSES } from '@natkit/io-core';
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
  /** Open sessions at most; `POST /ice` beyond it answers 503 with Retry-After. */
  maxSessions: number;
}

/** ≈ 1.8 KiB each on the server, reaped after 30 s when never connected: a few MiB at most. */
export const DEFAULT_MAX_SESSIONS = 1000;
/** Sessions that never connect are reaped after this long (checked every `REAP_EVERY_MS`). */
const REAP_AFTER_MS = 30_000;
const REAP_EVERY_MS = 5000;
const MAX_OFFER_BYTES = 64 * 1024;
/** How long a connection closed after a 413 may still send its body (read and discarded). */
const LINGER_MS = 2000;

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
  const o: ServeOptions = {
    host: '127.0.0.1',
    port: 3478,
    httpPort: 8080,
    stun: [],
    maxSessions: DEFAULT_MAX_SESSIONS,
  };
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
      case '--max-sessions': {
        const v = value();
        if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v)))
          throw new UsageError(`--max-sessions needs a positive integer, got ${v ?? 'nothing'}`);
        o.maxSessions = Number(v);
        break;
      }
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

type Interfaces = ReturnType<typeof networkInterfaces>;

const isWildcard = (a: SocketAddress): boolean => WILDCARD_ADDRESSES.has(a.address);

/**
 * The candidates an answer advertises, best first: the session's own host candidate for a
 * concrete bind; for a wildcard bind (`--host 0.0.0.0` / `::`) every interface address of the
 * socket's family instead (loopback included, last; IPv6 link-local left out, it needs a zone), since
 * nobody can send to 0.0.0.0 or ::; then the public address learnt over STUN, if new.
 * Never a wildcard address (loopback, if the interfaces list has nothing of our family).
 */
export function advertisedCandidates(
  session: Candidate,
  publicAddress: SocketAddress | undefined,
  interfaces: Interfaces = networkInterfaces(),
): Candidate[] {
  const local = session.address;
  const addresses: SocketAddress[] = [];
  if (isWildcard(local)) {
    // Reachable from elsewhere first (the first also gives the answer's c= line), loopback last.
    const all = Object.values(interfaces).flatMap((list) => list ?? []);
    for (const internal of [false, true]) {
      for (const i of all) {
        if (i.internal !== internal || i.family !== local.family || /^fe[89ab]/i.test(i.address)) continue;
        if (addresses.some((a) => a.address === i.address)) continue;
        addresses.push({ address: i.address, port: local.port, family: local.family });
      }
    }
    if (addresses.length === 0)
      addresses.push({
        address: local.family === 'IPv6' ? '::1' : '127.0.0.1',
        port: local.port,
        family: local.family,
      });
  } else {
    addresses.push(local);
  }
  if (
    publicAddress !== undefined &&
    !isWildcard(publicAddress) &&
    !addresses.some((a) => a.address === publicAddress.address)
  )
    addresses.push(publicAddress);
  return addresses.map((a, i) =>
    i === 0 && !isWildcard(local) ? session : hostCandidate(a, { localPreference: 65535 - i }),
  );
}

/**
 * The path of a request target (RFC 9112 §3.2): origin-form `/path?query`, or absolute-form
 * `http://host/path`. `undefined` for anything else (asterisk-form, authority-form, garbage),
 * which gets 400. `//stats` is a path (not a host), so it is no resource of ours.
 */
export function targetPath(target: string): string | undefined {
  if (target.startsWith('/')) {
    const end = target.search(/[?#]/);
    return end < 0 ? target : target.slice(0, end);
  }
  if (!/^https?:\/\//i.test(target)) return undefined;
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}

/** Methods each resource takes (RFC 9110 §15.5.6: a 405 lists them in `Allow`). */
function allowed(path: string): string | undefined {
  if (path === '/' || path === '/stats') return 'GET, HEAD';
  if (path === '/ice') return 'POST';
  if (SESSION_PATH.test(path)) return 'DELETE';
  return undefined;
}
const SESSION_PATH = /^\/ice\/([0-9a-f]{16})$/;

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
};
const text = (
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void => {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(`${body}\n`);
};

/**
 * The body, or `undefined` once it passes `limit` bytes (a declared Content-Length says so at
 * once). Past the limit nothing more is kept: the caller answers 413 and closes the connection.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        resolve(undefined);
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * 413 for a body past the limit, then drop the connection. `Connection: close` tells the client;
 * closing at once would make our kernel reset the connection over the body still arriving, and
 * the reset can destroy the answer before the client reads it (the client sees EPIPE or
 * ECONNRESET instead of 413). So: a lingering close (RFC 9112 §9.6): half-close our side once the
 * answer is out, read and discard what the client still sends, and close when it does or after
 * `LINGER_MS`, whichever comes first.
 */
function tooLarge(req: IncomingMessage, res: ServerResponse, message: string): void {
  const socket = req.socket;
  // node:http ends a `Connection: close` exchange with destroySoon(): linger instead.
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
  req.resume();
  text(res, 413, message, { Connection: 'close' });
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
    const path = targetPath(req.url ?? '');
    if (path === undefined) {
      text(res, 400, `malformed request target ${JSON.stringify(req.url)}`);
      return;
    }
    // HEAD is GET without the body (RFC 9110 §9.3.2); node leaves the body out by itself.
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (path === '/' && get) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    if (path === '/stats' && get) {
      json(res, 200, stats());
      return;
    }
    if (path === '/ice' && req.method === 'POST') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/sdp') {
        text(res, 415, `Content-Type must be application/sdp, got ${JSON.stringify(type)}`);
        return;
      }
      // Full: refuse before reading the offer (sessions that never connect go within 30–35 s).
      if (host.sessionCount >= options.maxSessions) {
        log(`POST /ice: 503, ${host.sessionCount} sessions open (--max-sessions ${options.maxSessions})`);
        req.resume();
        text(res, 503, `too many sessions (${options.maxSessions}); try again later`, {
          'Retry-After': String((REAP_AFTER_MS + REAP_EVERY_MS) / 1000),
        });
        return;
      }
      const body = await readBody(req, MAX_OFFER_BYTES);
      if (body === undefined) {
        tooLarge(req, res, `SDP offer larger than ${MAX_OFFER_BYTES / 1024} KiB`);
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
      const candidates = advertisedCandidates(s.candidate, host.publicAddress);
      const answer = buildAnswer(offer, { local: s.local, candidates, sessionVersion: version++ });
      log(
        `POST /ice: session ${id} (remote ufrag ${offer.remote.ufrag}, ${offer.candidates.length} candidates)`,
      );
      res.writeHead(201, { 'Content-Type': 'application/sdp', Location: `/ice/${id}` }).end(answer);
      return;
    }
    const m = SESSION_PATH.exec(path);
    if (m !== null && req.method === 'DELETE') {
      const closed = udp.update(() => host.closeSession(m[1]!, rt.now()));
      if (closed) log(`DELETE ${path}: session closed`);
      res.writeHead(closed ? 204 : 404).end();
      return;
    }
    const allow = allowed(path);
    if (allow !== undefined) {
      text(res, 405, `method ${req.method} not allowed on ${path}`, { Allow: allow });
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
        if ((s.state === 'new' || s.state === 'checking') && now - s.createdAt > REAP_AFTER_MS)
          host.closeSession(s.id, now);
      }
    });
  }, REAP_EVERY_MS);

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
