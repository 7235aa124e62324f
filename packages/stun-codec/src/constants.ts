/**
 * Numbers from the STUN registries: methods, classes, attribute types, error codes.
 * RFC 8489 §18, RFC 8656 §17, RFC 8445 §16.1, RFC 5780 §9.
 */

/** The fixed magic cookie in bytes 4..7 of every RFC 5389+ message (RFC 8489 §5). */
export const MAGIC_COOKIE = 0x2112a442;
/** Size of the fixed STUN header (RFC 8489 §5). */
export const HEADER_LENGTH = 20;
/** Size of an attribute's type + length prefix (RFC 8489 §14). */
export const ATTRIBUTE_HEADER_LENGTH = 4;
/** The value FINGERPRINT's CRC-32 is XORed with (RFC 8489 §14.7). */
export const FINGERPRINT_XOR = 0x5354554e;

/** STUN methods (RFC 8489 §18.2, RFC 8656 §17). */
export const Method = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
} as const;

/** The four message classes (RFC 8489 §5). */
export const MessageClass = { Request: 0, Indication: 1, Success: 2, Error: 3 } as const;
export type MessageClass = 0 | 1 | 2 | 3;

/** Attribute types (RFC 8489 §18.3, RFC 8656 §17, RFC 8445 §16.1, RFC 5780 §9). */
export const AttrType = {
  MappedAddress: 0x0001,
  ChangeRequest: 0x0003,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  EvenPort: 0x0018,
  RequestedTransport: 0x0019,
  DontFragment: 0x001a,
  MessageIntegritySha256: 0x001c,
  PasswordAlgorithm: 0x001d,
  Userhash: 0x001e,
  XorMappedAddress: 0x0020,
  ReservationToken: 0x0022,
  Priority: 0x0024,
  UseCandidate: 0x0025,
  Padding: 0x0026,
  ResponsePort: 0x0027,
  AdditionalAddressFamily: 0x8000,
  AddressErrorCode: 0x8001,
  PasswordAlgorithms: 0x8002,
  AlternateDomain: 0x8003,
  Icmp: 0x8004,
  Software: 0x8022,
  AlternateServer: 0x8023,
  CacheTimeout: 0x8027,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
  ResponseOrigin: 0x802b,
  OtherAddress: 0x802c,
} as const;

/**
 * Whether `type` is an attribute this codec understands. Only matters for the
 * comprehension-required range (< 0x8000), whose unknown members must be reported in a
 * 420 response (RFC 8489 §6.3.1).
 */
export function isKnownAttribute(type: number): boolean {
  switch (type) {
    case 0x0001:
    case 0x0003:
    case 0x0006:
    case 0x0008:
    case 0x0009:
    case 0x000a:
    case 0x000c:
    case 0x000d:
    case 0x0012:
    case 0x0013:
    case 0x0014:
    case 0x0015:
    case 0x0016:
    case 0x0017:
    case 0x0018:
    case 0x0019:
    case 0x001a:
    case 0x001c:
    case 0x001d:
    case 0x001e:
    case 0x0020:
    case 0x0022:
    case 0x0024:
    case 0x0025:
    case 0x0026:
    case 0x0027:
      return true;
    default:
      return type >= 0x8000;
  }
}

/** Error codes (RFC 8489 §14.8, RFC 8656 §17, RFC 8445 §16.1). */
export const ErrorCode = {
  TryAlternate: 300,
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  UnknownAttribute: 420,
  AllocationMismatch: 437,
  StaleNonce: 438,
  AddressFamilyNotSupported: 440,
  WrongCredentials: 441,
  UnsupportedTransportProtocol: 442,
  PeerAddressFamilyMismatch: 443,
  AllocationQuotaReached: 486,
  RoleConflict: 487,
  ServerError: 500,
  InsufficientCapacity: 508,
} as const;

/** The reason phrase the RFCs suggest for a standard error code, or `''` when the code is unknown. */
export function reasonPhrase(code: number): string {
  switch (code) {
    case 300:
      return 'Try Alternate';
    case 400:
      return 'Bad Request';
    case 401:
      // RFC 8489 §14.8 renamed RFC 5389's "Unauthorized".
      return 'Unauthenticated';
    case 403:
      return 'Forbidden';
    case 420:
      return 'Unknown Attribute';
    case 437:
      return 'Allocation Mismatch';
    case 438:
      return 'Stale Nonce';
    case 440:
      return 'Address Family not Supported';
    case 441:
      return 'Wrong Credentials';
    case 442:
      return 'Unsupported Transport Protocol';
    case 443:
      return 'Peer Address Family Mismatch';
    case 486:
      return 'Allocation Quota Reached';
    case 487:
      return 'Role Conflict';
    case 500:
      return 'Server Error';
    case 508:
      return 'Insufficient Capacity';
    default:
      return '';
  }
}

/** PASSWORD-ALGORITHM registry (RFC 8489 §18.5). */
export const PasswordAlgorithm = { MD5: 0x0001, SHA256: 0x0002 } as const;

/** Address family bytes used in address attributes (RFC 8489 §14.1). */
export const AddressFamily = { IPv4: 0x01, IPv6: 0x02 } as const;

/** CHANGE-REQUEST flag bits (RFC 5780 §7.2). */
export const ChangeRequestFlag = { ChangeIp: 0x04, ChangePort: 0x02 } as const;

/** Transport protocol number for REQUESTED-TRANSPORT; TURN allows only UDP (RFC 8656 §18.8). */
export const TRANSPORT_UDP = 17;

/** Encodes a method and class into the 14-bit message type (RFC 8489 §5, Appendix A). */
export function messageType(method: number, messageClass: MessageClass): number {
  return (
    ((method & 0x0f80) << 2) |
    ((method & 0x0070) << 1) |
    (method & 0x000f) |
    ((messageClass & 2) << 7) |
    ((messageClass & 1) << 4)
  );
}

/** The method of a 14-bit message type. */
export function methodOf(type: number): number {
  return ((type & 0x3e00) >> 2) | ((type & 0x00e0) >> 1) | (type & 0x000f);
}

/** The class of a 14-bit message type. */
export function classOf(type: number): MessageClass {
  return (((type & 0x0100) >> 7) | ((type & 0x0010) >> 4)) as MessageClass;
}
