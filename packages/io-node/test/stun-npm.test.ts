// Interop with a second, independent STUN implementation: the npm package `stun` 2.1.0
// (nodertc/stun, RFC 5389), both as a client (`stun.request`) against our StunServer and as a
// server (`stun.createServer`) answering our StunClient, over real UDP on 127.0.0.1.
//
// Where `stun` 2.1.0 deviates from the RFCs (worked around here, in the test only):
//  1. ERROR-CODE is decoded as Class × (Number + 100) (attributes/stun-error-code-attribute.js)
//     instead of Class × 100 + Number (RFC 8489 §14.8): a 401 reads as 404, a 420 as 480; only
//     codes that are multiples of 100 (400, 500) come out right. Its encoder is correct.
//  2. Its validators hash a re-encoding of the decoded message, not the received bytes, so
//     (a) they reject messages with non-zero padding (natkit pads with zeros, so this never
//     bites here) and (b) after 1., an error response with any other code than x00 re-encodes
//     differently and `validateFingerprint` rejects a correct FINGERPRINT. Error responses
//     are therefore also checked from the raw datagram with our codec.
//  3. The Binding handler in its CLI (src/cli.js) and its server example answers with
//     `createMessage(STUN_BINDING_RESPONSE)`, i.e. a fresh random transaction ID, where
//     "Success and error responses MUST carry the same transaction ID as their corresponding
//     request" (RFC 8489 §5). No client can match that answer, its own `stun.request` included.
//     The handlers below pass `request.transactionId`; one test runs the handler verbatim.
//  4. `stun.createServer` only decodes and emits events: it does no authentication and sends
//     nothing by itself. The "npm server" here is `stun.createServer` plus a handler written
//     with `stun`'s own message API, like its CLI's.
import { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import type { SocketAddress } from '@natkit/sans-io';
import {
  StunClient,
  type StunClientEvent,
  type StunClientOptions,
  StunServer,
  type StunServerOptions,
} from '@natkit/stun-agent';
import { AttrType, decode, type StunMessage, verifyFingerprint } from '@natkit/stun-codec';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bindUdp, type DriverEvent, type UdpDriver } from '../src/index.ts';
import { publicAddress } from '../src/stun.ts';
import { RecordingMachine } from './recording.ts';

// ------------------------------------------------------------- `stun` (CommonJS, no types)

interface NpmAddress {
  address: string;
  port: number;
  family: string;
}
interface NpmAttribute {
  readonly type: number;
  readonly value: unknown;
}
/** `StunMessage` / `StunResponse`: what `stun` decodes. */
interface NpmMessage extends Iterable<NpmAttribute> {
  readonly type: number;
  readonly transactionId: Buffer;
  hasAttribute(type: number): boolean;
  getAttribute(type: number): NpmAttribute | undefined;
  getXorAddress(): NpmAddress | undefined;
  getAddress(): NpmAddress | undefined;
  getError(): { code: number; reason: string } | undefined;
  getSoftware(): string | undefined;
  getUsername(): string | undefined;
}
/** `StunRequest`: what `stun` builds (requests and responses alike). */
interface NpmOutgoing {
  readonly transactionId: Buffer;
  addUsername(username: string): unknown;
  addSoftware(software: string): unknown;
  addXorAddress(address: string, port: number): unknown;
  addAddress(address: string, port: number): unknown;
  addError(code: number, reason?: string): unknown;
  addMessageIntegrity(key: string): boolean;
  addFingerprint(): boolean;
  addPriority(priority: number): unknown;
  addUseCandidate(): unknown;
  addIceControlling(tiebreaker: Buffer): unknown;
  toBuffer(): Buffer;
}
interface NpmServer {
  on(event: string, listener: (...args: never[]) => void): NpmServer;
  send(message: NpmOutgoing, port: number, address: string): boolean;
  close(): void;
}
interface StunModule {
  createMessage(type: number, transactionId?: Buffer): NpmOutgoing;
  createServer(options: { type: 'udp4'; socket: dgram.Socket }): NpmServer;
  request(
    url: string,
    options: { socket: dgram.Socket; message?: NpmOutgoing; timeout?: number; retries?: number },
  ): Promise<NpmMessage>;
  decode(bytes: Buffer): NpmMessage;
  validateFingerprint(message: NpmMessage): boolean;
  validateMessageIntegrity(message: NpmMessage, key: string): boolean;
  StunResponseError: abstract new (...args: never[]) => Error & { packet: NpmMessage };
  constants: {
    STUN_BINDING_REQUEST: number;
    STUN_BINDING_RESPONSE: number;
    STUN_BINDING_ERROR_RESPONSE: number;
    STUN_EVENT_BINDING_REQUEST: string;
    STUN_ATTR_MAPPED_ADDRESS: number;
    STUN_ATTR_XOR_MAPPED_ADDRESS: number;
    STUN_ATTR_USERNAME: number;
    STUN_ATTR_MESSAGE_INTEGRITY: number;
    STUN_ATTR_FINGERPRINT: number;
    STUN_ATTR_SOFTWARE: number;
  };
}

