/**
 * Interleaved rounds, for benchmarks that compare cases against each other ("is 100k as cheap as
 * 1k?") on a shared, noisy machine.
 *
 * This machine's speed drifts by ±30 % over seconds to minutes (other tenants), so timing case A
 * for a while and then case B measures the drift as much as the cases. Here every round runs one
 * batch of every case back to back, in an order that rotates from round to round, and each
 * case's cost is compared with the first case's *in the same round*; the median of those
 * per-round ratios is the figure. Time is the process's CPU time (`process.cpuUsage`, all
 * threads, so GC helper threads count), which ignores time spent descheduled.
 */

/**
 * Which busy sessions a scaling bench sends its checks to: the `newest` (a server's busy
 * sessions are mostly its recent ones), or ones `spread` evenly over the whole table (the
 * harder case for caches: every busy session sits among idle ones).
 */
export type BusyLayout = 'newest' | 'spread';

/**
 * The grid the session-scaling benches time: the smallest table (every session busy when the
 * busy set is that large), then 10k and 100k with each layout.
 */
export const SCALING_GRID: readonly { n: number; layout: BusyLayout }[] = [
  { n: 1_000, layout: 'spread' },
  { n: 10_000, layout: 'newest' },
  { n: 100_000, layout: 'newest' },
  { n: 10_000, layout: 'spread' },
  { n: 100_000, layout: 'spread' },
];

/** A case name for a grid point: `1000 agents`, `100000 agents, busy ones the newest`… */
export function scalingName(n: number, layout: BusyLayout, noun: string): string {
  if (n === SCALING_GRID[0]!.n) return `${n} ${noun}`;
  return `${n} ${noun}, busy ones ${layout === 'spread' ? 'spread over the table' : 'the newest'}`;
}

/** The index of the `k`-th busy session (0 ≤ k < busy) in a table of `n`. */
export function busyIndex(k: number, n: number, busy: number, layout: BusyLayout): number {
  return layout === 'spread' ? Math.floor((k * n) / busy) : n - busy + k;
}

/** One case: `op` is one unit of work (one check, one datagram…). */
export interface RoundCase {
  name: string;
  op: () => void;
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
  /** This case's cost over the first case's, per round: median, min and max. */
  ratio: { median: number; min: number; max: number };
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
    const ratios = mine.map((v, r) => v / ns[0]![r]!);
    return {
      name: c.name,
      ns: { median: quantile(mine, 0.5), p25: quantile(mine, 0.25), p75: quantile(mine, 0.75) },
      ratio: { median: quantile(ratios, 0.5), min: Math.min(...ratios), max: Math.max(...ratios) },
    };
  });
}

/** One line per case: ns per op (median, IQR) and the ratio to the first case. */
export function formatRounds(results: readonly RoundResult[], unit = 'op'): string[] {
  return results.map(
    (r) =>
      `${r.name}: ${(r.ns.median / 1000).toFixed(2)} µs/${unit} (IQR ${(r.ns.p25 / 1000).toFixed(2)}–${(r.ns.p75 / 1000).toFixed(2)}), ` +
      `×${r.ratio.median.toFixed(2)} of ${results[0]!.name} (per-round ${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})`,
  );
}

function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
}
