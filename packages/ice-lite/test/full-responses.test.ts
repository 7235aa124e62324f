import type { SocketAddress } from '@natkit/sans-io';
import { ErrorCode, MessageBuilder, MessageClass, type StunMessage, shortTermKey } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { IceAgent, type IceAgentOptions, type IceEvent } from '../src/index.ts';
import { check, parse, v4 } from './peer.ts';

/**
 * A full agent against a scripted peer, driven through handleInput/handleTimeout in virtual
 * time: what the RFC says about the responses to our own checks (RFC 8445 §7.2.5) and consent
 * checks (RFC 7675).
 */
const L = v4('10.0.0.1', 5000);
const R = v4('10.0.0.2', 6000);
const remoteCreds = { ufrag: 'remU', pwd: 'remotepasswordremotepw1' };

/** A deterministic RandomSource (a linear congruential generator). */
function lcg(seed = 1) {
  let x = seed;
  return (b: Uint8Array) => {
    for (let i = 0; i < b.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = x >>> 24;
    }
  };
}

function agent(opts: IceAgentOptions = {}, remotes: SocketAddress[] = [R]): IceAgent {
  const a = new IceAgent({ mode: 'full', role: 'controlling', random: lcg(), ...opts });
  a.addLocalCandidate(L);
  a.setRemoteCredentials(remoteCreds);
  for (const [i, address] of remotes.entries()) {
    a.addRemoteCandidate({
      foundation: `r${i}`,
      component: 1,
      transport: 'UDP',
      priority: 2130706431 - i,
      address,
      type: 'host',
    });
  }
  a.endOfRemoteCandidates();
  return a;
}

interface Sent {
  destination: SocketAddress;
  source: SocketAddress | undefined;
  m: StunMessage;
}

function drain(a: IceAgent): Sent[] {
  const out: Sent[] = [];
  for (let t = a.pollTransmit(); t; t = a.pollTransmit())
    out.push({ destination: t.destination, source: t.source, m: parse(t.payload.slice()) });
  return out;
}

function events(a: IceAgent): IceEvent[] {
  const out: IceEvent[] = [];
  for (let e = a.pollEvent(); e; e = a.pollEvent()) out.push(e);
  return out;
}

function states(evs: IceEvent[]): string[] {
  return evs.flatMap((e) => (e.type === 'state' ? [e.state] : []));
}

function success(req: StunMessage, mapped: SocketAddress = L): Uint8Array {
  return new MessageBuilder()
    .resetResponse(req, MessageClass.Success)
    .addXorMappedAddress(mapped)
    .addMessageIntegrity(shortTermKey(remoteCreds.pwd))
    .addFingerprint()
    .build();
}

function failure(req: StunMessage, code: number, pwd: string | null = remoteCreds.pwd): Uint8Array {
  const b = new MessageBuilder().resetResponse(req, MessageClass.Error).addErrorCode(code);
  if (pwd !== null) b.addMessageIntegrity(shortTermKey(pwd));
  return b.addFingerprint().build();
}

/** Fires the next timer (asserting the sans-IO contract) and returns its time. */
function tick(a: IceAgent): number {
  const t = a.pollTimeout();
  if (t === undefined) throw new Error('no timer armed');
  a.handleTimeout(t);
  const next = a.pollTimeout();
  if (next !== undefined) expect(next).toBeGreaterThan(t);
  return t;
}

/** Runs a controlling agent's checks, R answering each with success, until it has nominated; returns the time. */
function nominate(a: IceAgent): number {
  let t = 0;
  for (let i = 0; i < 20 && a.state !== 'completed'; i++) {
    t = Math.max(t, a.pollTimeout() ?? t);
    a.handleTimeout(t);
    for (const { m } of drain(a)) {
      t += 5;
      a.handleInput(success(m), R, t, L);
    }
  }
  expect(a.state).toBe('completed');
  return t;
}

/** A controlling agent whose only pair is nominated and selected (state `completed`); returns it and the time. */
function completed(opts: IceAgentOptions = {}): { a: IceAgent; t: number } {
  const a = agent({ nominationDelay: 0, ...opts });
  const t = nominate(a);
  events(a);
  return { a, t };
}

