import type { SocketAddress } from '@natkit/sans-io';
import {
  AttrType,
  decode,
  ErrorCode,
  formatNonceCookie,
  IntegrityKey,
  MessageBuilder,
  MessageClass,
  PasswordAlgorithm,
  shortTermKey,
  userhash,
} from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunClient } from '../src/client.ts';
import type { StunClientEvent } from '../src/client-types.ts';
import { type LongTermServerAuth, StunServer, type StunServerOptions } from '../src/server.ts';
import { CLIENT, decodeSent, drainEvents, drainTransmits, SERVER, SERVER2, seededRandom } from './helpers.ts';
import { Link, perfect } from './link.ts';

function pair(
  clientOpts: ConstructorParameters<typeof StunClient>[0] = {},
  serverOpts: StunServerOptions = {},
) {
  const client = new StunClient({ random: seededRandom(3), ...clientOpts });
  const server = new StunServer({ random: seededRandom(4), ...serverOpts });
  const link = new Link(
    [
      { address: CLIENT, machine: client },
      { address: SERVER, machine: server },
    ],
    () => perfect,
  );
  return { client, server, link };
}

const longTerm = (extra: Partial<LongTermServerAuth> = {}): LongTermServerAuth => ({
  type: 'long-term',
  realm: 'example.org',
  password: (u) => (u === 'alice' ? 'wonderland' : undefined),
  ...extra,
});

