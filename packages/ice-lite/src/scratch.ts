import type { Transmit } from '@natkit/sans-io';
import { IntegrityKey, MessageBuilder, shortTermKey } from '@natkit/stun-codec';

/**
 * One response builder shared by every agent in the process, so an idle session owns no
 * buffer. Its output is handed out as a *view*: the transmit that currently references the
 * builder's buffer is remembered, and copied out only if another message must be built before
 * that transmit was polled (the contract lets a machine reuse a buffer once its transmit was
 * polled). One request in, one response out — the common case — allocates no payload.
 */
const builder = new MessageBuilder({ initialCapacity: 256 });
let holder: Transmit | undefined;

/** The shared builder, after detaching the previous unpolled view (if any) into its own copy. */
export function scratchBuilder(): MessageBuilder {
  if (holder !== undefined) {
    holder.payload = holder.payload.slice();
    holder = undefined;
  }
  return builder;
}

/** Records that `t.payload` is the shared builder's view. */
export function holdView(t: Transmit): void {
  holder = t;
}

/** Called when `t` leaves a machine through `pollTransmit`: its view is now the driver's. */
export function releaseView(t: Transmit): void {
  if (holder === t) holder = undefined;
}

/**
 * A bounded cache of MESSAGE-INTEGRITY keys by password, shared by all agents: an
 * {@link IntegrityKey} carries cached HMAC state (hundreds of bytes), which an idle session
 * should not pay for. Active sessions hit the cache; eviction is first-in-first-out (cheaper
 * than LRU and good enough: an evicted key is rebuilt in a few microseconds).
 */
const keys = new Map<string, IntegrityKey>();
let keyCapacity = 16384;

/** The integrity key for `password` (short-term: OpaqueString, UTF-8 — RFC 8489 §9.1.1). */
export function integrityKey(password: string): IntegrityKey {
  let k = keys.get(password);
  if (k === undefined) {
    k = new IntegrityKey(shortTermKey(password));
    if (keys.size >= keyCapacity) {
      const oldest = keys.keys().next();
      if (!oldest.done) keys.delete(oldest.value);
    }
    keys.set(password, k);
  }
  return k;
}

/** Sets how many integrity keys the process-wide cache keeps (default 16384). */
export function setIntegrityKeyCacheSize(entries: number): void {
  if (!Number.isInteger(entries) || entries < 1)
    throw new RangeError('cache size must be a positive integer');
  keyCapacity = entries;
  while (keys.size > keyCapacity) {
    const oldest = keys.keys().next();
    if (oldest.done) break;
    keys.delete(oldest.value);
  }
}
