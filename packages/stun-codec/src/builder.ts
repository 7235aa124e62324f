/**
 * The encoder: writes a message straight into one growing buffer (or the caller's), header
 * first, attributes with their padding, then MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT over
 * what is already there (RFC 8489 §5, §14).
 */
import type { SocketAddress } from '@natkit/sans-io';
import { parseIPv4Into, parseIPv6Into } from './address.ts';
import { MAX_TEXT_BYTES } from './attributes.ts';
import {
  AttrType,
  FINGERPRINT_XOR,
  HEADER_LENGTH,
  MAGIC_COOKIE,
  type MessageClass,
  messageType,
  reasonPhrase,
  TRANSPORT_UDP,
} from './constants.ts';
import { crc32 } from './crc32.ts';
import { type IntegrityKey, toIntegrityKey } from './integrity-key.ts';
import type { StunMessage } from './message.ts';
import { utf8EncodeInto } from './text.ts';

const MAX_VALUE = 0xffff;
/** SOFTWARE and reason phrases: "fewer than 128 characters" (RFC 8489 §14.8, §14.14). */
const MAX_TEXT_CHARS = 127;
/** USERNAME: "fewer than 509 bytes" (RFC 8489 §14.3). */
const MAX_USERNAME_BYTES = 508;

/** Unicode characters (code points) in `s`: what the RFC's character limits count. */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function checkReason(reason: string): void {
  if (reason.length > MAX_TEXT_CHARS && codePoints(reason) > MAX_TEXT_CHARS) {
    throw new RangeError(`reason phrase of ${codePoints(reason)} characters exceeds ${MAX_TEXT_CHARS}`);
  }
}
const mac256 = new Uint8Array(32);
const addressScratch = new Uint8Array(16);
const u64 = new DataView(new ArrayBuffer(8));

// Where in the "what may follow" rules (RFC 8489 §14.5–§14.7) the builder is.
const OPEN = 0;
const AFTER_MI = 1;
const AFTER_MI256 = 2;
const AFTER_FP = 3;
const NOT_STARTED = 4;

export interface MessageBuilderOptions {
  /** Write into this buffer; if a message outgrows it, the builder moves to a larger one. */
  buffer?: Uint8Array;
  /** Size of the internal buffer when none is given (default 512). */
  initialCapacity?: number;
}

/**
 * Builds STUN messages. One builder can make any number of messages: `reset()` starts the
 * next one in the same buffer. Argument errors (a 13-byte transaction ID, an unparsable
 * address, an attribute after FINGERPRINT) throw: they are programmer errors.
 *
 * ```ts
 * const out = new MessageBuilder()
 *   .reset(Method.Binding, MessageClass.Request, tid)
 *   .addUsername('evtj:h6vY')
 *   .addMessageIntegrity(key)
 *   .addFingerprint()
 *   .view();
 * ```
 */
export class MessageBuilder {
  #buf: Uint8Array;
  #pos = 0;
  #state = NOT_STARTED;
  /** The last {@link view} (of the current `#buf`), handed out again while it still spans exactly the message. */
  #view: Uint8Array | undefined = undefined;

  constructor(options?: MessageBuilderOptions) {
    this.#buf = options?.buffer ?? new Uint8Array(Math.max(HEADER_LENGTH, options?.initialCapacity ?? 512));
  }

  /** Starts a new message (reusing the buffer). `transactionId` must be 12 bytes. */
  reset(method: number, messageClass: MessageClass, transactionId: Uint8Array): this {
    if (transactionId.length !== 12) throw new RangeError('transaction ID must be 12 bytes');
    if (!Number.isInteger(method) || method < 0 || method > 0xfff)
      throw new RangeError(`bad method ${method}`);
    // From an empty message: the previous one's length must not count towards the header.
    this.#pos = 0;
    this.#ensure(HEADER_LENGTH);
    const b = this.#buf;
    const t = messageType(method, messageClass);
    b[0] = t >>> 8;
    b[1] = t & 0xff;
    b[2] = 0;
    b[3] = 0;
    b[4] = MAGIC_COOKIE >>> 24;
    b[5] = (MAGIC_COOKIE >>> 16) & 0xff;
    b[6] = (MAGIC_COOKIE >>> 8) & 0xff;
    b[7] = MAGIC_COOKIE & 0xff;
    b.set(transactionId, 8);
    this.#pos = HEADER_LENGTH;
    this.#state = OPEN;
    return this;
  }

