/** The decoded STUN message: a view over the datagram plus an attribute index. */
import type { SocketAddress } from '@natkit/sans-io';
import { readAddress } from './address.ts';
import {
  type PasswordAlgorithmEntry,
  parseAddressErrorCode,
  parseAddressFamily,
  parseAlternateDomain,
  parseChangeRequest,
  parseChannelNumber,
  parseErrorCode,
  parseEvenPort,
  parseIcmp,
  parsePasswordAlgorithm,
  parsePasswordAlgorithms,
  parseRequestedTransport,
  parseResponsePort,
  parseText,
  parseUint32,
  parseUint64,
  parseUnknownAttributes,
} from './attributes.ts';
import { AttrType, classOf, HEADER_LENGTH, type MessageClass, methodOf } from './constants.ts';
import { type NonceCookie, parseNonceCookie } from './nonce-cookie.ts';

/** One attribute as yielded by {@link StunMessage.attributes}. */
export interface RawAttribute {
  type: number;
  /** View of the value (no header, no padding). */
  value: Uint8Array;
  /** Byte offset of the attribute's type field within the message. */
  offset: number;
}

/**
 * A decoded STUN message. Holds the datagram view (never copied) and the attribute index
 * {@link decode} built in its one validating pass; typed getters parse values lazily.
 *
 * The index is allocation-free: the pass records where the plain attributes start (a bit
 * set, or where they end when they reach past offset 132) and the offsets of
 * MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT. Lookups and walks of the
 * other types use the bit set, or walk the already validated TLV chain up to that end, which
 * for STUN-sized messages costs about what scanning an offset array would, without
 * allocating one per datagram (in a micro-benchmark on the RFC 5769 request, growing that
 * array cost more than the rest of decode; a typed-array index costs more still). Counts are
 * taken on demand. Every field is set in the constructor, in one order, so all messages
 * share one hidden class, and a message is also its own `DecodeResult` (`ok`, `message`),
 * so a decode allocates this one object. The hot walks use literal type numbers and header size
 * (named in comments) rather than the imported `AttrType`/`HEADER_LENGTH`: an imported
 * binding is a cell load plus a hole check on every use, and it kept the loop offset a
 * tagged Smi.
 *
 * Getters return `undefined` both when the attribute is absent and when it is malformed;
 * use {@link StunMessage.has} to tell the two apart. Duplicates: the first occurrence wins
 * (RFC 8489 §14). Attributes that follow MESSAGE-INTEGRITY / MESSAGE-INTEGRITY-SHA256 other
 * than the ones allowed there are not indexed at all (RFC 8489 §14.5, §14.6).
 */
export class StunMessage {
  // Field declarations and their JIT. A class field declared without a value is first set
  // to `undefined` (ES2022 [[Define]] semantics), and a field that has held `undefined` and
  // then a number or a Uint8Array is "any value" to V8: every read checks what it got (a
  // small-integer test, a map check). So `bytes`, read on every step of every walk, is
  // `declare`d (no emitted definition: the constructor creates it, and V8 then knows it holds
  // a Uint8Array), and the private offsets start as 0, so they are small-integer fields from
  // the first store on. (`unknownRequired` is read once per message, if at all: a typed
  // field would only move a map check into decode.)

  /** The datagram (the caller's bytes, not a copy). */
  declare readonly bytes: Uint8Array;
  /** Comprehension-required attribute types this codec does not know, each once (for a 420). */
  readonly unknownRequired: readonly number[];
  // Where the plain attributes (those before the first MI / MI-SHA256 / FINGERPRINT) start.
  // When they all start at offsets 20..132: a bit set, bit 34 - o/4 for an attribute at o
  // (bits 29 down to 1, a small integer on every V8). Highest bit first is wire order, and
  // `bits << (o/4 - 2)` keeps exactly the starts after o, so `Math.clz32` of it is the
  // distance to the next one (see `nextAttribute`). Otherwise ~end, with end the offset of
  // the first MI / MI-SHA256 / FINGERPRINT or the message length: walk the TLV chain to it.
  readonly #starts: number = 0;
  // Offsets (type field) of MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256, FINGERPRINT, or -1.
  readonly #mi: number = 0;
  readonly #mi256: number = 0;
  readonly #fp: number = 0;
  #transactionId: Uint8Array | undefined = undefined;