describe('non-symmetric check responses fail the pair (RFC 8445 §7.2.5.2.1)', () => {
  it('a success arriving on another local address fails the pair instead of validating it', () => {
    const a = agent({ nominationDelay: 1e9 });
    a.handleTimeout(0);
    const [req] = drain(a);
    expect(req!.source).toEqual(L);
    expect(a.handleInput(success(req!.m), R, 10, v4('10.0.0.99', 7777))).toBe('response');
    expect(a.pairs[0]!.state).toBe('failed');
    expect(a.selectedPair).toBeUndefined();
    // The only pair failed after end-of-candidates, but the agent concludes `failed` only when
    // the PAC timer (RFC 8863), started by the first handleTimeout, expires: 39.5 s.
    expect(a.state).toBe('checking');
    expect(a.pollTimeout()).toBe(39_500);
    a.handleTimeout(39_499);
    expect(a.state).toBe('checking');
    a.handleTimeout(39_500);
    expect(a.state).toBe('failed');
  });

  it('a success from another source fails the pair at once (not 39.5 s later by timeout)', () => {
    const a = agent({ nominationDelay: 1e9 });
    a.handleTimeout(0);
    const [req] = drain(a);
    expect(a.handleInput(success(req!.m), v4('10.0.0.3', 6000), 10, L)).toBe('response');
    expect(a.pairs[0]!.state).toBe('failed');
    expect(states(events(a))).toEqual(['checking']);
    // Nothing is retransmitted for the failed check: the only timer left is RFC 8863's PAC
    // timer, at whose expiry the agent fails, and then none.
    expect(tick(a)).toBe(39_500);
    expect(states(events(a))).toEqual(['failed']);
    expect(a.pollTimeout()).toBeUndefined();
  });

  it('an unauthenticated response from another source is dropped and fails nothing', () => {
    const a = agent({ nominationDelay: 1e9 });
    a.handleTimeout(0);
    const [req] = drain(a);
    expect(a.handleInput(failure(req!.m, 400, null), v4('10.0.0.3', 6000), 10, L)).toBe('ignored');
    expect(a.pairs[0]!.state).toBe('in-progress');
    // The right answer still validates the pair.
    expect(a.handleInput(success(req!.m), R, 20, L)).toBe('response');
    expect(a.pairs[0]!.state).toBe('succeeded');
  });

  it('without a local address (wildcard socket), or with 0.0.0.0, only the source is compared', () => {
    for (const to of [undefined, v4('0.0.0.0', 5000)]) {
      const a = agent({ nominationDelay: 1e9 });
      a.handleTimeout(0);
      const [req] = drain(a);
      expect(a.handleInput(success(req!.m), R, 10, to)).toBe('response');
      expect(a.pairs[0]!.state).toBe('succeeded');
    }
  });
});

describe('487 Role Conflict to our check (RFC 8445 §7.2.5.1)', () => {
  it('switches role, draws a new tie-breaker from the injected randomness, and retries with it', () => {
    const a = agent({ nominationDelay: 1e9 });
    a.handleTimeout(0);
    const [req] = drain(a);
    const before = a.tieBreaker;
    expect(req!.m.iceControlling()).toBe(before);
    expect(a.handleInput(failure(req!.m, ErrorCode.RoleConflict), R, 10, L)).toBe('response');
    expect(a.role).toBe('controlled');
    expect(a.tieBreaker).not.toBe(before);
    expect(events(a)).toContainEqual({ type: 'role', role: 'controlled' });
    // The triggered retry of the same pair carries the new role and the new tie-breaker.
    a.handleTimeout(a.pollTimeout()!);
    const [retry] = drain(a);
    expect(retry!.destination).toEqual(R);
    expect(retry!.m.iceControlling()).toBeUndefined();
    expect(retry!.m.iceControlled()).toBe(a.tieBreaker);
  });
});

