import type { Machine, RandomSource, SocketAddress, Transmit } from '@natkit/sans-io';
import {
  AttrType,
  decode,
  ErrorCode,
  IntegrityKey,
  isStun,
  longTermKey,
  MessageBuilder,
  MessageClass,
  Method,
  PasswordAlgorithm,
  parseNonceCookie,
  type StunMessage,
  shortTermKey,
  transactionIdKey,
  userhash,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '@natkit/stun-codec';
import { addressKey } from './address.ts';
import type {
  ClientInputVerdict,
  FailureReason,
  RequestOptions,
  StunClientEvent,
  StunClientOptions,
  StunClientStats,
  TransactionInfo,
} from './client-types.ts';
import { type Credentials, NO_CREDENTIALS } from './credentials.ts';
import { IntegrityMemory } from './integrity-memory.ts';
import { OutstandingLimiter } from './outstanding.ts';
import { defaultRandom } from './random.ts';
import { RtoCache } from './rto-cache.ts';
import { checkPolicy, nextStep, type RetransmitPolicy } from './schedule.ts';
import { type Timer, TimerQueue } from './timer-queue.ts';

/** Which integrity attribute(s) a STUN transaction carried, and so which a response must carry. */
type IntegrityMode = 'none' | 'sha1' | 'sha256' | 'both';

/** What the client learned from a long-term 401/438 challenge (RFC 8489 §9.2.5). */
interface Challenge {
  realm: string;
  nonce: string;
  /** The PASSWORD-ALGORITHMS value to echo verbatim, when the server sent one. */
  passwordAlgorithms: Uint8Array | undefined;
  /** The PASSWORD-ALGORITHM chosen from that list. */
  algorithm: number | undefined;
  useUserhash: boolean;
  key: IntegrityKey;
  /** MESSAGE-INTEGRITY-SHA256 once PASSWORD-ALGORITHMS was seen, MESSAGE-INTEGRITY otherwise. */
  integrity: 'sha1' | 'sha256';
}

/** One STUN transaction (one transaction ID) of a request. */
interface Attempt {
  stunId: Uint8Array;
  key: string;
  payload: Uint8Array;
  sends: number;
  rto: number;
  firstSentAt: number;
  timer: Timer<Request>;
  integrity: IntegrityMode;
  integrityKey: IntegrityKey | undefined;
  integrityViolations: number;
  /** The long-term challenge whose credentials this transaction carried (none: unauthenticated). */
  challenge: Challenge | undefined;
}

/** The lifecycle of a request: waiting for a slot, in flight, or over. */
type RequestState = { kind: 'queued' } | { kind: 'in-flight'; attempt: Attempt } | { kind: 'done' };

/** A request as the caller sees it; may span several STUN transactions (auth retries, redirect). */
interface Request {
  readonly id: string;
  readonly firstId: Uint8Array;
  readonly method: number;
  readonly options: RequestOptions;
  readonly credentials: Credentials;
  readonly policy: RetransmitPolicy;
  destination: SocketAddress;
  destKey: string;
  state: RequestState;
  challenge: Challenge | undefined;
  /** True once a request built from a 401 *of this request* was sent: a second 401 is final. */
  answeredChallenge: boolean;
  staleRetries: number;
  redirected: boolean;
  /** Whether the first STUN transaction (with `firstId`) has been sent. */
  started: boolean;
}

interface AuthCacheEntry {
  username: string;
  password: string;
  challenge: Challenge;
}

const MAX_STALE_RETRIES = 3;

/**
 * RFC 5389 §12.1: Reserved comprehension-required attributes an RFC 3489 server may put in a
 * Binding response (RESPONSE-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS, REFLECTED-FROM), which the
 * client MUST ignore. Any other unknown comprehension-required attribute still fails (§6.3.3).
 */
const RFC3489_BINDING_RESPONSE_ATTRIBUTES: readonly number[] = [0x0002, 0x0004, 0x0005, 0x000b];

/**
 * A STUN client (RFC 8489 §6.2–§6.3, §9, §10) as a sans-IO machine.
 *
 * `request()` queues a request and returns its id; datagrams and time go in through
 * `handleInput` / `handleTimeout`; datagrams to send, the next deadline and typed events come
 * out through `pollTransmit` / `pollTimeout` / `pollEvent`. Every request ends with exactly one
 * `success`, `error-response` or `failure` event, unless it is cancelled.
 */
export class StunClient implements Machine<StunClientEvent> {
  readonly stats: StunClientStats = {
    requests: 0,
    indications: 0,
    sends: 0,
    retransmits: 0,
    responses: 0,
    notStun: 0,
    malformed: 0,
    notResponse: 0,
    unknownTransaction: 0,
    wrongSource: 0,
    badFingerprint: 0,
    unauthenticated: 0,
    droppedTransmits: 0,
    droppedEvents: 0,
  };

  readonly #random: RandomSource;
  readonly #policy: RetransmitPolicy;
  readonly #rtos: RtoCache;
  readonly #limiter: OutstandingLimiter<Request>;
  readonly #timers = new TimerQueue<Request>();
  readonly #byId = new Map<string, Request>();
  /** In-flight STUN transactions by `transactionIdKey`. */
  readonly #byStunId = new Map<string, Request>();
  readonly #auth = new Map<string, AuthCacheEntry>();
  readonly #shortTermKeys = new Map<string, IntegrityKey>();
  readonly #integrityMemory = new IntegrityMemory();
  readonly #transmits: Transmit[] = [];
  readonly #events: StunClientEvent[] = [];
  readonly #builder = new MessageBuilder();
  readonly #credentials: Credentials;
  readonly #software: string | undefined;
  readonly #fingerprint: boolean;
  readonly #followAlternate: boolean;
  readonly #maxTransmits: number;
  readonly #maxEvents: number;
  readonly #initialRto: number;

  constructor(options: StunClientOptions = {}) {
    this.#random = options.random ?? defaultRandom;
    this.#policy = checkPolicy({
      transport: options.transport ?? 'udp',
      rc: options.rc ?? 7,
      rm: options.rm ?? 16,
      ti: options.ti ?? 39_500,
    });
    const minRto = options.minRto ?? 500;
    this.#initialRto = options.rto ?? 500;
    this.#rtos = new RtoCache({
      initialRto: this.#initialRto,
      minRto: Math.min(minRto, this.#initialRto),
      // RFC 6298 §2.5: a ceiling on RTO must be at least 60 s. A lower one would cap a learned
      // RTO below the RTT of a slow path, so every transaction would retransmit and Karn's rule
      // would discard every sample: the estimate could never catch up.
      maxRto: Math.max(options.maxRto ?? 60_000, this.#initialRto),
      ttl: options.rtoCacheTtl ?? 600_000,
    });
    this.#limiter = new OutstandingLimiter(options.maxOutstanding ?? 10);
    this.#credentials = options.credentials ?? NO_CREDENTIALS;
    this.#software = options.software;
    // SOFTWARE must be fewer than 128 characters (RFC 8489 §14.14): refuse it here rather than
    // fail every request later (the builder checks it).
    if (options.software !== undefined) {
      this.#builder
        .reset(Method.Binding, MessageClass.Request, new Uint8Array(12))
        .addSoftware(options.software);
    }
    this.#fingerprint = options.fingerprint ?? true;
    this.#followAlternate = options.followAlternate ?? true;
    this.#maxTransmits = options.maxQueuedTransmits ?? 4096;
    this.#maxEvents = options.maxQueuedEvents ?? 4096;
  }

  // ---------------------------------------------------------------- requests

  /**
   * Starts a request (a Binding request unless `options.method` says otherwise) to
   * `destination` at `now`. Returns its id: the hex of its first transaction ID, drawn from the
   * injected random source. If `maxOutstanding` requests to that destination are already in
   * flight, it waits in order and starts when one ends.
   */
  request(destination: SocketAddress, now: number, options: RequestOptions = {}): string {
    const firstId = this.#newTransactionId();
    const id = transactionIdHex(firstId);
    const policy =
      options.rc === undefined && options.rm === undefined
        ? this.#policy
        : checkPolicy({
            ...this.#policy,
            rc: options.rc ?? this.#policy.rc,
            rm: options.rm ?? this.#policy.rm,
          });
    if (options.rto !== undefined && !(options.rto > 0)) throw new RangeError('request: rto must be > 0');
    const credentials = options.credentials ?? this.#credentials;
    const destKey = addressKey(destination);
    const req: Request = {
      id,
      firstId,
      method: options.method ?? Method.Binding,
      options,
      credentials,
      policy,
      destination,
      destKey,
      state: { kind: 'queued' },
      challenge: undefined,
      answeredChallenge: false,
      staleRetries: 0,
      redirected: false,
      started: false,
    };
    // Reuse a challenge learned from an earlier success with the same server and credentials.
    if (credentials.type === 'long-term') req.challenge = this.#cachedChallenge(destKey, credentials);
    this.#byId.set(id, req);
    this.stats.requests++;
    if (this.#limiter.acquire(destKey, req)) this.#start(req, now);
    return id;
  }

  /**
   * Sends an indication (never retransmitted, never answered; RFC 8489 §6.2). Long-term
   * credentials cannot protect indications (§9.2), so only short-term ones are applied.
   * Returns the hex transaction ID.
   */
  indicate(destination: SocketAddress, _now: number, options: RequestOptions = {}): string {
    const stunId = this.#newTransactionId();
    const credentials = options.credentials ?? this.#credentials;
    const b = this.#builder.reset(options.method ?? Method.Binding, MessageClass.Indication, stunId);
    this.#addUserAttributes(b, options);
    let integrity: IntegrityMode = 'none';
    let key: IntegrityKey | undefined;
    if (credentials.type === 'short-term') {
      b.addUsername(credentials.username);
      integrity = this.#shortTermIntegrity(credentials, addressKey(destination));
      key = this.#shortTermKey(credentials.password);
    }
    this.#finishMessage(b, options, integrity, key);
    this.stats.indications++;
    this.#transmit(destination, b.build(), options.source);
    return transactionIdHex(stunId);
  }

  /**
   * Abandons a request: no more sends, no event; a late response is dropped and counted.
   * Returns false for an unknown or finished id. `now` starts a queued request that takes the slot.
   */
  cancel(id: string, now: number): boolean {
    const req = this.#byId.get(id);
    if (req === undefined) return false;
    if (req.state.kind === 'queued') {
      this.#limiter.dequeue(req.destKey, req);
      req.state = { kind: 'done' };
      this.#byId.delete(id);
      return true;
    }
    this.#end(req, now);
    return true;
  }

  /** A snapshot of a live request, or `undefined` once it has ended. */
  transaction(id: string): TransactionInfo | undefined {
    const req = this.#byId.get(id);
    if (req === undefined || req.state.kind === 'done') return undefined;
    const a = req.state.kind === 'in-flight' ? req.state.attempt : undefined;
    return {
      state: req.state.kind,
      destination: req.destination,
      stunTransactionId: a?.stunId,
      sends: a?.sends ?? 0,
      retransmits: Math.max(0, (a?.sends ?? 0) - 1),
      rto: a?.rto,
      firstSentAt: a?.firstSentAt,
    };
  }

  /** Whether a response with this transaction ID belongs to one of this client's requests (for routing). */
  owns(transactionId: Uint8Array): boolean {
    return this.#byStunId.has(transactionIdKey(transactionId));
  }

  /** Number of requests not yet ended (queued or in flight). */
  get pending(): number {
    return this.#byId.size;
  }

  /** The starting RTO the next request to `destination` would use at `now`. */
  rtoFor(destination: SocketAddress, now: number): number {
    return this.#rtos.get(addressKey(destination), now)?.rto ?? this.#initialRto;
  }

  // ---------------------------------------------------------------- Machine

  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): ClientInputVerdict {
    if (!isStun(payload)) {
      this.stats.notStun++;
      return 'not-stun';
    }
    const r = decode(payload);
    if (!r.ok) {
      this.stats.malformed++;
      return 'malformed';
    }
    return this.handleMessage(r.message, from, now, to);
  }

  /** Like `handleInput` for a message a parent has already decoded. */
  handleMessage(msg: StunMessage, from: SocketAddress, now: number, to?: SocketAddress): ClientInputVerdict {
    if (msg.messageClass !== MessageClass.Success && msg.messageClass !== MessageClass.Error) {
      this.stats.notResponse++;
      return 'not-response';
    }
    const req = this.#byStunId.get(transactionIdKey(msg.transactionId));
    if (req === undefined || req.state.kind !== 'in-flight' || msg.method !== req.method) {
      this.stats.unknownTransaction++;
      return 'unknown-transaction';
    }
    const d = req.destination;
    // Usually the driver reports the very address we sent to: skip canonicalising it then.
    const sameText = from.port === d.port && from.address === d.address && from.family === d.family;
    if (!sameText && addressKey(from) !== req.destKey) {
      this.stats.wrongSource++;
      return 'wrong-source';
    }
    if (msg.has(AttrType.Fingerprint) && verifyFingerprint(msg) !== 'ok') {
      this.stats.badFingerprint++;
      return 'bad-fingerprint';
    }
    const attempt = req.state.attempt;
    const code = msg.messageClass === MessageClass.Error ? msg.errorCode()?.code : undefined;
    // Long-term challenges (401, 438) cannot be integrity-protected: the server could not
    // authenticate us. Everything else must be, whenever the request was (§9.1.5, §9.2.5).
    const isChallenge =
      req.credentials.type === 'long-term' &&
      (code === ErrorCode.Unauthorized || code === ErrorCode.StaleNonce);
    if (req.credentials.type === 'long-term' && !isChallenge && hidesPasswordAlgorithms(msg)) {
      // §9.2.5: any other response whose nonce cookie promises PASSWORD-ALGORITHMS without
      // carrying it MUST be ignored (a bid-down attempt); retransmissions continue.
      this.stats.unauthenticated++;
      return 'unauthenticated';
    }
    if (attempt.integrity !== 'none' && !isChallenge && !this.#authentic(msg, attempt)) {
      this.stats.unauthenticated++;
      attempt.integrityViolations++;
      if (req.policy.transport === 'reliable') {
        this.#fail(req, now, 'integrity', 'response failed the integrity check');
      }
      return 'unauthenticated';
    }
    if (attempt.integrity === 'both' && req.credentials.type === 'short-term') {
      // §9.1.5: later requests to this server send only the attribute this response carried.
      this.#integrityMemory.learnShortTerm(
        req.destKey,
        msg.has(AttrType.MessageIntegritySha256) ? 'sha256' : 'sha1',
      );
    }
    if (
      req.credentials.type === 'long-term' &&
      code === ErrorCode.BadRequest &&
      !msg.has(AttrType.MessageIntegrity) &&
      !msg.has(AttrType.MessageIntegritySha256)
    ) {
      // §9.2.5: with long-term credentials an unprotected 400 is discarded as if never received
      // (retransmissions continue), even for the first request that carried no credentials.
      this.stats.unauthenticated++;
      return 'unauthenticated';
    }
    this.stats.responses++;
    if (msg.messageClass === MessageClass.Success) this.#onSuccess(req, attempt, msg, now, to);
    else this.#onError(req, attempt, msg, code, now);
    return 'accepted';
  }

  pollTransmit(): Transmit | undefined {
    return this.#transmits.shift();
  }

  pollTimeout(): number | undefined {
    return this.#timers.next();
  }

  handleTimeout(now: number): void {
    for (let t = this.#timers.popDue(now); t !== undefined; t = this.#timers.popDue(now)) {
      const req = t.item;
      if (req.state.kind !== 'in-flight') continue;
      const a = req.state.attempt;
      const step = nextStep(req.policy, a.rto, a.sends);
      if (step.action === 'fail') {
        if (a.integrityViolations > 0) {
          this.#fail(
            req,
            now,
            'integrity',
            `${a.integrityViolations} response(s) failed the integrity check`,
          );
        } else {
          this.#fail(req, now, 'timeout', `no response after ${a.sends} send(s)`);
        }
        continue;
      }
      a.sends++;
      this.stats.retransmits++;
      this.#send(req, a);
      this.#arm(req, a, now);
    }
  }

  pollEvent(): StunClientEvent | undefined {
    return this.#events.shift();
  }

  // ---------------------------------------------------------------- internals

  #start(req: Request, now: number): void {
    // The first STUN transaction uses the ID the caller was given; retries draw new ones.
    const stunId = req.started ? this.#newTransactionId() : req.firstId;
    req.started = true;
    const rto = req.options.rto ?? this.#rtos.rto(req.destKey, now);
    const attempt = this.#buildAttempt(req, stunId, rto);
    req.state = { kind: 'in-flight', attempt };
    this.#byStunId.set(attempt.key, req);
    attempt.firstSentAt = now;
    attempt.sends = 1;
    this.#send(req, attempt);
    this.#arm(req, attempt, now);
  }

  #buildAttempt(req: Request, stunId: Uint8Array, rto: number): Attempt {
    const b = this.#builder.reset(req.method, MessageClass.Request, stunId);
    this.#addUserAttributes(b, req.options);
    let integrity: IntegrityMode = 'none';
    let key: IntegrityKey | undefined;
    const c = req.credentials;
    let challenge: Challenge | undefined;
    if (c.type === 'short-term') {
      b.addUsername(c.username);
      integrity = this.#shortTermIntegrity(c, req.destKey);
      key = this.#shortTermKey(c.password);
    } else if (c.type === 'long-term' && req.challenge !== undefined) {
      challenge = req.challenge;
      const ch = req.challenge;
      if (ch.useUserhash) b.addUserhash(userhash(c.username, ch.realm));
      else b.addUsername(c.username);
      b.addRealm(ch.realm).addNonce(ch.nonce);
      if (ch.passwordAlgorithms !== undefined && ch.algorithm !== undefined) {
        b.addRaw(AttrType.PasswordAlgorithms, ch.passwordAlgorithms);
        b.addPasswordAlgorithm({ algorithm: ch.algorithm });
      }
      integrity = ch.integrity;
      key = ch.key;
    }
    this.#finishMessage(b, req.options, integrity, key);
    const timer: Timer<Request> = { at: 0, item: req, cancelled: true };
    return {
      stunId,
      key: transactionIdKey(stunId),
      payload: b.build(),
      sends: 0,
      rto,
      firstSentAt: 0,
      timer,
      integrity,
      integrityKey: key,
      integrityViolations: 0,
      challenge,
    };
  }

  #addUserAttributes(b: MessageBuilder, options: RequestOptions): void {
    if (options.attributes) for (const a of options.attributes) b.addRaw(a.type, a.value);
    options.build?.(b);
  }

  #finishMessage(
    b: MessageBuilder,
    options: RequestOptions,
    integrity: IntegrityMode,
    key: IntegrityKey | undefined,
  ): void {
    if (this.#software !== undefined) b.addSoftware(this.#software);
    if (key !== undefined) {
      if (integrity === 'sha1' || integrity === 'both') b.addMessageIntegrity(key);
      if (integrity === 'sha256' || integrity === 'both') b.addMessageIntegritySha256(key);
    }
    if (options.fingerprint ?? this.#fingerprint) b.addFingerprint();
  }

  #send(req: Request, a: Attempt): void {
    this.stats.sends++;
    this.#transmit(req.destination, a.payload, req.options.source);
  }

  #transmit(destination: SocketAddress, payload: Uint8Array, source: SocketAddress | undefined): void {
    if (this.#transmits.length >= this.#maxTransmits) {
      this.stats.droppedTransmits++;
      return;
    }
    this.#transmits.push(source === undefined ? { destination, payload } : { source, destination, payload });
  }

  #arm(req: Request, a: Attempt, now: number): void {
    a.timer.cancelled = true;
    // Delays are ≥ 1 ms whenever RTO, Rm and Ti are positive, so a timer armed while handling
    // time `now` is always due strictly after it: no busy loop.
    a.timer = this.#timers.arm(now + Math.max(1, nextStep(req.policy, a.rto, a.sends).delay), req);
  }

  #authentic(msg: StunMessage, a: Attempt): boolean {
    const key = a.integrityKey;
    if (key === undefined) return false;
    switch (a.integrity) {
      case 'sha1':
        return verifyMessageIntegrity(msg, key) === 'ok';
      case 'sha256':
        return verifyMessageIntegritySha256(msg, key) === 'ok';
      case 'both':
        // §9.1.5: the server answers with the strongest it supports; either one proves it.
        return msg.has(AttrType.MessageIntegritySha256)
          ? verifyMessageIntegritySha256(msg, key) === 'ok'
          : verifyMessageIntegrity(msg, key) === 'ok';
      case 'none':
        return true;
      default:
        return unreachable(a.integrity);
    }
  }

  #onSuccess(req: Request, a: Attempt, msg: StunMessage, now: number, to: SocketAddress | undefined): void {
    const unknown = unknownRequired(msg);
    if (unknown.length > 0) {
      // §6.3.3: unknown comprehension-required attributes in a success response fail it.
      this.#fail(req, now, 'malformed', `unknown attributes ${unknown.join(',')}`);
      return;
    }
    const rtt = now - a.firstSentAt;
    // Karn: only an unambiguous (never retransmitted) exchange is a valid RTT sample; otherwise
    // keep the backed-off RTO so the next transaction to this server starts from it.
    if (req.options.rto === undefined) {
      if (a.sends === 1) this.#rtos.sample(req.destKey, rtt, now);
      else this.#rtos.backoff(req.destKey, a.rto * 2 ** (a.sends - 1), now);
    }
    const c = req.credentials;
    if (c.type === 'long-term' && req.challenge !== undefined) {
      this.#auth.set(req.destKey, { username: c.username, password: c.password, challenge: req.challenge });
    }
    const response = own(msg);
    this.#end(req, now);
    this.#emit({
      type: 'success',
      transactionId: req.id,
      destination: req.destination,
      response,
      mappedAddress: response.xorMappedAddress() ?? response.mappedAddress(),
      rtt,
      retransmits: a.sends - 1,
      localAddress: to,
    });
  }

  #onError(req: Request, attempt: Attempt, msg: StunMessage, code: number | undefined, now: number): void {
    if (code === undefined || unknownRequired(msg).length > 0) {
      this.#fail(
        req,
        now,
        'malformed',
        'error response without a valid ERROR-CODE or with unknown attributes',
      );
      return;
    }
    const c = req.credentials;
    if (c.type === 'long-term' && (code === ErrorCode.Unauthorized || code === ErrorCode.StaleNonce)) {
      this.#onChallenge(req, attempt, c, msg, code, now);
      return;
    }
    if (code === ErrorCode.TryAlternate && this.#followAlternate) {
      const alt = msg.alternateServer();
      // §10: the (first) ALTERNATE-SERVER has the family of the request's destination; another
      // family could not be reached from the same socket, so such a 300 is just an error.
      if (alt !== undefined && alt.family === req.destination.family) {
        this.#redirect(req, alt, now);
        return;
      }
    }
    this.#errorResponse(req, msg, code, now);
  }

  /** RFC 8489 §9.2.5: retry a 401 once with credentials, a 438 with the fresh nonce. */
  #onChallenge(
    req: Request,
    attempt: Attempt,
    c: Extract<Credentials, { type: 'long-term' }>,
    msg: StunMessage,
    code: number,
    now: number,
  ): void {
    const nonce = msg.nonce();
    const realm = msg.realm() ?? (code === ErrorCode.StaleNonce ? req.challenge?.realm : undefined);
    if (nonce === undefined || realm === undefined) {
      this.#errorResponse(req, msg, code, now);
      return;
    }
    const features = parseNonceCookie(nonce);
    const useUserhash = features?.usernameAnonymity ?? false;
    if (code === ErrorCode.Unauthorized) {
      // §9.2.5: no retry unless USERNAME/USERHASH, REALM or the password changes. Username and
      // password are fixed per request, so a 401 to a transaction that already carried them
      // (from a cached challenge, or after an earlier 401) is final unless the realm moved.
      if (req.answeredChallenge) {
        // Also bounds a server that keeps changing its realm.
        this.#fail(req, now, 'auth', 'credentials rejected (401 after an authenticated retry)');
        return;
      }
      const sent = attempt.challenge;
      if (sent !== undefined && sent.realm === realm && sent.useUserhash === useUserhash) {
        // The cached challenge is what was rejected: the next request starts afresh.
        this.#auth.delete(req.destKey);
        this.#fail(req, now, 'auth', 'credentials rejected (401 with the same realm; nothing to change)');
        return;
      }
    }
    if (code === ErrorCode.StaleNonce && ++req.staleRetries > MAX_STALE_RETRIES) {
      this.#fail(req, now, 'auth', `nonce still stale after ${MAX_STALE_RETRIES} retries`);
      return;
    }
    const listed = msg.get(AttrType.PasswordAlgorithms);
    if (listed !== undefined) {
      this.#integrityMemory.notePasswordAlgorithms(req.destKey);
    } else if (features?.passwordAlgorithms) {
      this.#fail(req, now, 'auth', 'nonce cookie promises PASSWORD-ALGORITHMS but none was sent (bid-down?)');
      return;
    } else if (
      req.challenge?.passwordAlgorithms !== undefined ||
      this.#integrityMemory.sawPasswordAlgorithms(req.destKey)
    ) {
      // §9.2.5: once a server has listed PASSWORD-ALGORITHMS, every later request to it uses
      // MESSAGE-INTEGRITY-SHA256 only; a challenge without the list would move us back to
      // MESSAGE-INTEGRITY with an MD5 key (a legitimate 438 must list them, §9.2.4).
      this.#fail(req, now, 'auth', 'PASSWORD-ALGORITHMS was offered before but is missing now (bid-down?)');
      return;
    }
    let algorithm: number | undefined;
    if (listed !== undefined) {
      const algs = msg.passwordAlgorithms() ?? [];
      algorithm = algs.find(
        (a) => a.algorithm === PasswordAlgorithm.SHA256 || a.algorithm === PasswordAlgorithm.MD5,
      )?.algorithm;
      if (algorithm === undefined) {
        this.#fail(req, now, 'auth', 'no supported password algorithm offered');
        return;
      }
    }
    const hash = algorithm === PasswordAlgorithm.SHA256 ? 'sha256' : 'md5';
    req.challenge = {
      realm,
      nonce,
      passwordAlgorithms: listed?.slice(),
      algorithm,
      useUserhash,
      key: new IntegrityKey(longTermKey(c.username, realm, c.password, hash)),
      // §9.2.5: once PASSWORD-ALGORITHMS has been seen, only MESSAGE-INTEGRITY-SHA256 is used.
      integrity: listed !== undefined ? 'sha256' : 'sha1',
    };
    if (code === ErrorCode.Unauthorized) req.answeredChallenge = true;
    this.#auth.delete(req.destKey);
    this.#restart(req, now);
  }

  /** §10: a 300 moves the request, once, to the ALTERNATE-SERVER with the same credentials. */
  #redirect(req: Request, alt: SocketAddress, now: number): void {
    const altKey = addressKey(alt);
    if (req.redirected || altKey === req.destKey) {
      this.#fail(req, now, 'redirect-loop', 'redirected to a server already tried');
      return;
    }
    req.redirected = true;
    this.#retire(req);
    const next = this.#limiter.release(req.destKey);
    if (next !== undefined) this.#start(next, now);
    req.destination = alt;
    req.destKey = altKey;
    // A new server issues its own realm and nonce.
    if (req.credentials.type === 'long-term') {
      req.challenge = this.#cachedChallenge(altKey, req.credentials);
      req.answeredChallenge = false;
    }
    req.state = { kind: 'queued' };
    if (this.#limiter.acquire(altKey, req)) this.#start(req, now);
  }

  /** A new STUN transaction (new ID, fresh schedule) for the same request and destination. */
  #restart(req: Request, now: number): void {
    this.#retire(req);
    try {
      this.#start(req, now);
    } catch (e) {
      // REALM, NONCE and PASSWORD-ALGORITHMS are echoed verbatim (§9.2.5), so a server can make
      // them too large for any request; network input must end the request, not throw.
      this.#fail(req, now, 'auth', `cannot build the retry: ${(e as Error).message}`);
    }
  }

  /** Forgets the current STUN transaction: late responses to it count as unknown. */
  #retire(req: Request): void {
    if (req.state.kind !== 'in-flight') return;
    const a = req.state.attempt;
    a.timer.cancelled = true;
    this.#byStunId.delete(a.key);
  }

  #errorResponse(req: Request, msg: StunMessage, code: number, now: number): void {
    const response = own(msg);
    this.#end(req, now);
    this.#emit({
      type: 'error-response',
      transactionId: req.id,
      destination: req.destination,
      code,
      reason: response.errorCode()?.reason ?? '',
      response,
    });
  }

  #fail(req: Request, now: number, reason: FailureReason, detail: string): void {
    this.#end(req, now);
    this.#emit({ type: 'failure', transactionId: req.id, destination: req.destination, reason, detail });
  }

  /** Ends a request: frees its slot (starting the next queued request) and forgets it. */
  #end(req: Request, now: number): void {
    this.#retire(req);
    req.state = { kind: 'done' };
    this.#byId.delete(req.id);
    const next = this.#limiter.release(req.destKey);
    if (next !== undefined) this.#start(next, now);
  }

  #emit(e: StunClientEvent): void {
    if (this.#events.length >= this.#maxEvents) {
      this.stats.droppedEvents++;
      return;
    }
    this.#events.push(e);
  }

  #cachedChallenge(destKey: string, c: Extract<Credentials, { type: 'long-term' }>): Challenge | undefined {
    const e = this.#auth.get(destKey);
    return e !== undefined && e.username === c.username && e.password === c.password
      ? e.challenge
      : undefined;
  }

  /** §9.1.2 / §9.1.5: `both` until a response from `destKey` showed which attribute it uses. */
  #shortTermIntegrity(c: Extract<Credentials, { type: 'short-term' }>, destKey: string): IntegrityMode {
    const configured = c.integrity ?? 'sha1';
    return configured === 'both' ? (this.#integrityMemory.shortTerm(destKey) ?? 'both') : configured;
  }

  #shortTermKey(password: string | IntegrityKey): IntegrityKey {
    if (typeof password !== 'string') return password;
    let k = this.#shortTermKeys.get(password);
    if (k === undefined) {
      // Bounded: an ICE agent uses a handful of passwords; evict wholesale if someone churns.
      if (this.#shortTermKeys.size >= 64) this.#shortTermKeys.clear();
      k = new IntegrityKey(shortTermKey(password));
      this.#shortTermKeys.set(password, k);
    }
    return k;
  }

  #newTransactionId(): Uint8Array {
    const id = new Uint8Array(12);
    this.#random(id);
    return id;
  }
}

