import type { Machine, RandomSource, SocketAddress, Transmit } from '@natkit/sans-io';
import {
  AttrType,
  classOf,
  decode,
  ErrorCode,
  HEADER_LENGTH,
  IntegrityKey,
  longTermKey,
  MAGIC_COOKIE,
  MessageBuilder,
  MessageClass,
  Method,
  PasswordAlgorithm,
  parseNonceCookie,
  type StunMessage,
  shortTermKey,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '@natkit/stun-codec';
import { NonceIssuer } from './nonce.ts';
import { defaultRandom } from './random.ts';
import { notUnderstoodAttributes } from './unsupported-attributes.ts';

/** Short-term credentials (RFC 8489 §9.1): a lookup from USERNAME to password (or prepared key). */
export interface ShortTermServerAuth {
  type: 'short-term';
  password(username: string): string | IntegrityKey | undefined;
}

/** Long-term credentials (RFC 8489 §9.2) with stateless nonces. */
export interface LongTermServerAuth {
  type: 'long-term';
  realm: string;
  /** The password of `username`, or `undefined` for an unknown user. */
  password(username: string): string | undefined;
  /**
   * Resolves a USERHASH to a username. When given, the server advertises username anonymity in
   * the nonce cookie (RFC 8489 §9.2.1).
   */
  username?(userhash: Uint8Array): string | undefined;
  /** Offered in PASSWORD-ALGORITHMS, in order of preference. Default `['sha256', 'md5']`. */
  algorithms?: readonly ('sha256' | 'md5')[];
  /** How long a nonce stays valid, ms. Default 600 000 (10 min). */
  nonceLifetime?: number;
  /** HMAC secret for nonces (share it between server instances). Default: 32 random bytes. */
  secret?: Uint8Array;
}

export interface StunServerOptions {
  /**
   * SOFTWARE attribute, added only where it fits the amplification budget; fewer than 128
   * characters (RFC 8489 §14.14), else the constructor throws a RangeError.
   */
  software?: string;
  /** FINGERPRINT on responses: always, never, or when the request had one (`'mirror'`, default). */
  fingerprint?: boolean | 'mirror';
  /**
   * MAPPED-ADDRESS in success responses: only for classic RFC 3489 requests (default), or
   * always (RFC 5780 servers send both).
   */
  mappedAddress?: 'classic' | 'always';
  /** Authentication; default none (a basic Binding server, RFC 8489 §13). */
  auth?: ShortTermServerAuth | LongTermServerAuth;
  /** Randomness for the nonce secret. Default {@link defaultRandom}. */
  random?: RandomSource;
  /** Responses waiting to be polled before new ones are dropped (and counted). Default 1024. */
  maxQueuedTransmits?: number;
}

/** What the server did with one datagram. */
export type ServerVerdict =
  | 'success'
  /**
   * 400 sent: a request missing the attributes its credential mechanism needs (RFC 8489
   * §9.1.3, §9.2.4), or an RFC 3489 request while authentication is configured.
   */
  | 'bad-request'
  | 'unauthenticated'
  | 'stale-nonce'
  | 'unknown-attribute'
  /** Not STUN at all (or a STUN-looking datagram without the magic cookie that cannot be parsed). */
  | 'not-stun'
  /**
   * A request header with the magic cookie whose length or attributes do not parse: silently
   * discarded (RFC 8489 §6.3, "the message length is sensible").
   */
  | 'malformed'
  /** A request for a method other than Binding: silently discarded (RFC 8489 §6.3). */
  | 'unsupported-method'
  /** A response or indication: never answered. */
  | 'not-request'
  | 'bad-fingerprint'
  /** The answer was built but the output queue was full. */
  | 'dropped';

export type StunServerStats = Record<ServerVerdict, number> & { unencodable: number };

/** Room for XOR-MAPPED-ADDRESS + MAPPED-ADDRESS (IPv6) and a FINGERPRINT. */
const ADDRESS_BUDGET = 24 + 24 + 8;
const TYPE_MASK = 0xc000;

interface AuthOk {
  key: IntegrityKey;
  /**
   * The response carries MESSAGE-INTEGRITY-SHA256 (else MESSAGE-INTEGRITY): as the request did
   * for short-term credentials (§9.1.3); per PASSWORD-ALGORITHM processing for long-term
   * (§9.2.4).
   */
  sha256: boolean;
}

/**
 * A STUN server (RFC 8489 §6.3, §9, §13) as a sans-IO machine: answers Binding requests with the
 * requester's reflexive address. It keeps no per-request state (Binding is idempotent, so a
 * retransmission simply gets a recomputed answer; long-term nonces are HMACs, not table rows),
 * never answers responses, indications or non-STUN input, and keeps every response within a
 * fixed budget of its request's size so it cannot be used as an amplifier. It has no timers
 * and emits no events; `handleInput` returns a {@link ServerVerdict}.
 */
export class StunServer implements Machine<never> {
  readonly stats: StunServerStats = {
    success: 0,
    'bad-request': 0,
    unauthenticated: 0,
    'stale-nonce': 0,
    'unknown-attribute': 0,
    'not-stun': 0,
    malformed: 0,
    'unsupported-method': 0,
    'not-request': 0,
    'bad-fingerprint': 0,
    dropped: 0,
    unencodable: 0,
  };

  readonly #b = new MessageBuilder();
  readonly #out: Transmit[] = [];
  /**
   * The last queued response while its payload is still a view of the builder's buffer (no
   * copy): valid until the builder's next reset, which only a later `handleInput` can cause.
   */
  #live: Transmit | undefined;
  readonly #max: number;
  readonly #software: string | undefined;
  readonly #softwareBytes: number;
  readonly #fingerprint: boolean | 'mirror';
  readonly #alwaysMapped: boolean;
  readonly #auth: ShortTermServerAuth | LongTermServerAuth | undefined;
  readonly #nonces: NonceIssuer | undefined;
  /** PASSWORD-ALGORITHMS as offered: entries and the exact attribute value clients must echo. */
  readonly #algorithms: { algorithm: number }[] = [];
  readonly #algorithmsValue: Uint8Array = new Uint8Array(0);

  constructor(options: StunServerOptions = {}) {
    this.#max = options.maxQueuedTransmits ?? 1024;
    this.#software = options.software;
    // SOFTWARE must be fewer than 128 characters (RFC 8489 §14.14): refuse it here, not in
    // every answer (the builder checks it).
    if (options.software !== undefined) {
      this.#b.reset(Method.Binding, MessageClass.Success, new Uint8Array(12)).addSoftware(options.software);
    }
    this.#softwareBytes =
      options.software === undefined ? 0 : 4 + ((new TextEncoder().encode(options.software).length + 3) & ~3);
    this.#fingerprint = options.fingerprint ?? 'mirror';
    this.#alwaysMapped = options.mappedAddress === 'always';
    this.#auth = options.auth;
    if (options.auth?.type === 'long-term') {
      const a = options.auth;
      const names = a.algorithms ?? ['sha256', 'md5'];
      if (names.length === 0) throw new RangeError('long-term auth: at least one password algorithm');
      this.#algorithms = names.map((n) => ({
        algorithm: n === 'sha256' ? PasswordAlgorithm.SHA256 : PasswordAlgorithm.MD5,
      }));
      this.#algorithmsValue = new Uint8Array(4 * names.length);
      this.#algorithms.forEach((e, i) => {
        this.#algorithmsValue[4 * i + 1] = e.algorithm;
      });
      this.#nonces = new NonceIssuer({
        random: options.random ?? defaultRandom,
        lifetime: a.nonceLifetime ?? 600_000,
        features: { passwordAlgorithms: true, usernameAnonymity: a.username !== undefined },
        ...(a.secret === undefined ? {} : { secret: a.secret }),
      });
    }
  }

  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): ServerVerdict {
    const live = this.#live;
    if (live !== undefined) {
      // Still queued (not polled yet): it must survive the reset this datagram may cause. A
      // polled one belongs to the driver only until this call (the Transmit contract).
      this.#live = undefined;
      const last = this.#out.length - 1;
      if (this.#out[last] === live) this.#out[last] = { ...live, payload: live.payload.slice() };
    }
    const verdict = this.#process(payload, from, now, to);
    this.stats[verdict]++;
    return verdict;
  }

  pollTransmit(): Transmit | undefined {
    const t = this.#out.shift();
    if (t === this.#live) this.#live = undefined;
    return t;
  }

  pollTimeout(): number | undefined {
    return undefined;
  }

  handleTimeout(_now: number): void {}

  pollEvent(): undefined {
    return undefined;
  }

  // ---------------------------------------------------------------- processing

  #process(
    payload: Uint8Array,
    from: SocketAddress,
    now: number,
    to: SocketAddress | undefined,
  ): ServerVerdict {
    if (payload.length < HEADER_LENGTH || (payload[0]! & 0xc0) !== 0) return 'not-stun';
    const r = decode(payload);
    if (!r.ok) return this.#malformed(payload);
    const req = r.message;
    if (req.messageClass !== MessageClass.Request) return 'not-request';
    // A FINGERPRINT that does not match means this is not (intact) STUN: discard silently.
    if (req.has(AttrType.Fingerprint) && verifyFingerprint(req) !== 'ok') return 'bad-fingerprint';
    // §6.3: "the method value is a supported method ... If any errors are detected, the
    // message is silently discarded." (An error response would also be an amplifier: a
    // 20-byte request drew a 40-byte 400.)
    if (req.method !== Method.Binding) return 'unsupported-method';
    let auth: AuthOk | undefined;
    if (req.classic) {
      // RFC 3489 clients cannot take part in RFC 8489 authentication.
      if (this.#auth !== undefined) return this.#error(req, payload, from, to, ErrorCode.BadRequest);
    } else if (this.#auth?.type === 'short-term') {
      const a = this.#shortTerm(this.#auth, req);
      if (typeof a === 'number') return this.#error(req, payload, from, to, a);
      auth = a;
    } else if (this.#auth?.type === 'long-term') {
      const a = this.#longTerm(this.#auth, req, from, now);
      if (typeof a === 'number') return this.#challenge(req, payload, from, to, now, a);
      auth = a;
    }
    // §6.3.1: unknown comprehension-required attributes are checked after authentication; so
    // are the known ones this server does not act on (RFC 5780 §6.1's CHANGE-REQUEST, …), and
    // for RFC 3489 clients RESPONSE-ADDRESS / CHANGE-REQUEST (RFC 5389 §12.2).
    const unknown = notUnderstoodAttributes(req);
    if (unknown.length > 0) {
      return this.#error(req, payload, from, to, ErrorCode.UnknownAttribute, auth, unknown);
    }
    return this.#success(req, payload, from, to, auth);
  }

  /** §9.1.3: returns the key that verified the request, or the error code to send. */
  #shortTerm(a: ShortTermServerAuth, req: StunMessage): AuthOk | number {
    const username = req.username();
    const sha256 = req.has(AttrType.MessageIntegritySha256);
    if (username === undefined || (!sha256 && !req.has(AttrType.MessageIntegrity)))
      return ErrorCode.BadRequest;
    const pw = a.password(username);
    if (pw === undefined) return ErrorCode.Unauthorized;
    const key = typeof pw === 'string' ? new IntegrityKey(shortTermKey(pw)) : pw;
    const ok = sha256 ? verifyMessageIntegritySha256(req, key) : verifyMessageIntegrity(req, key);
    return ok === 'ok' ? { key, sha256 } : ErrorCode.Unauthorized;
  }

  /**
   * §9.2.4, checks 1–6 in order: returns the verified key (and which integrity attribute the
   * response must carry) or the error code to send.
   */
  #longTerm(a: LongTermServerAuth, req: StunMessage, from: SocketAddress, now: number): AuthOk | number {
    const sha256 = req.has(AttrType.MessageIntegritySha256);
    if (!sha256 && !req.has(AttrType.MessageIntegrity)) return ErrorCode.Unauthorized;
    const name = req.username();
    const hash = name === undefined ? req.userhash() : undefined;
    const nonce = req.nonce();
    if ((name === undefined && hash === undefined) || req.realm() === undefined || nonce === undefined) {
      return ErrorCode.BadRequest;
    }
    let algorithm: 'md5' | 'sha256' = 'md5';
    // Whether PASSWORD-ALGORITHM(S) were negotiated rather than MD5 assumed for lack of them.
    let negotiated = false;
    if (parseNonceCookie(nonce)?.passwordAlgorithms) {
      const list = req.get(AttrType.PasswordAlgorithms);
      const chosen = req.passwordAlgorithm();
      if (list !== undefined || req.has(AttrType.PasswordAlgorithm)) {
        if (list === undefined || chosen === undefined || !sameBytes(list, this.#algorithmsValue)) {
          return ErrorCode.BadRequest;
        }
        if (!this.#algorithms.some((e) => e.algorithm === chosen.algorithm)) return ErrorCode.BadRequest;
        algorithm = chosen.algorithm === PasswordAlgorithm.SHA256 ? 'sha256' : 'md5';
        negotiated = true;
      }
    }
    const username = name ?? (hash === undefined ? undefined : a.username?.(hash));
    const password = username === undefined ? undefined : a.password(username);
    if (username === undefined || password === undefined) return ErrorCode.Unauthorized;
    const key = new IntegrityKey(longTermKey(username, a.realm, password, algorithm));
    const ok = sha256 ? verifyMessageIntegritySha256(req, key) : verifyMessageIntegrity(req, key);
    if (ok !== 'ok') return ErrorCode.Unauthorized;
    if (this.#nonces!.check(nonce, from, now) !== 'valid') return ErrorCode.StaleNonce;
    // The request is verified with the attribute it carries; the response's attribute follows
    // the algorithm processing instead: "Any response generated by the server MUST
    // include the MESSAGE-INTEGRITY-SHA256 attribute ... unless the request was processed as
    // though PASSWORD-ALGORITHM was MD5 (because the request contained neither
    // PASSWORD-ALGORITHMS nor PASSWORD-ALGORITHM). In that case, the MESSAGE-INTEGRITY
    // attribute MUST be used" (§9.2.4). So an explicit PASSWORD-ALGORITHM MD5 still gets
    // MESSAGE-INTEGRITY-SHA256 (keyed with the MD5 key). A nonce without the cookie's
    // password-algorithms bit skips that processing altogether (MD5, RFC 5389 style); this
    // server issues no such nonces, so that case ends in 438 above anyway.
    return { key, sha256: negotiated };
  }

  #success(
    req: StunMessage,
    payload: Uint8Array,
    from: SocketAddress,
    to: SocketAddress | undefined,
    auth: AuthOk | undefined,
  ): ServerVerdict {
    const addrBytes = from.family === 'IPv6' ? 24 : 12;
    const xor = !req.classic;
    const mapped = req.classic || this.#alwaysMapped;
    const fp = this.#wantsFingerprint(req);
    const integrityBytes = auth === undefined ? 0 : auth.sha256 ? 36 : 24;
    const addresses = (xor ? addrBytes : 0) + (mapped ? addrBytes : 0);
    const base = HEADER_LENGTH + addresses + integrityBytes + (fp ? 8 : 0);
    // No amplification: beyond the address attributes (and a FINGERPRINT the operator forces),
    // a success response may not outgrow its request, so SOFTWARE goes only where it fits.
    const budget = payload.length + addresses + (fp && !req.has(AttrType.Fingerprint) ? 8 : 0);
    const withSoftware = this.#software !== undefined && base + this.#softwareBytes <= budget;
    try {
      const b = this.#b.resetResponse(req, MessageClass.Success);
      if (xor) b.addXorMappedAddress(from);
      if (mapped) b.addMappedAddress(from);
      if (withSoftware) b.addSoftware(this.#software!);
      this.#protect(b, auth, fp);
    } catch {
      // An address the codec cannot encode (e.g. an IPv6 zone the driver passed through).
      this.stats.unencodable++;
      return 'dropped';
    }
    return this.#queue(from, to, 'success');
  }

  /** 401 / 438 (long-term) with REALM, a fresh NONCE and PASSWORD-ALGORITHMS; 400 otherwise. */
  #challenge(
    req: StunMessage,
    payload: Uint8Array,
    from: SocketAddress,
    to: SocketAddress | undefined,
    now: number,
    code: number,
  ): ServerVerdict {
    if (code !== ErrorCode.Unauthorized && code !== ErrorCode.StaleNonce) {
      return this.#error(req, payload, from, to, code);
    }
    const a = this.#auth as LongTermServerAuth;
    const b = this.#b.resetResponse(req, MessageClass.Error);
    // The reason phrase is the one optional part; drop it when the request was tiny.
    const fp = this.#wantsFingerprint(req);
    b.addErrorCode(code, payload.length >= 64 ? undefined : '');
    b.addRealm(a.realm).addNonce(this.#nonces!.issue(from, now));
    b.addRaw(AttrType.PasswordAlgorithms, this.#algorithmsValue);
    if (fp) b.addFingerprint();
    return this.#queue(from, to, code === ErrorCode.StaleNonce ? 'stale-nonce' : 'unauthenticated');
  }

  #error(
    req: StunMessage,
    payload: Uint8Array,
    from: SocketAddress,
    to: SocketAddress | undefined,
    code: number,
    auth?: AuthOk,
    unknown?: readonly number[],
  ): ServerVerdict {
    const b = this.#b.resetResponse(req, MessageClass.Error);
    // Reason phrases cost up to ~32 bytes; keep them only when the request paid for them.
    const fp = this.#wantsFingerprint(req);
    const size =
      HEADER_LENGTH +
      8 +
      32 +
      (unknown === undefined ? 0 : 6 + 2 * unknown.length) +
      (auth === undefined ? 0 : 36) +
      (fp ? 8 : 0);
    // An RFC 3489 client need not cope with attribute padding (RFC 8489 §14.13 notes that
    // RFC 3489 padded UNKNOWN-ATTRIBUTES by repeating the last entry), so for classic requests
    // every attribute length is kept a multiple of 4: no reason phrase, and an odd list gets
    // its last type twice (still a valid list of types under RFC 8489).
    const withReason = !req.classic && size <= payload.length + ADDRESS_BUDGET;
    if (withReason) b.addErrorCode(code);
    else b.addErrorCode(code, '');
    if (unknown !== undefined) {
      b.addUnknownAttributes(
        req.classic && unknown.length % 2 === 1 ? [...unknown, unknown.at(-1)!] : unknown,
      );
    }
    // Only a request that passed authentication gets an integrity-protected error (§9.1.3).
    this.#protect(b, auth, fp);
    return this.#queue(from, to, verdictOf(code));
  }

  /**
   * A datagram the codec could not parse (bad lengths, truncation): never answered (§6.3: a
   * message whose length is not sensible "is silently discarded"). One with a STUN request
   * header and the magic cookie is counted as `malformed`, anything less recognisable as
   * `not-stun`.
   */
  #malformed(payload: Uint8Array): ServerVerdict {
    const type = (payload[0]! << 8) | payload[1]!;
    const cookie = ((payload[4]! << 24) | (payload[5]! << 16) | (payload[6]! << 8) | payload[7]!) >>> 0;
    if ((type & TYPE_MASK) !== 0 || cookie !== MAGIC_COOKIE || classOf(type) !== MessageClass.Request) {
      return 'not-stun';
    }
    return 'malformed';
  }

  #protect(b: MessageBuilder, auth: AuthOk | undefined, fingerprint: boolean): void {
    if (auth !== undefined) {
      // The integrity attribute chosen during authentication (§9.1.3, §9.2.4).
      if (auth.sha256) b.addMessageIntegritySha256(auth.key);
      else b.addMessageIntegrity(auth.key);
    }
    if (fingerprint) b.addFingerprint();
  }

  #wantsFingerprint(req: StunMessage): boolean {
    return this.#fingerprint === 'mirror' ? req.has(AttrType.Fingerprint) : this.#fingerprint;
  }

  #queue(
    destination: SocketAddress,
    source: SocketAddress | undefined,
    verdict: ServerVerdict,
  ): ServerVerdict {
    if (this.#out.length >= this.#max) return 'dropped';
    // A view, not a copy: usually the driver sends it before the next datagram arrives; if not,
    // handleInput copies it before the builder is reset.
    const payload = this.#b.view();
    const t: Transmit = source === undefined ? { destination, payload } : { source, destination, payload };
    this.#out.push(t);
    this.#live = t;
    return verdict;
  }
}

function verdictOf(code: number): ServerVerdict {
  switch (code) {
    case ErrorCode.Unauthorized:
      return 'unauthenticated';
    case ErrorCode.StaleNonce:
      return 'stale-nonce';
    case ErrorCode.UnknownAttribute:
      return 'unknown-attribute';
    default:
      return 'bad-request';
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