describe('consent freshness as sender (RFC 7675)', () => {
  it('an authenticated 403 to a consent check revokes consent at once (§5.2)', () => {
    const { a } = completed();
    const t = tick(a);
    const [c] = drain(a);
    expect(c!.m.useCandidate()).toBe(false);
    expect(a.handleInput(failure(c!.m, ErrorCode.Forbidden), R, t + 20, L)).toBe('response');
    expect(a.state).toBe('failed');
    expect(a.selectedPair).toBeUndefined();
    expect(states(events(a))).toEqual(['failed']);
    // No more consent checks on the revoked pair.
    for (let n = a.pollTimeout(); n !== undefined; n = a.pollTimeout()) {
      a.handleTimeout(n);
      expect(drain(a)).toEqual([]);
    }
  });

  it('an unauthenticated 403 (no MESSAGE-INTEGRITY) revokes nothing', () => {
    const { a } = completed();
    const t = tick(a);
    const [c] = drain(a);
    expect(a.handleInput(failure(c!.m, ErrorCode.Forbidden, null), R, t + 20, L)).toBe('ignored');
    expect(a.state).toBe('completed');
    expect(a.selectedPair).toBeDefined();
  });

  it('expiry counts from when the answered consent request was sent, not when its answer came (§5.1)', () => {
    const { a } = completed();
    const sentAt = tick(a);
    const [c] = drain(a);
    // A slow path: the answer arrives 5.5 s later; nothing after it is ever answered.
    let answered = false;
    let failedAt: number | undefined;
    const seen: { t: number; state: string }[] = [];
    while (failedAt === undefined) {
      const n = a.pollTimeout()!;
      if (!answered && n >= sentAt + 5500) {
        expect(a.handleInput(success(c!.m), R, sentAt + 5500, L)).toBe('response');
        answered = true;
        continue;
      }
      a.handleTimeout(n);
      drain(a);
      for (const s of states(events(a))) {
        seen.push({ t: n, state: s });
        if (s === 'failed') failedAt = n;
      }
      expect(n).toBeLessThan(sentAt + 60_000);
    }
    expect(answered).toBe(true);
    // disconnected 12 s and failed 30 s after the SENDING of the answered request.
    expect(seen).toEqual([
      { t: sentAt + 12_000, state: 'disconnected' },
      { t: sentAt + 30_000, state: 'failed' },
    ]);
  });
});

describe('a failed nomination check fails the checklist (RFC 8445 §7.2.5.3.4)', () => {
  const R2 = v4('10.0.0.3', 6000);

  it('controlling: a lost USE-CANDIDATE check never leads to nominating another pair; the agent fails', () => {
    const a = agent({ nominationDelay: 0 }, [R, R2]);
    const nominated: string[] = [];
    const inbox: { at: number; bytes: Uint8Array; from: SocketAddress }[] = [];
    let t = 0;
    for (let step = 0; step < 1000 && a.state !== 'failed'; step++) {
      const n = a.pollTimeout();
      if (n === undefined) break;
      const d = inbox[0];
      if (d !== undefined && d.at <= n) {
        inbox.shift();
        t = d.at;
        a.handleInput(d.bytes, d.from, t, L);
      } else {
        t = tick(a);
      }
      for (const { destination, m } of drain(a)) {
        if (m.useCandidate()) {
          nominated.push(destination.address);
          if (destination.address === R.address) continue; // every nomination of R is lost
        }
        // R2 answers a little later than R, so R is the better valid pair and gets nominated.
        const delay = destination.address === R2.address ? 30 : 5;
        inbox.push({ at: t + delay, bytes: success(m), from: destination });
        inbox.sort((x, y) => x.at - y.at);
      }
    }
    expect(a.state).toBe('failed');
    expect(new Set(nominated)).toEqual(new Set([R.address]));
    expect(a.selectedPair).toBeUndefined();
    expect(a.pairs.find((p) => a.remoteCandidates[p.remote]!.address.address === R.address)!.state).toBe(
      'failed',
    );
    expect(states(events(a))).toEqual(['checking', 'failed']);
    // Nothing more is sent: no timer is left.
    expect(a.pollTimeout()).toBeUndefined();
  });

  it('controlled: the check triggered by USE-CANDIDATE failing fails the agent, other pairs are not checked', () => {
    const a = agent({ role: 'controlled', nominationDelay: 0 }, [R, R2]);
    const nominate = check({
      username: `${a.localCredentials.ufrag}:${remoteCreds.ufrag}`,
      pwd: a.localCredentials.pwd,
      useCandidate: true,
    });
    expect(a.handleInput(nominate, R, 0, L)).toBe('answered');
    drain(a); // our response
    a.handleTimeout(a.pollTimeout()!);
    const [triggered] = drain(a);
    expect(triggered!.destination).toEqual(R);
    expect(a.handleInput(failure(triggered!.m, ErrorCode.ServerError), R, 10, L)).toBe('response');
    expect(a.state).toBe('failed');
    expect(a.selectedPair).toBeUndefined();
    expect(a.pollTimeout()).toBeUndefined();
  });
});