const require = createRequire(import.meta.url);
const stun = require('stun') as StunModule;
const C = stun.constants;
const STUN_VERSION = (require('stun/package.json') as { version: string }).version;

const USER = 'npmufrag:natkitufrag';
const PASS = 'short-term-password-of-the-test';
const LOCALHOST = '127.0.0.1';

// ------------------------------------------------------------------------------ helpers

const closeSocket = (s: dgram.Socket) => new Promise<void>((resolve) => s.close(() => resolve()));

/** A UDP socket on 127.0.0.1 for `stun.request`, remembering every datagram it receives. */
async function npmClientSocket(): Promise<{ socket: dgram.Socket; local: NpmAddress; received: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, LOCALHOST, () => resolve()));
  const { address, port } = socket.address();
  return { socket, local: { address, port, family: 'IPv4' }, received };
}

/**
 * `stun.request` with a retransmission schedule that gives up (sends at 0, 0.25, 0.75, 1.75 and
 * 3.75 s, error at 7.75 s) well inside vitest's 20 s test timeout; its default runs past a minute.
 */
const npmRequest = (url: string, socket: dgram.Socket, message?: NpmOutgoing): Promise<NpmMessage> =>
  stun.request(url, { socket, timeout: 250, retries: 4, ...(message === undefined ? {} : { message }) });

/** The raw datagram (as our codec reads it) of the answer to `transactionId`. */
function rawAnswer(received: readonly Buffer[], transactionId: Buffer): StunMessage {
  for (const bytes of received) {
    const r = decode(new Uint8Array(bytes));
    if (r.ok && Buffer.compare(Buffer.from(r.message.transactionId), transactionId) === 0) return r.message;
  }
  throw new Error(`no answer with transaction ID ${transactionId.toString('hex')}`);
}

type BindingHandler = (request: NpmMessage, from: dgram.RemoteInfo, server: NpmServer) => void;

interface NpmStunServer {
  address: SocketAddress;
  /** Every Binding request the server decoded, in order. */
  requests: NpmMessage[];
  /** What `stun`'s server emitted as 'error' (undecodable input, error responses). */
  errors: Error[];
  close(): Promise<void>;
}

/** `stun.createServer` on 127.0.0.1 with `handler` answering Binding requests. */
async function startNpmServer(handler: BindingHandler): Promise<NpmStunServer> {
  const socket = dgram.createSocket('udp4');
  const server = stun.createServer({ type: 'udp4', socket });
  const requests: NpmMessage[] = [];
  const errors: Error[] = [];
  server.on(C.STUN_EVENT_BINDING_REQUEST, (request: NpmMessage, from: dgram.RemoteInfo) => {
    requests.push(request);
    handler(request, from, server);
  });
  // An EventEmitter 'error' without a listener throws out of the socket's message handler.
  server.on('error', (e: Error) => errors.push(e));
  await new Promise<void>((resolve) => socket.bind(0, LOCALHOST, () => resolve()));
  return {
    address: { address: LOCALHOST, port: socket.address().port, family: 'IPv4' },
    requests,
    errors,
    async close() {
      server.close(); // detaches from a socket it was handed; the socket is ours to close
      await closeSocket(socket);
    },
  };
}

/**
 * The Binding success that the handler in `stun`'s CLI builds, but with the request's
 * transaction ID (deviation 3 above), plus whatever `extra` adds before it is sent.
 */
