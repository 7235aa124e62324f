/**
 * When to retransmit and when to give up (RFC 8489 §6.2.1 / §6.2.2).
 *
 * - UDP: the first retransmission after RTO, doubling each time, `rc` sends in total; after the
 *   last send wait `rm` × RTO (the *initial* RTO), then fail. Defaults RTO 500 ms, Rc 7, Rm 16:
 *   sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, failure at 39.5 s.
 * - Reliable transports (TCP/TLS): one send, fail after Ti (default 39.5 s).
 */
export interface RetransmitPolicy {
  transport: 'udp' | 'reliable';
  /** Total number of sends over UDP (Rc). */
  rc: number;
  /** Final wait as a multiple of the initial RTO over UDP (Rm). */
  rm: number;
  /** Transaction timeout over reliable transports (Ti), ms. */
  ti: number;
}

export const DEFAULT_POLICY: RetransmitPolicy = { transport: 'udp', rc: 7, rm: 16, ti: 39_500 };

/** What happens after the `sends`-th send (1-based) of a request whose initial RTO is `rto`. */
export type NextStep = { action: 'retransmit'; delay: number } | { action: 'fail'; delay: number };

export function nextStep(policy: RetransmitPolicy, rto: number, sends: number): NextStep {
  if (policy.transport === 'reliable') return { action: 'fail', delay: policy.ti };
  if (sends < policy.rc) return { action: 'retransmit', delay: rto * 2 ** (sends - 1) };
  return { action: 'fail', delay: policy.rm * rto };
}

/** The whole schedule as offsets from the first send: handy for docs, tests and ICE pacing. */
export function retransmitSchedule(
  policy: RetransmitPolicy,
  rto: number,
): { sends: number[]; failAt: number } {
  const sends = [0];
  let t = 0;
  for (;;) {
    const step = nextStep(policy, rto, sends.length);
    t += step.delay;
    if (step.action === 'fail') return { sends, failAt: t };
    sends.push(t);
  }
}

/** Validates a policy (programmer error → throw). */
export function checkPolicy(p: RetransmitPolicy): RetransmitPolicy {
  if (!Number.isInteger(p.rc) || p.rc < 1)
    throw new RangeError('retransmit policy: rc must be an integer >= 1');
  if (!(p.rm > 0)) throw new RangeError('retransmit policy: rm must be > 0');
  if (!(p.ti > 0)) throw new RangeError('retransmit policy: ti must be > 0');
  return p;
}
