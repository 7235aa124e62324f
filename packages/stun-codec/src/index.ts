/**
 * @natkit/stun-codec — a zero-copy STUN codec (RFC 8489, RFC 5389) with the ICE (RFC 8445),
 * NAT behaviour discovery (RFC 5780) and TURN (RFC 8656) attributes, MESSAGE-INTEGRITY,
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT. Synchronous, no I/O, runs in every runtime.
 */
export type { PasswordAlgorithmEntry } from './attributes.ts';
export {
  attributeName,
  MAX_TEXT_BYTES,
} from './attributes.ts';
export { MessageBuilder, type MessageBuilderOptions } from './builder.ts';
export {
  CHANNEL_MAX,
  CHANNEL_MIN,
  type ChannelDataError,
  type ChannelDataErrorReason,
  type ChannelDataResult,
  decodeChannelData,
  encodeChannelData,
  isChannelData,
} from './channel-data.ts';
export {
  AddressFamily,
  ATTRIBUTE_HEADER_LENGTH,
  AttrType,
  ChangeRequestFlag,
  classOf,
  ErrorCode,
  FINGERPRINT_XOR,
  HEADER_LENGTH,
  isKnownAttribute,
  MAGIC_COOKIE,
  MessageClass,
  Method,
  messageType,
  methodOf,
  PasswordAlgorithm,
  reasonPhrase,
  TRANSPORT_UDP,
} from './constants.ts';
export { crc32 } from './crc32.ts';
export { longTermKey, opaqueString, shortTermKey, userhash } from './credentials.ts';
export {
  type DecodeError,
  type DecodeErrorReason,
  type DecodeOptions,
  type DecodeResult,
  decode,
  isStun,
  MAX_UNKNOWN_REQUIRED,
} from './decode.ts';
export { constantTimeEqual, IntegrityKey, type MacAlgorithm } from './integrity-key.ts';
export { type RawAttribute, StunMessage } from './message.ts';
export {
  formatNonceCookie,
  NONCE_COOKIE_PREFIX,
  type NonceCookie,
  parseNonceCookie,
  SecurityFeature,
} from './nonce-cookie.ts';
export { transactionIdKey } from './transaction-id.ts';
export {
  type IntegrityVerdict,
  type Sha256VerifyOptions,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from './verify.ts';