const answerLikeTheCli =
  (extra: (response: NpmOutgoing, from: dgram.RemoteInfo) => void = () => {}): BindingHandler =>
  (request, from, server) => {
    const response = stun.createMessage(C.STUN_BINDING_RESPONSE, request.transactionId);
    response.addXorAddress(from.address, from.port);
    response.addSoftware(`node/${process.version} stun/v${STUN_VERSION}`);
    extra(response, from);
    server.send(response, from.port, from.address);
  };

type MachineEvent = Extract<DriverEvent<StunClientEvent>, { type: 'machine' }>;

/** One Binding request from a fresh StunClient on 127.0.0.1; resolves with its one event. */
async function ask(
  server: SocketAddress,
  clientOptions: StunClientOptions = {},
): Promise<{ event: StunClientEvent; driver: UdpDriver<StunClient> }> {
  const driver = await bindUdp(new StunClient({ rto: 200, ...clientOptions }), { address: LOCALHOST });
  try {
    const done = driver.waitFor((e): e is MachineEvent => e.type === 'machine');
    driver.update((c) => c.request(server, driver.now()));
    return { event: (await done).event, driver };
  } finally {
    await driver.close();
  }
}

/**
 * Client options that end a transaction nobody answers acceptably after 3 sends (at 0, 0.2 and
 * 0.6 s) and a final wait of 1.6 s, so even a slow first answer arrives before the end.
 */
const QUICK_FAILURE = { rto: 200, rc: 3, rm: 8 } as const satisfies StunClientOptions;

function success(event: StunClientEvent): Extract<StunClientEvent, { type: 'success' }> {
  if (event.type !== 'success') throw new Error(`expected a success, got ${JSON.stringify(event)}`);
  return event;
}

// ------------------------------------------------------------------------------- tests

describe('npm stun.request (client) against our StunServer on io-node', () => {
  let plain: UdpDriver<RecordingMachine<never, StunServer>>;
  let client: Awaited<ReturnType<typeof npmClientSocket>>;
  const url = (d: UdpDriver<RecordingMachine<never, StunServer>>) => `${LOCALHOST}:${d.localAddress?.port}`;
  beforeAll(async () => {
    plain = await bindUdp(new RecordingMachine(new StunServer({ software: 'natkit interop' })), {
      address: LOCALHOST,
    });
  });
  afterAll(async () => {
    await plain?.close();
  });
  beforeEach(async () => {
    client = await npmClientSocket();
  });
  afterEach(async () => {
    await closeSocket(client.socket);
  });

  it('a bare Binding request gets XOR-MAPPED-ADDRESS = the client socket address', async () => {
    const res = await npmRequest(url(plain), client.socket);
    expect(res.type).toBe(C.STUN_BINDING_RESPONSE);
    expect(res.getXorAddress()).toEqual(client.local);
    expect(plain.machine.inputs.at(-1)).toEqual(client.local);
    // Not an RFC 3489 request: no MAPPED-ADDRESS; no FINGERPRINT unless the request had one.
    expect(res.hasAttribute(C.STUN_ATTR_MAPPED_ADDRESS)).toBe(false);
    expect(res.hasAttribute(C.STUN_ATTR_FINGERPRINT)).toBe(false);
    // A 20-byte request leaves no room for SOFTWARE under the no-amplification budget.
    expect(res.getSoftware()).toBeUndefined();
  });

  it('with FINGERPRINT added by stun: our answer carries one and stun.validateFingerprint accepts it', async () => {
    const message = stun.createMessage(C.STUN_BINDING_REQUEST);
    message.addFingerprint();
    const res = await npmRequest(url(plain), client.socket, message);
    expect(res.transactionId.equals(message.transactionId)).toBe(true);
    expect(res.getXorAddress()).toEqual(client.local);
    expect(res.hasAttribute(C.STUN_ATTR_FINGERPRINT)).toBe(true);
    expect(stun.validateFingerprint(res)).toBe(true);
    expect(plain.machine.inner.stats['bad-fingerprint']).toBe(0);
  });

  it("with mappedAddress: 'always', stun reads the same address from MAPPED- and XOR-MAPPED-ADDRESS", async () => {
    const both = await bindUdp(new StunServer({ mappedAddress: 'always', fingerprint: true }), {
      address: LOCALHOST,
    });
    try {
      const res = await npmRequest(`${LOCALHOST}:${both.localAddress?.port}`, client.socket);
      expect(res.getXorAddress()).toEqual(client.local);
      expect(res.getAddress()).toEqual(client.local);
      expect(stun.validateFingerprint(res)).toBe(true);
    } finally {
      await both.close();
    }
  });

  it('a request big enough to pay for it gets our SOFTWARE, which stun reads', async () => {
    const message = stun.createMessage(C.STUN_BINDING_REQUEST);
    message.addSoftware(`stun ${STUN_VERSION} (npm), natkit interop test`);
    message.addFingerprint();
    const res = await npmRequest(url(plain), client.socket, message);
    expect(res.getSoftware()).toBe('natkit interop');
    expect(res.getXorAddress()).toEqual(client.local);
    expect(stun.validateFingerprint(res)).toBe(true);
  });
});

