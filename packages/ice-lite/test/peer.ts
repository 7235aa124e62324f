import type { SocketAddress } from '@natkit/sans-io';
import {
  AttrType,
  decode,
  MessageBuilder,
  MessageClass,
  Method,
  type StunMessage,
  shortTermKey,
  verifyFingerprint,
  verifyMessageIntegrity,
} from '@natkit/stun-codec';

/** Test helper: builds the connectivity checks a full ICE peer would send (RFC 8445 §7.2.2). */
export interface CheckOptions {
  /** USERNAME; default `${serverUfrag}:peer`. */
  username?: string | undefined;
  /** Password keying MESSAGE-INTEGRITY; undefined → no MESSAGE-INTEGRITY. */
  pwd?: string | undefined;
  useCandidate?: boolean;
  controlled?: boolean;
  priority?: number;
  fingerprint?: boolean;
  transactionId?: Uint8Array;
  extra?: [number, Uint8Array][];
}

let counter = 0;
export function tid(): Uint8Array {
  const t = new Uint8Array(12);
  counter++;
  t[0] = counter >>> 24;
  t[1] = counter >>> 16;
  t[2] = counter >>> 8;
  t[3] = counter;
  t[11] = 0x5a;
  return t;
}

export function check(opts: CheckOptions): Uint8Array {
  const b = new MessageBuilder().reset(Method.Binding, MessageClass.Request, opts.transactionId ?? tid());
  if (opts.username !== undefined) b.addUsername(opts.username);
  if (opts.controlled) b.addIceControlled(7n);
  else b.addIceControlling(0x1234567890abcdefn);
  b.addPriority(opts.priority ?? 1862270975);
  if (opts.useCandidate) b.addUseCandidate();
  for (const [t, v] of opts.extra ?? []) b.addRaw(t, v);
  if (opts.pwd !== undefined) b.addMessageIntegrity(shortTermKey(opts.pwd));
  if (opts.fingerprint !== false) b.addFingerprint();
  return b.build();
}

export function parse(bytes: Uint8Array): StunMessage {
  const r = decode(bytes);
  if (!r.ok) throw new Error(`undecodable: ${r.error.message}`);
  return r.message;
}

/** Decodes a response and reports what a test wants to assert. */
export function describeResponse(bytes: Uint8Array, pwd?: string) {
  const m = parse(bytes);
  return {
    class: m.messageClass,
    error: m.errorCode()?.code,
    mapped: m.xorMappedAddress(),
    hasIntegrity: m.has(AttrType.MessageIntegrity),
    hasUsername: m.has(AttrType.Username),
    integrity: pwd === undefined ? undefined : verifyMessageIntegrity(m, shortTermKey(pwd)),
    fingerprint: verifyFingerprint(m),
    transactionId: Array.from(m.transactionId),
    unknown: m.unknownAttributes(),
  };
}

export const v4 = (address: string, port: number): SocketAddress => ({ address, port, family: 'IPv4' });