describe('server-reflexive candidates (RFC 8445 §5.1.2.1)', () => {
  it('one base behind a symmetric NAT gets distinct srflx priorities from two STUN servers', () => {
    const servers = [v4('198.51.100.1', 3478), v4('198.51.100.2', 3478)];
    const a = new IceAgent({ mode: 'full', random: lcg(), stunServers: servers });
    a.addLocalCandidate(L);
    a.addLocalCandidate(v4('10.0.0.5', 5000));
    a.gather(0);
    let port = 40000;
    for (let n = a.pollTimeout(); n !== undefined && a.localCandidates.length < 6; n = a.pollTimeout()) {
      a.handleTimeout(n);
      for (const { destination, m } of drain(a)) {
        // A symmetric NAT: every server sees another external port.
        const mapped = v4('203.0.113.1', port++);
        const res = new MessageBuilder()
          .resetResponse(m, MessageClass.Success)
          .addXorMappedAddress(mapped)
          .addFingerprint()
          .build();
        a.handleInput(res, destination, n + 5, L);
      }
    }
    const srflx = a.localCandidates.filter((c) => c.type === 'srflx');
    expect(srflx).toHaveLength(4);
    expect(new Set(srflx.map((c) => c.priority)).size).toBe(4);
    for (const c of srflx) expect(Math.floor(c.priority / 2 ** 24)).toBe(100);
    // The first srflx of each base keeps the base's local preference order.
    expect(srflx[0]!.priority).toBeGreaterThan(srflx[srflx.length - 1]!.priority);
  });
});

describe('a triggered check for a pair already In-Progress (RFC 8445 §7.3.1.4)', () => {
  const tidOf = (m: StunMessage) => Array.from(m.transactionId).join(',');
  const peerCheck = (a: IceAgent) =>
    check({ username: `${a.localCredentials.ufrag}:${remoteCreds.ufrag}`, pwd: a.localCredentials.pwd });

  it('cancels the running transaction and checks the pair again at once', () => {
    const a = agent({ role: 'controlled', nominationDelay: 1e9 });
    a.handleTimeout(0);
    const [first] = drain(a); // lost on the way
    expect(a.pairs[0]!.state).toBe('in-progress');
    expect(a.handleInput(peerCheck(a), R, 100, L)).toBe('answered');
    drain(a); // our response
    expect(a.pairs[0]!.state).toBe('waiting');
    const sent: { t: number; tid: string }[] = [];
    for (let t = tick(a); t < 2000; t = tick(a))
      for (const { m } of drain(a)) sent.push({ t, tid: tidOf(m) });
    // The triggered check goes out on the next Ta tick, with a new transaction...
    expect(sent[0]!.t).toBeLessThanOrEqual(150);
    expect(sent[0]!.tid).not.toBe(tidOf(first!.m));
    // ...and the cancelled one is never retransmitted.
    expect(sent.every((x) => x.tid !== tidOf(first!.m))).toBe(true);
  });

  it('still uses a response to the cancelled transaction (within its timeout)', () => {
    const a = agent({ role: 'controlled', nominationDelay: 1e9 });
    a.handleTimeout(0);
    const [first] = drain(a);
    a.handleInput(peerCheck(a), R, 100, L);
    drain(a);
    const t = tick(a);
    const [retry] = drain(a);
    expect(tidOf(retry!.m)).not.toBe(tidOf(first!.m));
    // The answer to the first check arrives late; the retry's answer never does.
    expect(a.handleInput(success(first!.m), R, t + 10, L)).toBe('response');
    expect(a.pairs[0]!.state).toBe('succeeded');
    // The retry is not needed any more: nothing is retransmitted, nothing fails later.
    for (let n = a.pollTimeout(); n !== undefined && n < 60_000; n = a.pollTimeout()) {
      a.handleTimeout(n);
      expect(drain(a).filter((x) => tidOf(x.m) === tidOf(retry!.m))).toEqual([]);
    }
    expect(a.pairs[0]!.state).toBe('succeeded');
  });

  it('a forged or asymmetric answer to the cancelled transaction is not used', () => {
    const a = agent({ role: 'controlled', nominationDelay: 1e9 });
    a.handleTimeout(0);
    const [first] = drain(a);
    a.handleInput(peerCheck(a), R, 100, L);
    drain(a);
    tick(a);
    drain(a);
    const forged = new MessageBuilder()
      .resetResponse(first!.m, MessageClass.Success)
      .addXorMappedAddress(L)
      .addMessageIntegrity(shortTermKey('not-the-peers-password!'))
      .addFingerprint()
      .build();
    expect(a.handleInput(forged, R, 150, L)).toBe('ignored');
    expect(a.handleInput(success(first!.m), v4('10.0.0.3', 6000), 160, L)).toBe('ignored');
    expect(a.pairs[0]!.state).toBe('in-progress');
  });

  it('leaves a USE-CANDIDATE check in flight alone (the pair is valid, being nominated)', () => {
    const a = agent({ nominationDelay: 0 });
    a.handleTimeout(0);
    const [c] = drain(a);
    a.handleInput(success(c!.m), R, 10, L);
    const t = tick(a);
    const [nomination] = drain(a);
    expect(nomination!.m.useCandidate()).toBe(true);
    a.handleInput(peerCheck(a), R, t + 5, L);
    drain(a);
    // The next send is the nomination's own retransmission, not a new check.
    tick(a);
    const [next] = drain(a);
    expect(tidOf(next!.m)).toBe(tidOf(nomination!.m));
    a.handleInput(success(next!.m), R, t + 600, L);
    expect(a.state).toBe('completed');
  });
});