/**
 * The unknown comprehension-required attributes that make a response unusable: all of them,
 * except the RFC 3489 leftovers a classic server puts in a Binding response (RFC 5389 §12.1).
 */
function unknownRequired(msg: StunMessage): readonly number[] {
  const all = msg.unknownRequired;
  if (all.length === 0 || msg.method !== Method.Binding) return all;
  return all.filter((t) => !RFC3489_BINDING_RESPONSE_ATTRIBUTES.includes(t));
}

/** §9.2.5: a NONCE whose cookie sets the "Password algorithms" bit, without PASSWORD-ALGORITHMS. */
function hidesPasswordAlgorithms(msg: StunMessage): boolean {
  return msg.nonceCookie()?.passwordAlgorithms === true && !msg.has(AttrType.PasswordAlgorithms);
}

/** A copy of `msg` that owns its bytes (the driver may reuse the datagram buffer). */
function own(msg: StunMessage): StunMessage {
  const r = decode(msg.bytes.slice());
  return r.ok ? r.message : msg;
}

/**
 * A transaction ID as lower-case hex: the id {@link StunClient.request} returns is this of the
 * request's first transaction ID, so a machine that houses a StunClient can find its own
 * record of a request from a response's `transactionId` (one that was not restarted).
 */
export function transactionIdHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

function unreachable(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
