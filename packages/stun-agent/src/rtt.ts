/** Tunables of the RFC 6298 estimator. All times in milliseconds. */
export interface RttOptions {
  /** RTO before any sample. RFC 8489 §6.2.1: 500 ms (RFC 6298's 1 s is TCP's). */
  initialRto?: number;
  /**
   * Lower bound on a computed RTO. RFC 8489 keeps STUN's initial RTO at ≥ 500 ms and RFC 8445
   * §14.3 never lets it go below 500 ms, so the default floor is 500 ms rather than TCP's 1 s.
   */
  minRto?: number;
  /**
   * Upper bound on any RTO that is cached or learned. Default 60 000: RFC 6298 §2.5 allows a
   * maximum only "provided it is at least 60 seconds". A lower bound below a path's RTT makes
   * every transaction retransmit, so Karn's rule discards every sample and the RTO never learns.
   */
  maxRto?: number;
  /** Clock granularity G (RFC 6298 §2). */
  granularity?: number;
}

const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;

/**
 * Smoothed round-trip time and retransmission timeout per RFC 6298 §2:
 * first sample R → SRTT = R, RTTVAR = R/2; later samples R′ → RTTVAR = (1−β)·RTTVAR + β·|SRTT − R′|
 * (with the old SRTT), then SRTT = (1−α)·SRTT + α·R′; RTO = SRTT + max(G, K·RTTVAR), clamped.
 */
export class RttEstimator {
  srtt: number | undefined = undefined;
  rttvar: number | undefined = undefined;
  /** The current RTO: initial, computed from samples, or a retained backoff (Karn). */
  rto: number;
  readonly #min: number;
  readonly #max: number;
  readonly #g: number;

  constructor(options: RttOptions = {}) {
    this.#min = options.minRto ?? 500;
    this.#max = options.maxRto ?? 60_000;
    this.#g = options.granularity ?? 1;
    if (!(this.#min > 0) || !(this.#max >= this.#min)) throw new RangeError('RTT: need 0 < minRto <= maxRto');
    this.rto = this.#clamp(options.initialRto ?? 500);
  }

  /** Feed one RTT measurement (never from a retransmitted request — Karn). Returns the new RTO. */
  sample(rtt: number): number {
    const r = Math.max(0, rtt);
    if (this.srtt === undefined || this.rttvar === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = (1 - BETA) * this.rttvar + BETA * Math.abs(this.srtt - r);
      this.srtt = (1 - ALPHA) * this.srtt + ALPHA * r;
    }
    this.rto = this.#clamp(this.srtt + Math.max(this.#g, K * this.rttvar));
    return this.rto;
  }

  /**
   * Karn's algorithm, second half (RFC 6298 §5.5): a transaction that needed retransmissions
   * yields no sample, but the backed-off RTO it reached is kept for the next one until a
   * valid sample collapses it again.
   */
  retainBackoff(rto: number): void {
    this.rto = this.#clamp(Math.max(this.rto, rto));
  }

  #clamp(rto: number): number {
    return Math.min(this.#max, Math.max(this.#min, rto));
  }
}