describe('nomination ends the checklist (RFC 8445 §8.1.2)', () => {
  it('pairs still to be checked leave the checklist; checks on them are answered but not paired', () => {
    const far = [v4('10.0.0.3', 6001), v4('10.0.0.4', 6002), v4('10.0.0.5', 6003)];
    const a = agent({ nominationDelay: 0 }, [R, ...far]);
    let t = 0;
    // Only R answers; the others stay Waiting, Frozen or In-Progress until the nomination.
    for (let i = 0; i < 20 && a.state !== 'completed'; i++) {
      t = Math.max(t, a.pollTimeout() ?? t);
      a.handleTimeout(t);
      for (const { m, destination } of drain(a)) {
        t += 5;
        if (destination.port === R.port) a.handleInput(success(m), R, t, L);
      }
    }
    expect(a.state).toBe('completed');
    expect(a.pairs.map((p) => p.state)).toEqual(['succeeded']);
    // A check from one of the dropped remotes is answered (§8.1.2: "continue to respond"), and
    // does not bring its pair back.
    const request = check({
      username: `${a.localCredentials.ufrag}:${remoteCreds.ufrag}`,
      pwd: a.localCredentials.pwd,
      controlled: true,
    });
    expect(a.handleInput(request, far[0]!, t + 1, L)).toBe('answered');
    expect(a.pairs.map((p) => p.state)).toEqual(['succeeded']);
  });
});

describe('candidates that arrive around the nomination', () => {
  const remoteHost = (address: SocketAddress, i = 0) => ({
    foundation: `s${i}`,
    component: 1,
    transport: 'UDP' as const,
    priority: 2130706431 - i,
    address,
    type: 'host' as const,
  });

  it('a signalled candidate that was peer-reflexive pairs with every host candidate (§6.1.2.2)', () => {
    const a = new IceAgent({ mode: 'full', role: 'controlled', random: lcg(), nominationDelay: 1e9 });
    a.addLocalCandidate(L);
    const L2 = v4('10.0.0.9', 5000);
    a.addLocalCandidate(L2);
    a.setRemoteCredentials(remoteCreds);
    const request = check({
      username: `${a.localCredentials.ufrag}:${remoteCreds.ufrag}`,
      pwd: a.localCredentials.pwd,
    });
    expect(a.handleInput(request, R, 0, L)).toBe('answered');
    expect(a.remoteCandidates.map((c) => c.type)).toEqual(['prflx']);
    expect(a.pairs).toHaveLength(1); // paired with the base it arrived on only (§7.3.1.4)
    expect(a.addRemoteCandidate(remoteHost(R))).toBe(true);
    expect(a.pairs.map((p) => p.local).sort()).toEqual([0, 1]);
  });

  it('after the nomination, new candidates on either side form no pairs (§8.1.2)', () => {
    // Trickle without end-of-candidates: a candidate may still come after the nomination.
    const a = new IceAgent({ mode: 'full', role: 'controlling', random: lcg(), nominationDelay: 0 });
    a.addLocalCandidate(L);
    a.setRemoteCredentials(remoteCreds);
    a.addRemoteCandidate(remoteHost(R));
    nominate(a);
    expect(a.addRemoteCandidate(remoteHost(v4('10.0.0.20', 6000), 1))).toBe(true);
    a.addLocalCandidate(v4('10.0.0.30', 5000));
    expect(a.pairs.map((p) => p.state)).toEqual(['succeeded']);
  });

  it("a short datagram in the STUN range (RFC 7983: 0–3) is malformed STUN, not someone else's", () => {
    const a = agent();
    expect(a.handleInput(Uint8Array.of(0, 1, 0, 0), R, 0, L)).toBe('malformed');
    expect(a.handleInput(Uint8Array.of(0x80, 1), R, 0, L)).toBe('not-stun');
  });
});