describe('StunClient ↔ StunServer', () => {
  it('gets the mapped address with an RTT', () => {
    const { client, link } = pair();
    const id = client.request(SERVER, 0);
    link.run(0, 60_000);
    const events = drainEvents(client);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'success', transactionId: id, mappedAddress: CLIENT, rtt: 20 });
    expect(client.pending).toBe(0);
    expect(client.pollTimeout()).toBeUndefined();
  });

  it('short-term credentials: request protected, response verified', () => {
    const { client, link, server } = pair(
      {},
      { auth: { type: 'short-term', password: (u) => (u === 'R:L' ? 'secretpw' : undefined) } },
    );
    client.request(SERVER, 0, { credentials: { type: 'short-term', username: 'R:L', password: 'secretpw' } });
    link.run(0, 60_000);
    expect(drainEvents(client)[0]).toMatchObject({ type: 'success', mappedAddress: CLIENT });
    expect(server.stats.success).toBe(1);
  });

  it('short-term with SHA-256 and with both attributes', () => {
    for (const integrity of ['sha256', 'both'] as const) {
      const { client, link } = pair({}, { auth: { type: 'short-term', password: () => 'pw' } });
      client.request(SERVER, 0, {
        credentials: { type: 'short-term', username: 'a:b', password: 'pw', integrity },
      });
      link.run(0, 60_000);
      expect(drainEvents(client)[0]?.type).toBe('success');
    }
  });

  it('short-term with a wrong password: the 401 is unauthenticated, so it times out as an integrity failure', () => {
    const { client, link, server } = pair({}, { auth: { type: 'short-term', password: () => 'right' } });
    client.request(SERVER, 0, { credentials: { type: 'short-term', username: 'a:b', password: 'wrong' } });
    link.run(0, 60_000);
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'failure', reason: 'integrity' })]);
    expect(server.stats.unauthenticated).toBe(7);
    expect(client.stats.unauthenticated).toBe(7);
  });

  it('long-term: 401 → retry with credentials → success; the next request reuses the nonce', () => {
    const { client, link, server } = pair(
      { credentials: { type: 'long-term', username: 'alice', password: 'wonderland' } },
      { auth: longTerm() },
    );
    const id = client.request(SERVER, 0);
    link.run(0, 60_000);
    const [ev] = drainEvents(client);
    expect(ev).toMatchObject({ type: 'success', transactionId: id, mappedAddress: CLIENT });
    expect(server.stats.unauthenticated).toBe(1);
    expect(server.stats.success).toBe(1);
    // Negotiated SHA-256: the answer was protected with MESSAGE-INTEGRITY-SHA256.
    expect(ev?.type === 'success' && ev.response.has(AttrType.MessageIntegritySha256)).toBe(true);
    client.request(SERVER, 1000);
    link.run(1000, 60_000);
    expect(drainEvents(client)[0]?.type).toBe('success');
    expect(server.stats.unauthenticated).toBe(1);
    expect(server.stats.success).toBe(2);
  });

  it('long-term MD5-only servers and USERHASH', () => {
    const { client, link } = pair(
      { credentials: { type: 'long-term', username: 'alice', password: 'wonderland' } },
      {
        auth: longTerm({
          algorithms: ['md5'],
          // Only the exact RFC 8489 §14.4 hash of alice@example.org resolves.
          username: (h) => (hex(h) === hex(userhash('alice', 'example.org')) ? 'alice' : undefined),
        }),
      },
    );
    client.request(SERVER, 0);
    const seen: Uint8Array[] = [];
    link.run(0, 60_000);
    for (const d of link.delivered) if (d.to === SERVER) seen.push(d.payload);
    expect(drainEvents(client)[0]?.type).toBe('success');
    const retry = decode(seen[1]!);
    expect(retry.ok && retry.message.has(AttrType.Userhash)).toBe(true);
    expect(retry.ok && retry.message.has(AttrType.Username)).toBe(false);
    expect(retry.ok && retry.message.passwordAlgorithm()?.algorithm).toBe(PasswordAlgorithm.MD5);
  });

  it('long-term: 438 Stale Nonce → retry with the new nonce → success', () => {
    const { client, link, server } = pair(
      { credentials: { type: 'long-term', username: 'alice', password: 'wonderland' } },
      { auth: longTerm({ nonceLifetime: 5000 }) },
    );
    client.request(SERVER, 0);
    link.run(0, 60_000);
    expect(drainEvents(client)[0]?.type).toBe('success');
    // The cached nonce has expired by now: the server answers 438, the client retries.
    client.request(SERVER, 10_000);
    link.run(10_000, 100_000);
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'success' })]);
    expect(server.stats['stale-nonce']).toBe(1);
    expect(server.stats.success).toBe(2);
  });

  it('long-term with a wrong password: one retry, then failure "auth" — no endless loop', () => {
    const { client, link, server } = pair(
      { credentials: { type: 'long-term', username: 'alice', password: 'nope' } },
      { auth: longTerm() },
    );
    client.request(SERVER, 0);
    link.run(0, 600_000);
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'failure', reason: 'auth' })]);
    expect(server.stats.unauthenticated).toBe(2);
    expect(link.delivered).toHaveLength(4);
    expect(client.pollTimeout()).toBeUndefined();
  });

  it('a forged success (no or bad integrity) never completes a protected transaction', () => {
    const client = new StunClient({ random: seededRandom(5) });
    const id = client.request(SERVER, 0, {
      credentials: { type: 'short-term', username: 'a:b', password: 'pw' },
    });
    const [t] = drainTransmits(client);
    const req = decodeSent(t);
    const forged = new MessageBuilder().resetResponse(req, MessageClass.Success).addXorMappedAddress(SERVER2);
    expect(client.handleInput(forged.build(), SERVER, 5)).toBe('unauthenticated');
    forged.resetResponse(req, MessageClass.Success).addXorMappedAddress(SERVER2);
    forged.addMessageIntegrity(shortTermKey('not-pw'));
    expect(client.handleInput(forged.build(), SERVER, 6)).toBe('unauthenticated');
    expect(drainEvents(client)).toEqual([]);
    const real = new MessageBuilder().resetResponse(req, MessageClass.Success).addXorMappedAddress(CLIENT);
    real.addMessageIntegrity(new IntegrityKey(shortTermKey('pw'))).addFingerprint();
    expect(client.handleInput(real.build(), SERVER, 7)).toBe('accepted');
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'success', transactionId: id })]);
  });

  it('over a reliable transport an unauthenticated response fails the transaction at once', () => {
    const client = new StunClient({ random: seededRandom(5), transport: 'reliable' });
    client.request(SERVER, 0, { credentials: { type: 'short-term', username: 'a:b', password: 'pw' } });
    const req = decodeSent(drainTransmits(client)[0]);
    const forged = new MessageBuilder().resetResponse(req, MessageClass.Success).addXorMappedAddress(SERVER2);
    expect(client.handleInput(forged.build(), SERVER, 5)).toBe('unauthenticated');
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'failure', reason: 'integrity' })]);
    expect(client.pollTimeout()).toBeUndefined();
  });

  it('indications carry short-term credentials but never long-term ones', () => {
    const client = new StunClient({ random: seededRandom(5) });
    client.indicate(SERVER, 0, { credentials: { type: 'short-term', username: 'a:b', password: 'pw' } });
    client.indicate(SERVER, 0, { credentials: { type: 'long-term', username: 'a', password: 'pw' } });
    const [st, lt] = drainTransmits(client).map((t) => decode(t.payload));
    expect(st?.ok && st.message.has(AttrType.MessageIntegrity)).toBe(true);
    expect(lt?.ok && lt.message.has(AttrType.Username)).toBe(false);
  });

  it('matches by transaction ID and source address; drops and counts unknown or late responses', () => {
    const client = new StunClient({ random: seededRandom(6) });
    client.request(SERVER, 0);
    const [t] = drainTransmits(client);
    const req = decodeSent(t);
    const resp = new MessageBuilder()
      .resetResponse(req, MessageClass.Success)
      .addXorMappedAddress(CLIENT)
      .build();
    expect(client.handleInput(resp, SERVER2, 1)).toBe('wrong-source');
    expect(client.handleInput(resp, { ...SERVER, port: 3479 }, 1)).toBe('wrong-source');
    expect(client.handleInput(resp, SERVER, 2)).toBe('accepted');
    expect(client.handleInput(resp, SERVER, 3)).toBe('unknown-transaction');
    const bad = resp.slice();
    bad[10]! ^= 0xff;
    expect(client.handleInput(bad, SERVER, 3)).toBe('unknown-transaction');
    expect(client.handleInput(new Uint8Array([1, 2, 3]), SERVER, 3)).toBe('not-stun');
    expect(client.stats).toMatchObject({ wrongSource: 2, unknownTransaction: 2, notStun: 1, responses: 1 });
    expect(drainEvents(client)).toHaveLength(1);
  });

  it('accepts an IPv6 source written differently from the destination', () => {
    const dest: SocketAddress = { address: '2001:DB8:0:0::1', port: 3478, family: 'IPv6' };
    const client = new StunClient({ random: seededRandom(6) });
    client.request(dest, 0);
    const req = decodeSent(drainTransmits(client)[0]);
    const resp = new MessageBuilder().resetResponse(req, MessageClass.Success).addXorMappedAddress(CLIENT);
    expect(client.handleInput(resp.build(), { ...dest, address: '2001:db8::1' }, 1)).toBe('accepted');
  });

  it('drops a response with a bad FINGERPRINT', () => {
    const client = new StunClient({ random: seededRandom(6) });
    client.request(SERVER, 0);
    const req = decodeSent(drainTransmits(client)[0]);
    const resp = new MessageBuilder()
      .resetResponse(req, MessageClass.Success)
      .addXorMappedAddress(CLIENT)
      .addFingerprint()
      .build();
    resp[resp.length - 1]! ^= 1;
    expect(client.handleInput(resp, SERVER, 1)).toBe('bad-fingerprint');
  });

  it('error responses end the transaction with code and reason', () => {
    // CHANGE-REQUEST: the server has no alternate address, so 420 (RFC 5780 §6.1).
    const { client, link } = pair();
    client.request(SERVER, 0, { build: (b) => b.addChangeRequest({}) });
    link.run(0, 60_000);
    expect(drainEvents(client)).toEqual([
      expect.objectContaining({ type: 'error-response', code: 420, reason: 'Unknown Attribute' }),
    ]);
  });

  it('300 Try Alternate moves the request once to ALTERNATE-SERVER', () => {
    const client = new StunClient({ random: seededRandom(8) });
    const id = client.request(SERVER, 0);
    const req = decodeSent(drainTransmits(client)[0]);
    const redirect = new MessageBuilder()
      .resetResponse(req, MessageClass.Error)
      .addErrorCode(ErrorCode.TryAlternate)
      .addAlternateServer(SERVER2)
      .build();
    client.handleInput(redirect, SERVER, 10);
    const [moved] = drainTransmits(client);
    expect(moved!.destination).toEqual(SERVER2);
    const req2 = decode(moved!.payload);
    if (!req2.ok) throw new Error();
    // A second redirect (even elsewhere) is not followed.
    const again = new MessageBuilder()
      .resetResponse(req2.message, MessageClass.Error)
      .addErrorCode(ErrorCode.TryAlternate)
      .addAlternateServer(SERVER)
      .build();
    client.handleInput(again, SERVER2, 20);
    expect(drainEvents(client)).toEqual([
      expect.objectContaining({ type: 'failure', reason: 'redirect-loop', transactionId: id }),
    ]);
  });

  it('bid-down: a nonce cookie promising PASSWORD-ALGORITHMS without the attribute → failure "auth"', () => {
    const client = new StunClient({
      random: seededRandom(9),
      credentials: { type: 'long-term', username: 'alice', password: 'wonderland' },
    });
    client.request(SERVER, 0);
    const req = decodeSent(drainTransmits(client)[0]);
    const challenge = new MessageBuilder()
      .resetResponse(req, MessageClass.Error)
      .addErrorCode(401)
      .addRealm('example.org')
      .addNonce(`${formatNonceCookie({ passwordAlgorithms: true, usernameAnonymity: false })}xyz`)
      .build();
    client.handleInput(challenge, SERVER, 5);
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'failure', reason: 'auth' })]);
    expect(drainTransmits(client)).toEqual([]);
  });

  it('a classic-style server answering only MAPPED-ADDRESS still yields mappedAddress', () => {
    const client = new StunClient({ random: seededRandom(10) });
    client.request(SERVER, 0);
    const req = decodeSent(drainTransmits(client)[0]);
    const resp = new MessageBuilder().resetResponse(req, MessageClass.Success).addMappedAddress(CLIENT);
    client.handleInput(resp.build(), SERVER, 1);
    expect(drainEvents(client)[0]).toMatchObject({ type: 'success', mappedAddress: CLIENT });
  });
});