  /**
   * Starts a response to `request`: same method and transaction ID, the given class. For a
   * classic RFC 3489 request the 16-byte ID is echoed in place of cookie + ID.
   */
  resetResponse(request: StunMessage, messageClass: 2 | 3): this {
    const t = messageType(request.method, messageClass);
    this.#pos = 0;
    this.#ensure(HEADER_LENGTH);
    const b = this.#buf;
    b[0] = t >>> 8;
    b[1] = t & 0xff;
    b[2] = 0;
    b[3] = 0;
    // Cookie and transaction ID (or a classic request's 16-byte ID), copied byte by byte: a
    // `subarray` here would allocate a view per response.
    const r = request.bytes;
    for (let i = 4; i < HEADER_LENGTH; i++) b[i] = r[i]!;
    this.#pos = HEADER_LENGTH;
    this.#state = OPEN;
    return this;
  }

  /** Bytes written so far (header included). */
  get length(): number {
    return this.#pos;
  }

  /**
   * The finished message: a view of the internal buffer, valid until the next `reset()`. The
   * same view object comes back while the buffer and the length are unchanged (a server
   * answering same-sized responses allocates no view per response); like its bytes, it is
   * the builder's, not the caller's.
   */
  view(): Uint8Array {
    this.#started();
    // `#view` is dropped whenever `#buf` is replaced, so a view of the right length is a view
    // of this buffer. (Comparing `.buffer`s instead costs a call into the runtime per response:
    // V8 does not inline the `buffer` getter.)
    const v = this.#view;
    if (v !== undefined && v.length === this.#pos) return v;
    const view = this.#buf.subarray(0, this.#pos);
    this.#view = view;
    return view;
  }

  /** The finished message copied into a new Uint8Array. */
  build(): Uint8Array {
    this.#started();
    return this.#buf.slice(0, this.#pos);
  }

  // ---- plumbing ----

  #started(): void {
    if (this.#state === NOT_STARTED) throw new Error('call reset() first');
  }

  #ensure(extra: number): void {
    const need = this.#pos + extra;
    if (need <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(need, this.#buf.length * 2));
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = undefined;
  }

  /**
   * Opens an attribute with a value of `len` bytes: checks the ordering rules, writes the TLV
   * header, zeroes the padding, moves past it and updates the header Length. Returns the
   * value offset. `rules` is false only for addRaw, which may build rule-breaking messages.
   */
  #open(type: number, len: number, rules = true): number {
    const state = this.#state;
    if (state === NOT_STARTED) throw new Error('call reset() first');
    if (len > MAX_VALUE - 4) throw new RangeError(`attribute value of ${len} bytes is too long`);
    if (rules) {
      if (state === AFTER_FP) throw new Error('nothing may follow FINGERPRINT');
      if (state === AFTER_MI && type !== AttrType.MessageIntegritySha256 && type !== AttrType.Fingerprint) {
        throw new Error('only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow MESSAGE-INTEGRITY');
      }
      if (state === AFTER_MI256 && type !== AttrType.Fingerprint) {
        throw new Error('only FINGERPRINT may follow MESSAGE-INTEGRITY-SHA256');
      }
    }
    const padded = (len + 3) & ~3;
    const total = this.#pos - HEADER_LENGTH + 4 + padded;
    if (total > MAX_VALUE) throw new RangeError('message longer than 65535 bytes');
    this.#ensure(4 + padded);
    const b = this.#buf;
    const o = this.#pos;
    b[o] = type >>> 8;
    b[o + 1] = type & 0xff;
    b[o + 2] = len >>> 8;
    b[o + 3] = len & 0xff;
    for (let i = o + 4 + len; i < o + 4 + padded; i++) b[i] = 0;
    this.#pos = o + 4 + padded;
    b[2] = total >>> 8;
    b[3] = total & 0xff;
    if (type === AttrType.MessageIntegrity && state === OPEN) this.#state = AFTER_MI;
    else if (type === AttrType.MessageIntegritySha256 && state <= AFTER_MI) this.#state = AFTER_MI256;
    else if (type === AttrType.Fingerprint) this.#state = AFTER_FP;
    return o + 4;
  }

  /** Writes a big-endian uint32 at `o`. */
  #u32(o: number, v: number): void {
    const b = this.#buf;
    b[o] = v >>> 24;
    b[o + 1] = (v >>> 16) & 0xff;
    b[o + 2] = (v >>> 8) & 0xff;
    b[o + 3] = v & 0xff;
  }

