import type { Rng } from './random.ts';

/**
 * How a network treats each datagram crossing it (one hop: sender → receiver, or to/from a NAT).
 * All probabilities are per datagram and drawn from the network's own seeded stream.
 */
export interface LinkConditions {
  /** Mean one-way delay, ms. */
  latency: number;
  /** Delay varies uniformly in `[latency - jitter, latency + jitter]` (clamped at 0), ms. Jitter alone reorders. */
  jitter: number;
  /** Probability that a datagram is lost. */
  loss: number;
  /** Probability that a datagram is delivered twice (the copy gets its own delay). */
  duplicate: number;
  /** Probability that a datagram is held back by `reorderDelay`, so later ones overtake it. */
  reorder: number;
  /** Extra delay of a reordered datagram, ms. */
  reorderDelay: number;
  /** Largest datagram (payload bytes) the network carries; bigger ones are dropped as `too-big`. */
  mtu: number;
}

/** A lossless, instantaneous link: the default for every network. */
export const PERFECT_LINK: Readonly<LinkConditions> = Object.freeze({
  latency: 0,
  jitter: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelay: 0,
  mtu: Number.POSITIVE_INFINITY,
});

/** Fills in defaults and rejects nonsense (negative delays, probabilities outside [0, 1]). */
export function resolveLink(
  base: Readonly<LinkConditions>,
  options: Partial<LinkConditions>,
): LinkConditions {
  const c: LinkConditions = { ...base };
  for (const [k, v] of Object.entries(options) as [keyof LinkConditions, number | undefined][]) {
    if (v !== undefined) c[k] = v;
  }
  if (options.reorderDelay === undefined && options.reorder !== undefined && c.reorderDelay === 0) {
    // A reorder with no extra delay would reorder nothing.
    c.reorderDelay = Math.max(1, c.latency);
  }
  for (const k of ['latency', 'jitter', 'reorderDelay', 'mtu'] as const) {
    if (!(c[k] >= 0)) throw new RangeError(`link ${k} must be >= 0, got ${c[k]}`);
  }
  for (const k of ['loss', 'duplicate', 'reorder'] as const) {
    if (!(c[k] >= 0 && c[k] <= 1)) throw new RangeError(`link ${k} must be in [0, 1], got ${c[k]}`);
  }
  return c;
}

/** One draw of a datagram's delay over a link. */
export function sampleDelay(c: LinkConditions, rng: Rng): number {
  let d = c.latency;
  if (c.jitter > 0) d = Math.max(0, d + rng.uniform(-c.jitter, c.jitter));
  if (rng.chance(c.reorder)) d += c.reorderDelay;
  return d;
}