describe('short-term credentials: npm stun.request against our StunServer', () => {
  let server: UdpDriver<StunServer>;
  let client: Awaited<ReturnType<typeof npmClientSocket>>;
  const url = () => `${LOCALHOST}:${server.localAddress?.port}`;
  beforeAll(async () => {
    const options: StunServerOptions = {
      auth: { type: 'short-term', password: (u) => (u === USER ? PASS : undefined) },
    };
    server = await bindUdp(new StunServer(options), { address: LOCALHOST });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    client = await npmClientSocket();
  });
  afterEach(async () => {
    await closeSocket(client.socket);
  });

  /** USERNAME + MESSAGE-INTEGRITY (keyed with `password`) [+ FINGERPRINT], built by `stun`. */
  const request = (password: string | undefined, fingerprint: boolean, username = USER) => {
    const m = stun.createMessage(C.STUN_BINDING_REQUEST);
    m.addUsername(username);
    if (password !== undefined) m.addMessageIntegrity(password);
    if (fingerprint) m.addFingerprint();
    return m;
  };

  it.each([
    ['with FINGERPRINT', true],
    ['without FINGERPRINT', false],
  ])('%s: our server verifies stun’s MI and answers with MI that stun verifies', async (_, fp) => {
    const before = server.machine.stats.success;
    const message = request(PASS, fp);
    const res = await npmRequest(url(), client.socket, message);
    expect(server.machine.stats.success).toBe(before + 1);
    expect(res.type).toBe(C.STUN_BINDING_RESPONSE);
    expect(res.getXorAddress()).toEqual(client.local);
    expect(res.hasAttribute(C.STUN_ATTR_MESSAGE_INTEGRITY)).toBe(true);
    expect(stun.validateMessageIntegrity(res, PASS)).toBe(true);
    expect(stun.validateMessageIntegrity(res, `${PASS}x`)).toBe(false);
    expect(res.hasAttribute(C.STUN_ATTR_FINGERPRINT)).toBe(fp);
    if (fp) expect(stun.validateFingerprint(res)).toBe(true);
    // "The response MUST NOT contain the USERNAME attribute" (RFC 8489 §9.1.3).
    expect(res.hasAttribute(C.STUN_ATTR_USERNAME)).toBe(false);
  });

  it('an ICE connectivity check built by stun (PRIORITY, USE-CANDIDATE, ICE-CONTROLLING) is answered', async () => {
    const message = stun.createMessage(C.STUN_BINDING_REQUEST);
    message.addPriority(0x6e0001ff);
    message.addUseCandidate();
    message.addIceControlling(Buffer.from('0123456789abcdef', 'hex'));
    message.addUsername(USER);
    message.addMessageIntegrity(PASS);
    message.addFingerprint();
    const res = await npmRequest(url(), client.socket, message);
    expect(res.getXorAddress()).toEqual(client.local);
    expect(stun.validateMessageIntegrity(res, PASS)).toBe(true);
    expect(stun.validateFingerprint(res)).toBe(true);
  });

  /** The error response `stun.request` rejects with, and the same datagram read by our codec. */
  async function refused(message: NpmOutgoing): Promise<{ npm: NpmMessage; raw: StunMessage }> {
    const err = await npmRequest(url(), client.socket, message).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof stun.StunResponseError)) throw new Error(`expected an error response: ${err}`);
    return { npm: err.packet, raw: rawAnswer(client.received, message.transactionId) };
  }

  it.each([
    ['a wrong password', request('not-the-password', true)],
    ['an unknown username', request(PASS, true, 'mallory:natkitufrag')],
  ])('%s: 401 without MESSAGE-INTEGRITY, which stun decodes (as 404)', async (_, message) => {
    const before = server.machine.stats.unauthenticated;
    const { npm, raw } = await refused(message);
    expect(server.machine.stats.unauthenticated).toBe(before + 1);
    expect(npm.type).toBe(C.STUN_BINDING_ERROR_RESPONSE);
    expect(npm.transactionId.equals(message.transactionId)).toBe(true);
    // On the wire: Class 4, Number 1, "Unauthenticated" (RFC 8489 §14.8, §9.1.3).
    expect(raw.errorCode()).toEqual({ code: 401, reason: 'Unauthenticated' });
    expect(verifyFingerprint(raw)).toBe('ok');
    // stun's decoding: deviations 1 and 2 in the header comment.
    expect(npm.getError()).toEqual({ code: 404, reason: 'Unauthenticated' });
    expect(stun.validateFingerprint(npm)).toBe(false);
    // The server could not authenticate the request, so its answer is not integrity-protected.
    expect(npm.hasAttribute(C.STUN_ATTR_MESSAGE_INTEGRITY)).toBe(false);
    expect(raw.has(AttrType.MessageIntegrity)).toBe(false);
  });

  it('USERNAME without MESSAGE-INTEGRITY: 400, which stun decodes correctly (a multiple of 100)', async () => {
    const { npm, raw } = await refused(request(undefined, true));
    expect(raw.errorCode()?.code).toBe(400);
    expect(npm.getError()?.code).toBe(400);
    expect(stun.validateFingerprint(npm)).toBe(true);
  });
});