  #text(type: number, s: string, maxBytes: number, maxChars = Number.POSITIVE_INFINITY): this {
    if (s.length > maxChars && codePoints(s) > maxChars) {
      throw new RangeError(`value of ${codePoints(s)} characters exceeds ${maxChars}`);
    }
    // Encode straight into the buffer at the value position, then fix up the header.
    this.#ensure(4 + s.length * 3 + 3);
    const o = this.#pos;
    const written = utf8EncodeInto(s, this.#buf, o + 4);
    if (written > maxBytes) throw new RangeError(`value of ${written} bytes exceeds ${maxBytes}`);
    this.#open(type, written);
    return this;
  }

  #address(type: number, addr: SocketAddress, xor: boolean): this {
    const v6 = addr.family === 'IPv6';
    const len = v6 ? 20 : 8;
    if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > 0xffff) {
      throw new RangeError(`bad port ${addr.port}`);
    }
    // Validate before opening so a bad address leaves the message unchanged.
    const scratch = addressScratch;
    if (!(v6 ? parseIPv6Into(addr.address, scratch, 0) : parseIPv4Into(addr.address, scratch, 0))) {
      throw new RangeError(`bad ${addr.family} address ${addr.address}`);
    }
    const o = this.#open(type, len);
    const b = this.#buf;
    b[o] = 0;
    b[o + 1] = v6 ? 0x02 : 0x01;
    let port = addr.port;
    // The top half of the XOR key below: the cookie, or a classic request's ID echoed by
    // resetResponse (the decoder uses the same header bytes).
    if (xor) port ^= (b[4]! << 8) | b[5]!;
    b[o + 2] = port >>> 8;
    b[o + 3] = port & 0xff;
    // XOR key: cookie ‖ transaction ID, i.e. header bytes 4..19 (RFC 8489 §14.2).
    for (let i = 0; i < len - 4; i++) b[o + 4 + i] = xor ? scratch[i]! ^ b[4 + i]! : scratch[i]!;
    return this;
  }

  #familyValue(type: number, family: 'IPv4' | 'IPv6'): this {
    const o = this.#open(type, 4);
    this.#u32(o, family === 'IPv6' ? 0x02000000 : 0x01000000);
    return this;
  }

  #errorBody(o: number, code: number): void {
    const b = this.#buf;
    b[o + 2] = Math.floor(code / 100);
    b[o + 3] = code % 100;
  }

  // ---- generic ----

  /** Adds an attribute with the given raw value (padding added). Bypasses the ordering rules. */
  addRaw(type: number, value: Uint8Array): this {
    return this.#raw(type, value, false);
  }

  #raw(type: number, value: Uint8Array, rules: boolean): this {
    const o = this.#open(type, value.length, rules);
    this.#buf.set(value, o);
    return this;
  }

  // ---- addresses ----

  /** XOR-MAPPED-ADDRESS (RFC 8489 §14.2). */
  addXorMappedAddress(addr: SocketAddress): this {
    return this.#address(AttrType.XorMappedAddress, addr, true);
  }
  /** MAPPED-ADDRESS (RFC 8489 §14.1). */
  addMappedAddress(addr: SocketAddress): this {
    return this.#address(AttrType.MappedAddress, addr, false);
  }
  /** ALTERNATE-SERVER (RFC 8489 §14.15). */
  addAlternateServer(addr: SocketAddress): this {
    return this.#address(AttrType.AlternateServer, addr, false);
  }
  /** RESPONSE-ORIGIN (RFC 5780 §7.3). */
  addResponseOrigin(addr: SocketAddress): this {
    return this.#address(AttrType.ResponseOrigin, addr, false);
  }
  /** OTHER-ADDRESS (RFC 5780 §7.4). */
  addOtherAddress(addr: SocketAddress): this {
    return this.#address(AttrType.OtherAddress, addr, false);
  }
  /** XOR-PEER-ADDRESS (RFC 8656 §18.3). */
  addXorPeerAddress(addr: SocketAddress): this {
    return this.#address(AttrType.XorPeerAddress, addr, true);
  }
  /** XOR-RELAYED-ADDRESS (RFC 8656 §18.5). */
  addXorRelayedAddress(addr: SocketAddress): this {
    return this.#address(AttrType.XorRelayedAddress, addr, true);
  }

  // ---- text ----

  // What a sender MUST respect for its own values (RFC 8489 §14.3, §14.8, §14.14); a decoder
  // accepts up to 763 bytes, for RFC 5389 peers (see MAX_TEXT_BYTES).

  /** USERNAME (RFC 8489 §14.3): fewer than 509 UTF-8 bytes, else a RangeError. */
  addUsername(u: string): this {
    return this.#text(AttrType.Username, u, MAX_USERNAME_BYTES);
  }
  /**
   * REALM (RFC 8489 §14.9), up to 763 bytes: a client echoes the server's REALM as it came
   * (§9.2.5), so the builder takes what a decoder accepts. A server must send fewer than 128
   * characters; that is the server's to check on its configured realm.
   */
  addRealm(r: string): this {
    return this.#text(AttrType.Realm, r, MAX_TEXT_BYTES);
  }
  /**
   * NONCE (RFC 8489 §14.10), up to 763 bytes, for the same reason as {@link addRealm}. See
   * {@link formatNonceCookie} for the security-feature prefix.
   */
  addNonce(n: string): this {
    return this.#text(AttrType.Nonce, n, MAX_TEXT_BYTES);
  }
  /** SOFTWARE (RFC 8489 §14.14): fewer than 128 characters, else a RangeError. */
  addSoftware(s: string): this {
    return this.#text(AttrType.Software, s, MAX_TEXT_BYTES, MAX_TEXT_CHARS);
  }
  /** ALTERNATE-DOMAIN (RFC 8489 §14.16): an ASCII (A-label) DNS name, 1..255 characters. */
  addAlternateDomain(name: string): this {
    if (name.length === 0 || name.length > 255 || !/^[\x21-\x7e]+$/.test(name)) {
      throw new RangeError(`bad ALTERNATE-DOMAIN ${name}`);
    }
    return this.#text(AttrType.AlternateDomain, name, 255);
  }

  // ---- errors ----

  /**
   * ERROR-CODE (RFC 8489 §14.8); the reason defaults to the standard phrase and must be fewer
   * than 128 characters, else a RangeError.
   */
  addErrorCode(code: number, reason: string = reasonPhrase(code)): this {
    if (!Number.isInteger(code) || code < 300 || code > 699) throw new RangeError(`bad error code ${code}`);
    checkReason(reason);
    this.#ensure(4 + 4 + reason.length * 3 + 3);
    const written = utf8EncodeInto(reason, this.#buf, this.#pos + 8);
    if (written > 763) throw new RangeError('reason phrase too long');
    const o = this.#open(AttrType.ErrorCode, 4 + written);
    this.#buf[o] = 0;
    this.#buf[o + 1] = 0;
    this.#errorBody(o, code);
    return this;
  }

  /** UNKNOWN-ATTRIBUTES (RFC 8489 §14.13). */
  addUnknownAttributes(types: readonly number[]): this {
    const o = this.#open(AttrType.UnknownAttributes, types.length * 2);
    const b = this.#buf;
    for (let i = 0; i < types.length; i++) {
      b[o + 2 * i] = types[i]! >>> 8;
      b[o + 2 * i + 1] = types[i]! & 0xff;
    }
    return this;
  }

  /** ADDRESS-ERROR-CODE (RFC 8656 §18.12): 440 or 508 for one address family. */
  addAddressErrorCode(family: 'IPv4' | 'IPv6', code: number, reason: string = reasonPhrase(code)): this {
    if (!Number.isInteger(code) || code < 300 || code > 699) throw new RangeError(`bad error code ${code}`);
    checkReason(reason);
    this.#ensure(4 + 4 + reason.length * 3 + 3);
    const written = utf8EncodeInto(reason, this.#buf, this.#pos + 8);
    if (written > 763) throw new RangeError('reason phrase too long');
    const o = this.#open(AttrType.AddressErrorCode, 4 + written);
    this.#buf[o] = family === 'IPv6' ? 0x02 : 0x01;
    this.#buf[o + 1] = 0;
    this.#errorBody(o, code);
    return this;
  }

  // ---- authentication ----

  /** PASSWORD-ALGORITHMS (RFC 8489 §14.11). */
  addPasswordAlgorithms(algs: readonly { algorithm: number; params?: Uint8Array }[]): this {
    let len = 0;
    for (const a of algs) len += 4 + (((a.params?.length ?? 0) + 3) & ~3);
    let o = this.#open(AttrType.PasswordAlgorithms, len);
    for (const a of algs) o = this.#algorithm(o, a);
    return this;
  }

  /** PASSWORD-ALGORITHM (RFC 8489 §14.12). */
  addPasswordAlgorithm(alg: { algorithm: number; params?: Uint8Array }): this {
    const o = this.#open(AttrType.PasswordAlgorithm, 4 + (alg.params?.length ?? 0));
    this.#algorithm(o, alg);
    return this;
  }

  #algorithm(o: number, a: { algorithm: number; params?: Uint8Array }): number {
    const b = this.#buf;
    const plen = a.params?.length ?? 0;
    b[o] = a.algorithm >>> 8;
    b[o + 1] = a.algorithm & 0xff;
    b[o + 2] = plen >>> 8;
    b[o + 3] = plen & 0xff;
    if (a.params !== undefined) b.set(a.params, o + 4);
    const padded = (plen + 3) & ~3;
    for (let i = o + 4 + plen; i < o + 4 + padded; i++) b[i] = 0;
    return o + 4 + padded;
  }

  /** USERHASH (RFC 8489 §14.4): 32 bytes, see {@link userhash}. */
  addUserhash(hash: Uint8Array): this {
    if (hash.length !== 32) throw new RangeError('USERHASH must be 32 bytes');
    return this.#raw(AttrType.Userhash, hash, true);
  }

  /**
   * MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message so far, with the Length
   * field counting this attribute.
   */
  addMessageIntegrity(key: IntegrityKey | Uint8Array): this {
    const o = this.#open(AttrType.MessageIntegrity, 20);
    toIntegrityKey(key).mac(
      'sha1',
      this.#buf,
      o - 4,
      this.#pos - HEADER_LENGTH,
      this.#buf.subarray(o, o + 20),
    );
    return this;
  }

  /**
   * MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), `length` bytes of HMAC-SHA256 (default 32;
   * 16..32 in steps of 4 only where the STUN usage allows truncation).
   */
  addMessageIntegritySha256(key: IntegrityKey | Uint8Array, length = 32): this {
    if (!Number.isInteger(length) || length < 16 || length > 32 || length % 4 !== 0) {
      throw new RangeError('MESSAGE-INTEGRITY-SHA256 length must be 16..32 and a multiple of 4');
    }
    const o = this.#open(AttrType.MessageIntegritySha256, length);
    toIntegrityKey(key).mac('sha256', this.#buf, o - 4, this.#pos - HEADER_LENGTH, mac256);
    this.#buf.set(length === 32 ? mac256 : mac256.subarray(0, length), o);
    return this;
  }

  /** FINGERPRINT (RFC 8489 §14.7): must be the last attribute. */
  addFingerprint(): this {
    const o = this.#open(AttrType.Fingerprint, 4);
    this.#u32(o, (crc32(this.#buf, 0, o - 4) ^ FINGERPRINT_XOR) >>> 0);
    return this;
  }

  // ---- ICE (RFC 8445 §16.1) ----

  /** PRIORITY: unsigned 32-bit. */
  addPriority(p: number): this {
    if (!Number.isInteger(p) || p < 0 || p > 0xffffffff) throw new RangeError(`bad priority ${p}`);
    this.#u32(this.#open(AttrType.Priority, 4), p);
    return this;
  }
  /** USE-CANDIDATE (no value). */
  addUseCandidate(): this {
    this.#open(AttrType.UseCandidate, 0);
    return this;
  }
  /** ICE-CONTROLLING with a 64-bit tie-breaker. */
  addIceControlling(tieBreaker: bigint): this {
    return this.#u64(AttrType.IceControlling, tieBreaker);
  }
  /** ICE-CONTROLLED with a 64-bit tie-breaker. */
  addIceControlled(tieBreaker: bigint): this {
    return this.#u64(AttrType.IceControlled, tieBreaker);
  }

  #u64(type: number, v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn)
      throw new RangeError('tie-breaker must be an unsigned 64-bit value');
    const o = this.#open(type, 8);
    // Through a DataView: splitting the bigint with shifts would allocate two more.
    u64.setBigUint64(0, v);
    for (let i = 0; i < 8; i++) this.#buf[o + i] = u64.getUint8(i);
    return this;
  }

  // ---- RFC 5780 ----

  /** CHANGE-REQUEST (RFC 5780 §7.2). */
  addChangeRequest(flags: { changeIp?: boolean; changePort?: boolean }): this {
    this.#u32(this.#open(AttrType.ChangeRequest, 4), (flags.changeIp ? 4 : 0) | (flags.changePort ? 2 : 0));
    return this;
  }
  /** RESPONSE-PORT (RFC 5780 §7.5). */
  addResponsePort(port: number): this {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`bad port ${port}`);
    this.#u32(this.#open(AttrType.ResponsePort, 4), port << 16);
    return this;
  }
  /** PADDING (RFC 5780 §7.6): `length` zero bytes. */
  addPadding(length: number): this {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`bad padding length ${length}`);
    const o = this.#open(AttrType.Padding, length);
    this.#buf.fill(0, o, o + length);
    return this;
  }

  // ---- TURN (RFC 8656 §18) ----

  /** CHANNEL-NUMBER (0x4000..0x4FFF are the valid channels). */
  addChannelNumber(channel: number): this {
    if (!Number.isInteger(channel) || channel < 0 || channel > 0xffff)
      throw new RangeError(`bad channel ${channel}`);
    this.#u32(this.#open(AttrType.ChannelNumber, 4), channel << 16);
    return this;
  }
  /** LIFETIME in seconds. */
  addLifetime(seconds: number): this {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 0xffffffff) {
      throw new RangeError(`bad lifetime ${seconds}`);
    }
    this.#u32(this.#open(AttrType.Lifetime, 4), seconds);
    return this;
  }
  /** DATA. */
  addData(data: Uint8Array): this {
    return this.#raw(AttrType.Data, data, true);
  }
  /** REQUESTED-ADDRESS-FAMILY. */
  addRequestedAddressFamily(family: 'IPv4' | 'IPv6'): this {
    return this.#familyValue(AttrType.RequestedAddressFamily, family);
  }
  /** ADDITIONAL-ADDRESS-FAMILY (only IPv6 is meaningful in an Allocate). */
  addAdditionalAddressFamily(family: 'IPv4' | 'IPv6'): this {
    return this.#familyValue(AttrType.AdditionalAddressFamily, family);
  }
  /** EVEN-PORT, optionally asking to reserve the next-higher port. */
  addEvenPort(reserveNext = false): this {
    const o = this.#open(AttrType.EvenPort, 1);
    this.#buf[o] = reserveNext ? 0x80 : 0;
    return this;
  }
  /** REQUESTED-TRANSPORT (default 17, UDP). */
  addRequestedTransport(protocol: number = TRANSPORT_UDP): this {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255)
      throw new RangeError(`bad protocol ${protocol}`);
    this.#u32(this.#open(AttrType.RequestedTransport, 4), protocol * 0x1000000);
    return this;
  }
  /** DONT-FRAGMENT (no value). */
  addDontFragment(): this {
    this.#open(AttrType.DontFragment, 0);
    return this;
  }
  /** RESERVATION-TOKEN: 8 bytes. */
  addReservationToken(token: Uint8Array): this {
    if (token.length !== 8) throw new RangeError('RESERVATION-TOKEN must be 8 bytes');
    return this.#raw(AttrType.ReservationToken, token, true);
  }
  /** ICMP (RFC 8656 §18.13). */
  addIcmp(icmp: { type: number; code: number; data?: number }): this {
    const o = this.#open(AttrType.Icmp, 8);
    const b = this.#buf;
    b[o] = 0;
    b[o + 1] = 0;
    b[o + 2] = icmp.type & 0xff;
    b[o + 3] = icmp.code & 0xff;
    this.#u32(o + 4, (icmp.data ?? 0) >>> 0);
    return this;
  }
}