describe('StunClient: composition (ICE)', () => {
  it('adds caller attributes, sends from the given source, exposes per-transaction state', () => {
    const client = new StunClient({ random: seededRandom(11), software: 'natkit' });
    const local: SocketAddress = { address: '10.0.0.2', port: 9999, family: 'IPv4' };
    const id = client.request(SERVER, 100, {
      source: local,
      credentials: { type: 'short-term', username: 'RU:LU', password: new IntegrityKey(shortTermKey('pw')) },
      attributes: [{ type: 0xc057, value: new Uint8Array([1, 2, 3, 4]) }],
      build: (b) => b.addPriority(0x6e0001ff).addUseCandidate().addIceControlling(42n),
    });
    const [t] = drainTransmits(client);
    expect(t!.source).toEqual(local);
    const m = decode(t!.payload);
    if (!m.ok) throw new Error();
    expect(m.message.priority()).toBe(0x6e0001ff);
    expect(m.message.useCandidate()).toBe(true);
    expect(m.message.iceControlling()).toBe(42n);
    expect(m.message.get(0xc057)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(m.message.username()).toBe('RU:LU');
    expect(m.message.software()).toBe('natkit');
    expect(client.owns(m.message.transactionId)).toBe(true);
    client.handleTimeout(600);
    expect(client.transaction(id)).toMatchObject({
      state: 'in-flight',
      sends: 2,
      retransmits: 1,
      firstSentAt: 100,
    });
    expect(client.cancel(id, 700)).toBe(true);
    expect(client.transaction(id)).toBeUndefined();
    expect(client.pollTimeout()).toBeUndefined();
    expect(client.owns(m.message.transactionId)).toBe(false);
    expect(client.cancel(id, 700)).toBe(false);
  });

  it('at most N outstanding per destination; the rest start in order as slots free', () => {
    const client = new StunClient({ random: seededRandom(12), maxOutstanding: 2 });
    const ids = [0, 1, 2, 3].map(() => client.request(SERVER, 0));
    const other = client.request(SERVER2, 0);
    const first = drainTransmits(client);
    expect(first.map((t) => t.destination)).toEqual([SERVER, SERVER, SERVER2]);
    expect(client.transaction(ids[2]!)?.state).toBe('queued');
    // Cancel a queued one: it never starts. Finish the first: the fourth starts.
    client.cancel(ids[2]!, 1);
    const req0 = decode(first[0]!.payload);
    if (!req0.ok) throw new Error();
    client.handleInput(
      new MessageBuilder()
        .resetResponse(req0.message, MessageClass.Success)
        .addXorMappedAddress(CLIENT)
        .build(),
      SERVER,
      5,
    );
    const next = drainTransmits(client);
    expect(next).toHaveLength(1);
    const started = decode(next[0]!.payload);
    expect(started.ok && started.message.transactionId).toEqual(hexBytes(ids[3]!));
    expect(other).toBeTypeOf('string');
    const evs: StunClientEvent[] = drainEvents(client);
    expect(evs.map((e) => e.transactionId)).toEqual([ids[0]]);
  });
});

function hexBytes(h: string): Uint8Array {
  return new Uint8Array(h.match(/../g)!.map((x) => Number.parseInt(x, 16)));
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