describe('our StunClient on io-node against npm stun.createServer', () => {
  let server: NpmStunServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('the CLI’s answer (XOR-MAPPED-ADDRESS + SOFTWARE): mapped address, RTT, SOFTWARE kept', async () => {
    server = await startNpmServer(answerLikeTheCli());
    const { event, driver } = await ask(server.address);
    const ok = success(event);
    expect(ok.destination).toEqual(server.address);
    expect(ok.mappedAddress).toEqual(driver.localAddress);
    expect(ok.rtt).toBeGreaterThanOrEqual(0);
    expect(ok.rtt).toBeLessThan(39_500);
    expect(ok.response.software()).toBe(`node/${process.version} stun/v${STUN_VERSION}`);
    expect(ok.response.has(AttrType.MappedAddress)).toBe(false);
    expect(driver.machine.stats).toMatchObject({ unknownTransaction: 0, badFingerprint: 0, malformed: 0 });
    // stun decoded our request, FINGERPRINT (on by default) included, and checks it.
    const [req] = server.requests;
    expect(req?.type).toBe(C.STUN_BINDING_REQUEST);
    expect(req && stun.validateFingerprint(req)).toBe(true);
    expect(server.errors).toEqual([]);
  });

  it('a FINGERPRINT computed by stun passes our client’s check', async () => {
    server = await startNpmServer(answerLikeTheCli((r) => r.addFingerprint()));
    const { event, driver } = await ask(server.address);
    const ok = success(event);
    expect(ok.response.has(AttrType.Fingerprint)).toBe(true);
    expect(verifyFingerprint(ok.response)).toBe('ok');
    expect(ok.mappedAddress).toEqual(driver.localAddress);
    expect(driver.machine.stats.badFingerprint).toBe(0);
  });

  it('MAPPED-ADDRESS only (an RFC 3489-style answer): our client falls back to it', async () => {
    server = await startNpmServer((request, from, s) => {
      const response = stun.createMessage(C.STUN_BINDING_RESPONSE, request.transactionId);
      response.addAddress(from.address, from.port);
      s.send(response, from.port, from.address);
    });
    const { event, driver } = await ask(server.address);
    const ok = success(event);
    expect(ok.response.has(AttrType.XorMappedAddress)).toBe(false);
    expect(ok.mappedAddress).toEqual(driver.localAddress);
  });

  it('XOR-MAPPED-ADDRESS and a different MAPPED-ADDRESS: XOR-MAPPED-ADDRESS wins', async () => {
    server = await startNpmServer(answerLikeTheCli((r) => r.addAddress('192.0.2.1', 9)));
    const { event, driver } = await ask(server.address);
    const ok = success(event);
    expect(ok.response.mappedAddress()).toEqual({ address: '192.0.2.1', port: 9, family: 'IPv4' });
    expect(ok.mappedAddress).toEqual(driver.localAddress);
  });

  it('io-node publicAddress reports the mapped address, the server and the RTT', async () => {
    server = await startNpmServer(answerLikeTheCli());
    const r = await publicAddress(server.address, {
      localAddress: LOCALHOST,
      signal: AbortSignal.timeout(15_000),
    });
    expect(r.mapped).toEqual(r.local);
    expect(r.server).toEqual(server.address);
    expect(r.rtt).toBeGreaterThanOrEqual(0);
  });

  it('stun’s CLI handler verbatim (random transaction ID, RFC 8489 §5) is ignored: timeout', async () => {
    server = await startNpmServer((_request, from, s) => {
      const response = stun.createMessage(C.STUN_BINDING_RESPONSE); // no transaction ID passed
      response.addXorAddress(from.address, from.port);
      s.send(response, from.port, from.address);
    });
    const { event, driver } = await ask(server.address, QUICK_FAILURE);
    expect(event).toMatchObject({ type: 'failure', reason: 'timeout' });
    // Answers did arrive, and each was dropped as belonging to no transaction.
    expect(driver.stats.datagramsOut).toBe(QUICK_FAILURE.rc);
    expect(server.requests.length).toBeGreaterThanOrEqual(1);
    expect(driver.stats.datagramsIn).toBeGreaterThanOrEqual(1);
    expect(driver.machine.stats.unknownTransaction).toBe(driver.stats.datagramsIn);
  });
});