  /** @internal Use {@link decode}. */
  constructor(
    bytes: Uint8Array,
    unknownRequired: readonly number[],
    starts: number,
    mi: number,
    mi256: number,
    fp: number,
  ) {
    this.bytes = bytes;
    this.unknownRequired = unknownRequired;
    this.#starts = starts;
    this.#mi = mi;
    this.#mi256 = mi256;
    this.#fp = fp;
  }

  /**
   * Always `true`. A decoded message is itself the success case of `DecodeResult`
   * (`{ ok: true, message }`), with `message` returning the message: one object per
   * datagram instead of two.
   */
  get ok(): true {
    return true;
  }
  /** The message itself (see {@link StunMessage.ok}), so `decode(b).message` reads as before. */
  get message(): StunMessage {
    return this;
  }

  /** Number of indexed attributes (duplicates included, ignored ones not); counted on demand. */
  get attributeCount(): number {
    let count = 0;
    for (let o = this.firstAttribute(); o >= 0; o = this.nextAttribute(o)) count++;
    return count;
  }

  /**
   * How many attributes were skipped because they followed MESSAGE-INTEGRITY(-SHA256)
   * (RFC 8489 §14.5, §14.6); counted on demand. They are the attributes from the first
   * integrity attribute or FINGERPRINT on that are not the indexed MI, MI-SHA256 and FP.
   */
  get ignoredAfterIntegrity(): number {
    const b = this.bytes;
    const n = b.length;
    const mi = this.#mi;
    const mi256 = this.#mi256;
    const fp = this.#fp;
    let ignored = 0;
    for (let o = tailStart(mi, mi256, fp, n); o < n; o = (o + ((b[o + 2]! << 8) | b[o + 3]!) + 7) & ~3) {
      if (o !== mi && o !== mi256 && o !== fp) ignored++;
    }
    return ignored;
  }

  // Header fields are read from the bytes on demand: cheaper than storing them per datagram.

  /** The 14-bit message type. */
  get type(): number {
    return ((this.bytes[0]! << 8) | this.bytes[1]!) & 0x3fff;
  }
  /** The 12-bit method. */
  get method(): number {
    return methodOf(this.type);
  }
  /** Request, indication, success or error. */
  get messageClass(): MessageClass {
    return classOf(this.type);
  }
  /** True for an RFC 3489 message (no magic cookie; the transaction ID is 16 bytes). */
  get classic(): boolean {
    const b = this.bytes;
    return !(b[4] === 0x21 && b[5] === 0x12 && b[6] === 0xa4 && b[7] === 0x42);
  }

  /** The transaction ID: a 12-byte view (16 bytes for classic messages). */
  get transactionId(): Uint8Array {
    if (this.#transactionId === undefined) {
      this.#transactionId = this.classic ? this.bytes.subarray(4, 20) : this.bytes.subarray(8, 20);
    }
    return this.#transactionId;
  }

  /** Offset of the first indexed attribute of `type` (its type field), or -1. */
  offsetOf(type: number): number {
    if (type === 0x0008 /* MESSAGE-INTEGRITY */) return this.#mi;
    if (type === 0x001c /* MESSAGE-INTEGRITY-SHA256 */) return this.#mi256;
    if (type === 0x8028 /* FINGERPRINT */) return this.#fp;
    const b = this.bytes;
    let bits = this.#starts;
    if (bits >= 0) {
      while (bits !== 0) {
        // Highest bit first (wire order): bit 31 - z is the attribute at 4z + 12.
        const z = Math.clz32(bits);
        bits &= 0x7fffffff >>> z;
        const o = (z << 2) + 12;
        if (((b[o]! << 8) | b[o + 1]!) === type) return o;
      }
      return -1;
    }
    const end = ~bits;
    for (let o = 20; o < end; o = (o + ((b[o + 2]! << 8) | b[o + 3]!) + 7) & ~3) {
      if (((b[o]! << 8) | b[o + 1]!) === type) return o;
    }
    return -1;
  }

