import { expect } from 'vitest';
import {
  type DecodeOptions,
  decode,
  MessageBuilder,
  MessageClass,
  Method,
  type StunMessage,
} from '../src/index.ts';

export const TID = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

/** A Binding request with the given raw attributes (no ordering rules applied). */
export function raw(attrs: [number, Uint8Array][], cls: MessageClass = MessageClass.Request): Uint8Array {
  const b = new MessageBuilder().reset(Method.Binding, cls, TID);
  for (const [t, v] of attrs) b.addRaw(t, v);
  return b.build();
}

export function ok(bytes: Uint8Array, options?: DecodeOptions): StunMessage {
  const r = decode(bytes, options);
  if (!r.ok) expect.fail(`decode failed: ${r.error.reason} at ${r.error.offset}: ${r.error.message}`);
  return r.message;
}

export function bytes(...xs: number[]): Uint8Array {
  return new Uint8Array(xs);
}