describe('short-term credentials: our StunClient against npm stun.createServer', () => {
  let server: NpmStunServer | undefined;
  /** What stun's validators said about each request. */
  let checks: { integrity: boolean; fingerprint: boolean }[] = [];
  beforeEach(async () => {
    checks = [];
    // A short-term-authenticating Binding handler written with stun's API (deviation 4).
    server = await startNpmServer((request, from, s) => {
      const integrity = stun.validateMessageIntegrity(request, PASS) && request.getUsername() === USER;
      checks.push({ integrity, fingerprint: stun.validateFingerprint(request) });
      if (integrity) {
        const response = stun.createMessage(C.STUN_BINDING_RESPONSE, request.transactionId);
        response.addXorAddress(from.address, from.port);
        response.addMessageIntegrity(PASS);
        response.addFingerprint();
        s.send(response, from.port, from.address);
      } else {
        const response = stun.createMessage(C.STUN_BINDING_ERROR_RESPONSE, request.transactionId);
        response.addError(401, 'Unauthenticated');
        response.addFingerprint();
        s.send(response, from.port, from.address);
      }
    });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const addr = () => {
    if (server === undefined) throw new Error('npm server did not start');
    return server.address;
  };

  it('stun verifies our MESSAGE-INTEGRITY and FINGERPRINT; our client verifies stun’s MI', async () => {
    const { event, driver } = await ask(addr(), {
      credentials: { type: 'short-term', username: USER, password: PASS },
    });
    const ok = success(event);
    expect(checks[0]).toEqual({ integrity: true, fingerprint: true });
    expect(ok.mappedAddress).toEqual(driver.localAddress);
    expect(ok.response.has(AttrType.MessageIntegrity)).toBe(true);
    expect(driver.machine.stats).toMatchObject({ unauthenticated: 0, badFingerprint: 0 });
  });

  it('a wrong password: stun answers 401 without MI, which our client discards (RFC 8489 §9.1.4)', async () => {
    const { event, driver } = await ask(addr(), {
      ...QUICK_FAILURE,
      credentials: { type: 'short-term', username: USER, password: 'not-the-password' },
    });
    // Over UDP an unprotected answer is dropped as never received; once the retransmissions
    // run out the failure is an integrity violation, not a timeout (§9.1.4).
    expect(event).toMatchObject({ type: 'failure', reason: 'integrity' });
    expect(driver.stats.datagramsOut).toBe(QUICK_FAILURE.rc);
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => !c.integrity && c.fingerprint)).toBe(true);
    expect(driver.stats.datagramsIn).toBeGreaterThanOrEqual(1);
    expect(driver.machine.stats.unauthenticated).toBe(driver.stats.datagramsIn);
  });
});
