// `pnpm demo serve` as a real process: HTTP endpoints, STUN for anyone, an ICE session from a
// natkit controlling agent over real UDP, errors, and a clean exit on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import type { NetworkInterfaceInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { generateCredentials, hostCandidate, parseIceDescription } from '@natkit/ice-lite';
import { bindUdp } from '@natkit/io-node';
import { StunClient, type StunClientEvent, StunServer } from '@natkit/stun-agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatHost } from '../src/host.ts';
import { buildAnswer, parseOffer } from '../src/sdp.ts';
import {
  advertisedCandidates,
  DEFAULT_MAX_SESSIONS,
  parseHostPort,
  parseServeArgs,
  targetPath,
} from '../src/serve.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;

const MINIMAL_OFFER = (ufrag: string, pwd: string): string =>
  ['m=application 9 UDP/DTLS/SCTP webrtc-datachannel', `a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`, ''].join(
    '\r\n',
  );

describe('offer/answer', () => {
  it('accepts an offer with only ICE lines and a data m-line, and answers as ice-lite on our candidate', () => {
    const r = parseOffer(MINIMAL_OFFER('abcd', 'abcdefghijklmnopqrstuv'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const host = new NatHost({ localAddress: { address: '127.0.0.1', port: 3478, family: 'IPv4' } });
    const s = host.createSession({ mode: 'lite', remote: r.offer.remote }, 0);
    const answer = buildAnswer(r.offer, { local: s.local, candidates: [s.candidate], sessionVersion: 1 });
    const d = parseIceDescription(answer);
    expect(d.lite).toBe(true);
    expect(d.ufrag).toBe(s.local.ufrag);
    expect(d.pwd).toBe(s.local.pwd);
    expect(d.candidates.map((c) => `${c.address.address}:${c.address.port}`)).toEqual(['127.0.0.1:3478']);
    expect(answer).toMatch(/^m=application 3478 UDP\/DTLS\/SCTP webrtc-datachannel$/m);
    expect(answer).toMatch(/^a=setup:passive$/m);
  });

  it('rejects media sections other than the data one, and keeps them out of BUNDLE', () => {
    const offer = [
      'v=0',
      'a=group:BUNDLE 0 1',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=mid:0',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'a=mid:1',
      'a=ice-ufrag:abcd',
      'a=ice-pwd:abcdefghijklmnopqrstuv',
    ].join('\r\n');
    const r = parseOffer(offer);
    if (!r.ok) throw new Error(r.reason);
    const creds = generateCredentials((b) => b.fill(1));
    const host = new NatHost({ localAddress: { address: '127.0.0.1', port: 9999, family: 'IPv4' } });
    const s = host.createSession({ mode: 'lite', local: creds }, 0);
    const answer = buildAnswer(r.offer, { local: creds, candidates: [s.candidate], sessionVersion: 1 });
    expect(answer).toMatch(/^a=group:BUNDLE 1$/m);
    expect(answer).toMatch(/^m=audio 0 /m);
    expect(answer).toMatch(/^m=application 9999 /m);
  });

  it.each([
    ['', 'empty body'],
    ['hello world', 'not SDP'],
    [
      'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-pwd:abcdefghijklmnopqrstuv',
      'no a=ice-ufrag',
    ],
    ['v=0\r\na=ice-ufrag:abcd', 'no a=ice-pwd'],
    ['a=ice-ufrag:ab\r\na=ice-pwd:abcdefghijklmnopqrstuv', 'ice-ufrag'],
    ['a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\nm=audio 9 RTP/AVP 0', 'no m=application'],
  ])('refuses %j with a reason', (sdp, reason) => {
    const r = parseOffer(sdp);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

describe('advertised candidates', () => {
  const nic = (address: string, family: 'IPv4' | 'IPv6', internal: boolean): NetworkInterfaceInfo =>
    ({ address, family, internal, netmask: '', mac: '', cidr: null }) as NetworkInterfaceInfo;
  const interfaces = {
    lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
    eth0: [nic('192.0.2.2', 'IPv4', false), nic('2001:db8::2', 'IPv6', false), nic('fe80::1', 'IPv6', false)],
  };
  const at = (address: string, family: 'IPv4' | 'IPv6' = 'IPv4') => ({ address, port: 3478, family });
  const addrs = (cs: { address: { address: string } }[]) => cs.map((c) => c.address.address);

  it('advertises the interface addresses for a wildcard bind, never 0.0.0.0 or ::', () => {
    const v4 = advertisedCandidates(hostCandidate(at('0.0.0.0')), at('203.0.113.9'), interfaces);
    expect(addrs(v4)).toEqual(['192.0.2.2', '127.0.0.1', '203.0.113.9']);
    expect(v4[0]!.priority).toBeGreaterThan(v4[1]!.priority);
    const v6 = advertisedCandidates(hostCandidate(at('::', 'IPv6')), undefined, interfaces);
    expect(addrs(v6)).toEqual(['2001:db8::2', '::1']);
    expect(addrs(advertisedCandidates(hostCandidate(at('0.0.0.0')), undefined, {}))).toEqual(['127.0.0.1']);
    // And the answer's o= and c= lines follow the first candidate.
    const r = parseOffer(MINIMAL_OFFER('abcd', 'abcdefghijklmnopqrstuv'));
    if (!r.ok) throw new Error(r.reason);
    const creds = generateCredentials((b) => b.fill(1));
    const answer = buildAnswer(r.offer, { local: creds, candidates: v4, sessionVersion: 1 });
    expect(answer).not.toMatch(/0\.0\.0\.0/);
    expect(answer).toMatch(/^c=IN IP4 192\.0\.2\.2$/m);
  });

  it("keeps a concrete bind's own session candidate first", () => {
    const own = hostCandidate(at('127.0.0.1'));
    expect(advertisedCandidates(own, at('203.0.113.9'), interfaces)[0]).toBe(own);
    expect(addrs(advertisedCandidates(own, at('127.0.0.1'), interfaces))).toEqual(['127.0.0.1']);
  });
});

describe('request targets', () => {
  it.each([
    ['/', '/'],
    ['/stats?x=1', '/stats'],
    ['//stats', '//stats'],
    ['http://example.com/stats', '/stats'],
    ['http://[zz/', undefined],
    ['*', undefined],
    ['example.com:80', undefined],
  ])('%j has path %j', (target, path) => {
    expect(targetPath(target)).toBe(path);
  });
});

describe('serve arguments', () => {
  it('parses flags, repeated --stun and host:port forms', () => {
    const o = parseServeArgs([
      '--host',
      '0.0.0.0',
      '--port=5000',
      '--http-port',
      '0',
      '--stun',
      'a.example',
      '--stun',
      '[::1]:19302',
    ]);
    expect(o).toMatchObject({ host: '0.0.0.0', port: 5000, httpPort: 0 });
    expect(o.stun.map((s) => [s.host, s.port])).toEqual([
      ['a.example', 3478],
      ['::1', 19302],
    ]);
    expect(parseHostPort('stun.cloudflare.com:3478')).toEqual({ host: 'stun.cloudflare.com', port: 3478 });
    expect(o.maxSessions).toBe(DEFAULT_MAX_SESSIONS);
    expect(parseServeArgs(['--max-sessions', '24']).maxSessions).toBe(24);
  });

  it.each([
    [['--port', 'x'], '--port'],
    [['--stun', 'a:b:c'], 'bad --stun'],
    [['--stun', 'host:0'], 'bad --stun'],
    [['--host', 'localhost'], '--host'],
    [['--frobnicate'], 'unknown option'],
    [['--max-sessions', '0'], '--max-sessions'],
    [['--max-sessions=x'], '--max-sessions'],
  ])('rejects %j', (args, message) => {
    expect(() => parseServeArgs(args)).toThrow(message);
  });
});

const MAX_SESSIONS = 4;

/** One HTTP request with node:http (fetch would normalise the target and refuse some bodies). */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: { size: number; chunked: boolean },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined && !body.chunked) h['Content-Length'] = String(body.size);
    const req = request({ host: u.hostname, port: u.port, method, path, headers: h }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined) {
      req.end();
      return;
    }
    const chunk = Buffer.alloc(16 * 1024, 'a');
    let sent = 0;
    const pump = (): void => {
      while (sent < body.size) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('pnpm demo serve (a real process)', () => {
  let child: ChildProcess;
  let out = '';
  let base = '';
  let udpPort = 0;
  // A natkit STUN server of our own on loopback, for --stun.
  let stunDriver: Awaited<ReturnType<typeof bindUdp<StunServer>>>;

  beforeAll(async () => {
    stunDriver = await bindUdp(new StunServer(), { address: '127.0.0.1' });
    const stun = `127.0.0.1:${stunDriver.localAddress!.port}`;
    child = spawn(
      tsx,
      [
        '--conditions=source',
        cli,
        'serve',
        '--port',
        '0',
        '--http-port',
        '0',
        '--stun',
        stun,
        '--max-sessions',
        String(MAX_SESSIONS),
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const started = Date.now();
    while (!/HTTP http:\/\/\S+\//.test(out)) {
      if (Date.now() - started > 30_000 || child.exitCode !== null)
        throw new Error(`serve did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    base = /HTTP (http:\/\/\S+)\//.exec(out)![1]!;
    udpPort = Number(/UDP 127\.0\.0\.1:(\d+)/.exec(out)![1]);
  }, 40_000);

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await stunDriver.close();
  });

  it('discovers its public address through --stun', async () => {
    let stats: { publicAddress?: string } = {};
    for (let i = 0; i < 50 && stats.publicAddress === undefined; i++) {
      stats = await (await fetch(`${base}/stats`)).json();
      if (stats.publicAddress === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(stats.publicAddress).toBe(`127.0.0.1:${udpPort}`);
    expect(out).toMatch(/our public address is 127\.0\.0\.1:\d+/);
  });

  it('answers STUN Binding requests from anyone on the one UDP port', async () => {
    const client = new StunClient();
    const events: StunClientEvent[] = [];
    const driver = await bindUdp(client, {
      address: '127.0.0.1',
      onEvent: (e) => {
        if (e.type === 'machine') events.push(e.event);
      },
    });
    try {
      driver.update((c) =>
        c.request({ address: '127.0.0.1', port: udpPort, family: 'IPv4' }, performance.now()),
      );
      const e = await driver.waitFor((x) => x.type === 'machine');
      expect(e.type === 'machine' && e.event.type).toBe('success');
      const ok = events[0];
      expect(ok?.type === 'success' && ok.mappedAddress).toEqual(driver.localAddress);
    } finally {
      await driver.close();
    }
  });

  it('connects an ICE session offered over HTTP, shows it in /stats, and ends it with DELETE', async () => {
    const states: string[] = [];
    const peer = new NatHost({ onEvent: (e) => e.type === 'session-state' && states.push(e.state) });
    const sock = await bindUdp(peer.mux, { address: '127.0.0.1' });
    peer.localAddress = sock.localAddress!;
    try {
      const creds = generateCredentials();
      const offer = [
        'v=0',
        'o=- 1 1 IN IP4 127.0.0.1',
        's=-',
        't=0 0',
        ...MINIMAL_OFFER(creds.ufrag, creds.pwd).trim().split('\r\n'),
        `a=candidate:1 1 UDP 2130706431 127.0.0.1 ${sock.localAddress!.port} typ host`,
      ].join('\r\n');
      const res = await fetch(`${base}/ice`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: `${offer}\r\n`,
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toBe('application/sdp');
      const location = res.headers.get('location')!;
      expect(location).toMatch(/^\/ice\/[0-9a-f]{16}$/);
      const answer = parseIceDescription(await res.text());
      expect(answer.lite).toBe(true);
      const candidate = answer.candidates[0]!;
      expect(candidate.address.port).toBe(udpPort);
      sock.update(() =>
        peer.createSession(
          {
            mode: 'full',
            local: creds,
            remote: { ufrag: answer.ufrag!, pwd: answer.pwd! },
            remoteCandidates: [candidate],
          },
          performance.now(),
        ),
      );
      for (let i = 0; i < 100 && !states.includes('connected'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(states).toContain('connected');

      const id = location.split('/').pop();
      let stats = (await (await fetch(`${base}/stats`)).json()) as {
        sessions: { id: string; state: string; checksAnswered: number }[];
        mux: { routed: Record<string, number> };
      };
      const mine = stats.sessions.find((s) => s.id === id);
      expect(mine?.state).toBe('connected');
      expect(mine?.checksAnswered).toBeGreaterThanOrEqual(2);
      expect(stats.mux.routed.ice).toBeGreaterThanOrEqual(2);

      expect((await fetch(`${base}${location}`, { method: 'DELETE' })).status).toBe(204);
      expect((await fetch(`${base}${location}`, { method: 'DELETE' })).status).toBe(404);
      stats = await (await fetch(`${base}/stats`)).json();
      expect(stats.sessions.find((s) => s.id === id)).toBeUndefined();
    } finally {
      await sock.close();
    }
  });

  it('answers a malformed offer with 400 and a reason, and keeps serving', async () => {
    const bad = await fetch(`${base}/ice`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('no a=ice-ufrag');
    expect((await fetch(`${base}/ice`, { method: 'POST', body: 'x' })).status).toBe(415);
    expect((await fetch(`${base}/ice`)).status).toBe(405);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('RTCPeerConnection');
  });

  it('answers an offer past 64 KiB with 413 and Connection: close, with or without Content-Length', async () => {
    const sdp = { 'Content-Type': 'application/sdp' };
    for (const body of [
      { size: 100 * 1024, chunked: false },
      { size: 100 * 1024, chunked: true },
      { size: 4 * 1024 * 1024, chunked: true },
    ]) {
      const r = await raw(base, 'POST', '/ice', sdp, body);
      expect(r.status).toBe(413);
      expect(r.headers.connection).toBe('close');
      expect(r.text).toContain('larger than 64 KiB');
    }
    expect((await fetch(`${base}/stats`)).status).toBe(200);
  });

  it('answers 400 to a malformed target, 404 to //stats, Allow with every 405, and HEAD like GET', async () => {
    const bad = await raw(base, 'GET', 'http://[zz/');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('malformed request target');
    const slashes = await raw(base, 'GET', '//stats');
    expect(slashes.status).toBe(404);
    expect((await raw(base, 'GET', `${base}/stats`)).status).toBe(200);
    for (const [method, path, allow] of [
      ['GET', '/ice', 'POST'],
      ['PUT', '/', 'GET, HEAD'],
      ['POST', '/stats', 'GET, HEAD'],
      ['GET', '/ice/0123456789abcdef', 'DELETE'],
    ] as const) {
      const r = await raw(base, method, path);
      expect([method, path, r.status, r.headers.allow]).toEqual([method, path, 405, allow]);
    }
    const head = await raw(base, 'HEAD', '/');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it(`refuses sessions past --max-sessions ${MAX_SESSIONS} with 503 and Retry-After`, async () => {
    const post = (i: number) =>
      fetch(`${base}/ice`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: MINIMAL_OFFER(`cap${i}`, 'abcdefghijklmnopqrstuv'),
      });
    const open = ((await (await fetch(`${base}/stats`)).json()) as { sessionsOpen: number }).sessionsOpen;
    const created: string[] = [];
    for (let i = open; i < MAX_SESSIONS; i++) {
      const r = await post(i);
      expect(r.status).toBe(201);
      created.push(r.headers.get('location')!);
    }
    const full = await post(99);
    expect(full.status).toBe(503);
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
    // One closed makes room for one.
    expect((await fetch(`${base}${created.pop()}`, { method: 'DELETE' })).status).toBe(204);
    const again = await post(100);
    expect(again.status).toBe(201);
    created.push(again.headers.get('location')!);
    expect((await post(101)).status).toBe(503);
    for (const l of created) expect((await fetch(`${base}${l}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('exits 0 on SIGTERM after closing sessions and the socket', async () => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/SIGTERM: closed \d+ sessions/);
    // The UDP port is free again.
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(udpPort, '127.0.0.1', () => resolve());
    });
    s.close();
  }, 15_000);
});
