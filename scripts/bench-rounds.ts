/**
 * Interleaved rounds, for benchmarks that compare cases against each other ("is 100k as cheap as
 * 1k?") on a shared, noisy machine.
 *
 * This machine's speed drifts by ±30 % over seconds to minutes (other tenants), so timing case A
 * for a while and then case B measures the drift as much as the cases. Here every round runs one
 * batch of every case back to back, in an order that rotates from round to round, and each
 * case's cost is compared with its baseline case's (the first, unless it names another) *in
 * the same round*; the median of those
 * per-round ratios is the figure. Short batches and many rounds work best: the host moves
 * between faster and slower stretches of roughly 100 ms, and a round that fits inside one
 * stretch compares like with like. Time is the process's CPU time (`process.cpuUsage`, all
 * threads, so GC helper threads count), which ignores time spent descheduled.
 */

/**
 * Which busy sessions a scaling bench sends its checks to: the `newest` (a server's busy
 * sessions are mostly its recent ones), or ones `spread` over the whole table at random (the
 * harder case for caches: every busy session sits among idle ones, so the memory a check
 * touches is scattered; random rather than evenly spaced, since a fixed stride between them
 * would also make their addresses collide in the same cache sets, which real traffic does not).
 */
export type BusyLayout = 'newest' | 'spread';

/**
 * The grid the session-scaling benches time: each layout at 1k, 10k and 100k sessions, each
 * point compared with the same layout at 1k (its `baseline`, an index into the grid).
 */
export const SCALING_GRID: readonly { n: number; layout: BusyLayout; baseline: number }[] = (
  ['newest', 'spread'] as const
).flatMap((layout, l) => [1_000, 10_000, 100_000].map((n) => ({ n, layout, baseline: 3 * l })));

/** A case name for a grid point: `100000 sessions, busy ones the newest`… */
export function scalingName(n: number, layout: BusyLayout, noun: string): string {
  return `${n} ${noun}, busy ones ${layout === 'spread' ? 'scattered at random' : 'the newest'}`;
}

/** The index of the `k`-th busy session (0 ≤ k < busy) in a table of `n`. */
export function busyIndex(k: number, n: number, busy: number, layout: BusyLayout): number {
  if (layout === 'newest') return n - busy + k;
  return randomPicks(n, busy)[k]!;
}

const picks = new Map<string, number[]>();
/** `busy` distinct indices below `n`, drawn with a fixed seed (xorshift32). */
function randomPicks(n: number, busy: number): number[] {
  const key = `${n}/${busy}`;
  let out = picks.get(key);
  if (out !== undefined) return out;
  const seen = new Set<number>();
  let x = 0x9e3779b9;
  while (seen.size < busy) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    seen.add((x >>> 0) % n);
  }
  out = [...seen];
  picks.set(key, out);
  return out;
}

/** One case: `op` is one unit of work (one check, one datagram…). */
export interface RoundCase {
  name: string;
  op: () => void;
  /** The case this one's ratio is taken against (an index into the cases; default 0). */
  baseline?: number;
}

export interface RoundsOptions {
  /** Rounds (default 15). */
  rounds?: number;
  /** Calls of `op` per batch (default 5000). */
  batch?: number;
  /** Untimed rounds first, to let the JIT settle (default 2). */
  warmupRounds?: number;
}

export interface RoundResult {
  name: string;
  /** Median CPU nanoseconds per op over the rounds, and the interquartile range. */
  ns: { median: number; p25: number; p75: number };
  /** This case's cost over its baseline's, per round: median, min and max. */
  ratio: { median: number; min: number; max: number };
  /** The name of the case the ratio is against. */
  baseline: string;
}

export function interleavedRounds(cases: readonly RoundCase[], options: RoundsOptions = {}): RoundResult[] {
  const rounds = options.rounds ?? 15;
  const batch = options.batch ?? 5000;
  const warmup = options.warmupRounds ?? 2;
  const ns: number[][] = cases.map(() => []);
  for (let r = -warmup; r < rounds; r++) {
    const perOp: number[] = new Array(cases.length).fill(0);
    for (let k = 0; k < cases.length; k++) {
      const c = (k + Math.max(r, 0)) % cases.length;
      const op = cases[c]!.op;
      const t0 = process.cpuUsage();
      for (let i = 0; i < batch; i++) op();
      const t = process.cpuUsage(t0);
      perOp[c] = ((t.user + t.system) * 1000) / batch;
    }
    if (r >= 0) for (let c = 0; c < cases.length; c++) ns[c]!.push(perOp[c]!);
  }
  return cases.map((c, k) => {
    const mine = ns[k]!;
    const base = c.baseline ?? 0;
    const ratios = mine.map((v, r) => v / ns[base]![r]!);
    return {
      name: c.name,
      baseline: cases[base]!.name,
      ns: { median: quantile(mine, 0.5), p25: quantile(mine, 0.25), p75: quantile(mine, 0.75) },
      ratio: { median: quantile(ratios, 0.5), min: Math.min(...ratios), max: Math.max(...ratios) },
    };
  });
}

/** One line per case: ns per op (median, IQR) and the ratio to its baseline. */
export function formatRounds(results: readonly RoundResult[], unit = 'op'): string[] {
  return results.map(
    (r) =>
      `${r.name}: ${(r.ns.median / 1000).toFixed(2)} µs/${unit} (IQR ${(r.ns.p25 / 1000).toFixed(2)}–${(r.ns.p75 / 1000).toFixed(2)}), ` +
      `×${r.ratio.median.toFixed(2)} of ${r.baseline} (per-round ${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})`,
  );
}

function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
}