  has(type: number): boolean {
    return this.offsetOf(type) >= 0;
  }

  /** A view of the value of the first `type` attribute. */
  get(type: number): Uint8Array | undefined {
    const o = this.offsetOf(type);
    if (o < 0) return undefined;
    const b = this.bytes;
    return b.subarray(o + 4, o + 4 + ((b[o + 2]! << 8) | b[o + 3]!));
  }

  /** Views of the values of every `type` attribute, in wire order. */
  getAll(type: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let o = this.firstAttribute(); o >= 0; o = this.nextAttribute(o)) {
      if (this.attributeType(o) === type) out.push(this.attributeValue(o));
    }
    return out;
  }

  /** Every indexed attribute in wire order. */
  *attributes(): Generator<RawAttribute, void, undefined> {
    for (let o = this.firstAttribute(); o >= 0; o = this.nextAttribute(o)) {
      yield { type: this.attributeType(o), value: this.attributeValue(o), offset: o };
    }
  }

  // ---- cursor ----
  //
  // A callback-free walk over the same attributes, in the same order, as `forEachAttribute`:
  //
  //   for (let o = m.firstAttribute(); o >= 0; o = m.nextAttribute(o)) {
  //     use(m.attributeType(o), m.attributeLength(o)); // value at o + 4
  //   }
  //
  // A cursor is a plain number (the attribute's offset), so the walk allocates nothing and
  // the four methods are small enough for the JIT to inline into the caller's loop, where a
  // callback per attribute is a call that cannot be (`forEachAttribute`'s one call site sees
  // every caller's function).

  /**
   * Offset (type field) of the first indexed attribute, or -1 when there is none. With
   * {@link StunMessage.nextAttribute}, visits what {@link StunMessage.forEachAttribute} visits.
   */
  firstAttribute(): number {
    // A plain attribute, if there is one, starts right after the header: a bit set (bit 0)
    // or a TLV chain (only used when there are plain attributes) is then non-zero.
    if (this.#starts !== 0) return 20;
    const mi = this.#mi;
    if (mi >= 0) return mi;
    const mi256 = this.#mi256;
    return mi256 >= 0 ? mi256 : this.#fp;
  }

  /**
   * Offset of the indexed attribute after the one at `offset`, or -1 after the last: the
   * plain attributes in wire order, then MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and
   * FINGERPRINT (the attributes ignored after an integrity attribute are skipped, as in
   * {@link StunMessage.forEachAttribute}). `offset` must come from
   * {@link StunMessage.firstAttribute} or this method; for any other number the result is
   * unspecified, but always -1 or greater than `offset`, so a loop over it ends.
   */
  nextAttribute(offset: number): number {
    const bits = this.#starts | 0;
    if (bits >= 0) {
      // The plain starts after this one: shifting left by o/4 - 2 drops the bits of the
      // starts up to o (bit 34 - o/4 lands on bit 32) and moves the one at o' to bit
      // 32 - (o' - o)/4, so o' = o + 4 + 4 * clz32. Three operations on the chain from one
      // offset to the next. An integrity attribute or FINGERPRINT has no bit and follows
      // every plain attribute, so for it (and offsets past 132) there are none.
      const later = offset < 136 ? bits << ((offset >>> 2) - 2) : 0;
      // (`& 0x1fffc` leaves an attribute offset as it is and bounds the sum for the JIT.)
      if (later !== 0) return (offset & 0x1fffc) + 4 + (Math.clz32(later) << 2);
    } else if (offset >= 20 && offset < ~bits) {
      const b = this.bytes;
      const next = (offset + ((b[offset + 2]! << 8) | b[offset + 3]!) + 7) & ~3;
      if (next < ~bits) return next;
    }
    // Past the plain attributes: the first of MI, MI-SHA256, FP (in that wire order, each
    // -1 when absent) that lies beyond `offset`.
    // (`| 0`: small integers, so the caller's loop keeps the offset untagged.)
    const mi = this.#mi | 0;
    if (offset < mi) return mi;
    const mi256 = this.#mi256 | 0;
    if (offset < mi256) return mi256;
    const fp = this.#fp | 0;
    return offset < fp ? fp : -1;
  }

  // The readers below take an attribute offset (from the cursor or `offsetOf`): a multiple of
  // 4 below 2^17, which `& 0x1fffc` leaves as it is. The mask tells the JIT so, which spares
  // an overflow check on each of `o + 1` .. `o + 3` (for other numbers the result is
  // unspecified).

  /** Type of the attribute at `offset` (from {@link StunMessage.firstAttribute}/`nextAttribute`). */
  attributeType(offset: number): number {
    const b = this.bytes;
    const o = offset & 0x1fffc;
    return (b[o]! << 8) | b[o + 1]!;
  }

  /** Value length (without padding) of the attribute at `offset`; the value starts at `offset + 4`. */
  attributeLength(offset: number): number {
    const b = this.bytes;
    const o = offset & 0x1fffc;
    return (b[o + 2]! << 8) | b[o + 3]!;
  }

  /** A view (no copy) of the value of the attribute at `offset`. */
  attributeValue(offset: number): Uint8Array {
    const b = this.bytes;
    const o = offset & 0x1fffc;
    return b.subarray(o + 4, o + 4 + ((b[o + 2]! << 8) | b[o + 3]!));
  }

  /** Calls `fn(type, valueOffset, valueLength)` for every indexed attribute; allocates nothing. */
  forEachAttribute(fn: (type: number, valueOffset: number, valueLength: number) => void): void {
    for (let o = this.firstAttribute(); o >= 0; o = this.nextAttribute(o)) {
      fn(this.attributeType(o), o + 4, this.attributeLength(o));
    }
  }

  // ---- addresses ----

  /** XOR-MAPPED-ADDRESS (RFC 8489 §14.2). */
  xorMappedAddress(): SocketAddress | undefined {
    return address(this, AttrType.XorMappedAddress, true);
  }
  /** MAPPED-ADDRESS (RFC 8489 §14.1). */
  mappedAddress(): SocketAddress | undefined {
    return address(this, AttrType.MappedAddress, false);
  }
  /** ALTERNATE-SERVER (RFC 8489 §14.15). */
  alternateServer(): SocketAddress | undefined {
    return address(this, AttrType.AlternateServer, false);
  }
  /** RESPONSE-ORIGIN (RFC 5780 §7.3). */
  responseOrigin(): SocketAddress | undefined {
    return address(this, AttrType.ResponseOrigin, false);
  }
  /** OTHER-ADDRESS (RFC 5780 §7.4). */
  otherAddress(): SocketAddress | undefined {
    return address(this, AttrType.OtherAddress, false);
  }
  /** The first XOR-PEER-ADDRESS (RFC 8656 §18.3). */
  xorPeerAddress(): SocketAddress | undefined {
    return address(this, AttrType.XorPeerAddress, true);
  }
  /** Every well-formed XOR-PEER-ADDRESS (CreatePermission may carry several, RFC 8656 §9.1). */
  xorPeerAddresses(): SocketAddress[] {
    return addresses(this, AttrType.XorPeerAddress, true);
  }
  /** The first XOR-RELAYED-ADDRESS (RFC 8656 §18.5). */
  xorRelayedAddress(): SocketAddress | undefined {
    return address(this, AttrType.XorRelayedAddress, true);
  }
  /** Every well-formed XOR-RELAYED-ADDRESS (a dual-stack allocation has two, RFC 8656 §7.3). */
  xorRelayedAddresses(): SocketAddress[] {
    return addresses(this, AttrType.XorRelayedAddress, true);
  }

  // ---- text ----

  /** USERNAME (RFC 8489 §14.3); undefined when longer than 763 bytes or not UTF-8. */
  username(): string | undefined {
    return text(this, AttrType.Username);
  }
  /** REALM (RFC 8489 §14.9). */
  realm(): string | undefined {
    return text(this, AttrType.Realm);
  }
  /** NONCE (RFC 8489 §14.10). See {@link parseNonceCookie} for the security-feature prefix. */
  nonce(): string | undefined {
    return text(this, AttrType.Nonce);
  }
  /** The RFC 8489 nonce cookie at the start of NONCE (security features), if there is one. */
  nonceCookie(): NonceCookie | undefined {
    const n = this.nonce();
    return n === undefined ? undefined : parseNonceCookie(n);
  }
  /** SOFTWARE (RFC 8489 §14.14). */
  software(): string | undefined {
    return text(this, AttrType.Software);
  }
  /** ALTERNATE-DOMAIN (RFC 8489 §14.16). */
  alternateDomain(): string | undefined {
    const v = this.get(AttrType.AlternateDomain);
    return v === undefined ? undefined : parseAlternateDomain(v);
  }

  // ---- errors ----

  /** ERROR-CODE (RFC 8489 §14.8). */
  errorCode(): { code: number; reason: string } | undefined {
    const v = this.get(AttrType.ErrorCode);
    return v === undefined ? undefined : parseErrorCode(v);
  }
  /** UNKNOWN-ATTRIBUTES (RFC 8489 §14.13). */
  unknownAttributes(): number[] | undefined {
    const v = this.get(AttrType.UnknownAttributes);
    return v === undefined ? undefined : parseUnknownAttributes(v);
  }
  /** ADDRESS-ERROR-CODE (RFC 8656 §18.12). */
  addressErrorCode(): { family: 'IPv4' | 'IPv6'; code: number; reason: string } | undefined {
    const v = this.get(AttrType.AddressErrorCode);
    return v === undefined ? undefined : parseAddressErrorCode(v);
  }

  // ---- authentication ----

  /** PASSWORD-ALGORITHMS (RFC 8489 §14.11). */
  passwordAlgorithms(): PasswordAlgorithmEntry[] | undefined {
    const v = this.get(AttrType.PasswordAlgorithms);
    return v === undefined ? undefined : parsePasswordAlgorithms(v);
  }
  /** PASSWORD-ALGORITHM (RFC 8489 §14.12). */
  passwordAlgorithm(): PasswordAlgorithmEntry | undefined {
    const v = this.get(AttrType.PasswordAlgorithm);
    return v === undefined ? undefined : parsePasswordAlgorithm(v);
  }
  /** USERHASH (RFC 8489 §14.4): a 32-byte view; undefined for any other length. */
  userhash(): Uint8Array | undefined {
    const v = this.get(AttrType.Userhash);
    return v !== undefined && v.length === 32 ? v : undefined;
  }
  /** The MESSAGE-INTEGRITY value view (20 bytes), as received. */
  messageIntegrity(): Uint8Array | undefined {
    const v = this.get(AttrType.MessageIntegrity);
    return v !== undefined && v.length === 20 ? v : undefined;
  }
  /** The MESSAGE-INTEGRITY-SHA256 value view (16..32 bytes, multiple of 4), as received. */
  messageIntegritySha256(): Uint8Array | undefined {
    const v = this.get(AttrType.MessageIntegritySha256);
    return v !== undefined && v.length >= 16 && v.length <= 32 && v.length % 4 === 0 ? v : undefined;
  }
  /** The FINGERPRINT value as an unsigned 32-bit number, as received. */
  fingerprint(): number | undefined {
    const v = this.get(AttrType.Fingerprint);
    return v === undefined ? undefined : parseUint32(v);
  }

  // ---- ICE (RFC 8445 §16.1) ----

  /** PRIORITY. */
  priority(): number | undefined {
    return uint32(this, AttrType.Priority);
  }
  /** USE-CANDIDATE present (any value length is tolerated; it is a flag). */
  useCandidate(): boolean {
    return this.offsetOf(AttrType.UseCandidate) >= 0;
  }
  /** ICE-CONTROLLING tie-breaker. */
  iceControlling(): bigint | undefined {
    const v = this.get(AttrType.IceControlling);
    return v === undefined ? undefined : parseUint64(v);
  }
  /** ICE-CONTROLLED tie-breaker. */
  iceControlled(): bigint | undefined {
    const v = this.get(AttrType.IceControlled);
    return v === undefined ? undefined : parseUint64(v);
  }

  // ---- RFC 5780 ----

  /** CHANGE-REQUEST (RFC 5780 §7.2). */
  changeRequest(): { changeIp: boolean; changePort: boolean } | undefined {
    const v = this.get(AttrType.ChangeRequest);
    return v === undefined ? undefined : parseChangeRequest(v);
  }
  /** RESPONSE-PORT (RFC 5780 §7.5). */
  responsePort(): number | undefined {
    const v = this.get(AttrType.ResponsePort);
    return v === undefined ? undefined : parseResponsePort(v);
  }
  /** PADDING (RFC 5780 §7.6): a view of the filler bytes. */
  padding(): Uint8Array | undefined {
    return this.get(AttrType.Padding);
  }

  // ---- TURN (RFC 8656 §18) ----

  /** CHANNEL-NUMBER. */
  channelNumber(): number | undefined {
    const v = this.get(AttrType.ChannelNumber);
    return v === undefined ? undefined : parseChannelNumber(v);
  }
  /** LIFETIME in seconds. */
  lifetime(): number | undefined {
    return uint32(this, AttrType.Lifetime);
  }
  /** DATA: a view of the payload. */
  data(): Uint8Array | undefined {
    return this.get(AttrType.Data);
  }
  /** REQUESTED-ADDRESS-FAMILY. */
  requestedAddressFamily(): 'IPv4' | 'IPv6' | undefined {
    const v = this.get(AttrType.RequestedAddressFamily);
    return v === undefined ? undefined : parseAddressFamily(v);
  }
  /** ADDITIONAL-ADDRESS-FAMILY. */
  additionalAddressFamily(): 'IPv4' | 'IPv6' | undefined {
    const v = this.get(AttrType.AdditionalAddressFamily);
    return v === undefined ? undefined : parseAddressFamily(v);
  }
  /** EVEN-PORT. */
  evenPort(): { reserveNext: boolean } | undefined {
    const v = this.get(AttrType.EvenPort);
    return v === undefined ? undefined : parseEvenPort(v);
  }
  /** REQUESTED-TRANSPORT protocol number (17 = UDP). */
  requestedTransport(): number | undefined {
    const v = this.get(AttrType.RequestedTransport);
    return v === undefined ? undefined : parseRequestedTransport(v);
  }
  /** DONT-FRAGMENT present. */
  dontFragment(): boolean {
    return this.offsetOf(AttrType.DontFragment) >= 0;
  }
  /** RESERVATION-TOKEN: an 8-byte view. */
  reservationToken(): Uint8Array | undefined {
    const v = this.get(AttrType.ReservationToken);
    return v !== undefined && v.length === 8 ? v : undefined;
  }
  /** ICMP. */
  icmp(): { type: number; code: number; data: number } | undefined {
    const v = this.get(AttrType.Icmp);
    return v === undefined ? undefined : parseIcmp(v);
  }
}

// Helpers for the getters, outside the class: a private method (`#name()`) would give every
// message a hidden "brand" slot, one more word to allocate per datagram.

function address(m: StunMessage, type: number, xor: boolean): SocketAddress | undefined {
  const v = m.get(type);
  if (v === undefined) return undefined;
  return readAddress(v, xor ? m.bytes.subarray(4, HEADER_LENGTH) : undefined);
}

function addresses(m: StunMessage, type: number, xor: boolean): SocketAddress[] {
  const key = xor ? m.bytes.subarray(4, HEADER_LENGTH) : undefined;
  const out: SocketAddress[] = [];
  for (const v of m.getAll(type)) {
    const a = readAddress(v, key);
    if (a !== undefined) out.push(a);
  }
  return out;
}

function text(m: StunMessage, type: number): string | undefined {
  const v = m.get(type);
  return v === undefined ? undefined : parseText(v);
}

function uint32(m: StunMessage, type: number): number | undefined {
  const o = m.offsetOf(type);
  if (o < 0) return undefined;
  const b = m.bytes;
  if (b[o + 2] !== 0 || b[o + 3] !== 4) return undefined;
  return ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
}

/** Where the plain attributes end: the first of MI, MI-SHA256, FP present, else the end. */
function tailStart(mi: number, mi256: number, fp: number, n: number): number {
  return mi >= 0 ? mi : mi256 >= 0 ? mi256 : fp >= 0 ? fp : n;
}
