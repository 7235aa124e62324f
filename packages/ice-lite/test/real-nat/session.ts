/**
 * Signalling for `real-nat.test.ts` (test side): starts the peers in their namespaces, relays
 * credentials, trickled candidates and end-of-candidates between them (RFC 8838), waits until
 * each has settled and collects their reports.
 */
import type { SocketAddress } from '@natkit/sans-io';
import { parseCandidate } from '../../src/index.ts';
import type { Lab } from './lab.ts';
import type { ControlMessage, PeerConfig, PeerMessage, PeerReport } from './peer.ts';

/** One side of a session: where it runs and how its agent is configured. */
export interface Side {
  ns: string;
  config: PeerConfig;
}

/** A running peer. */
export type PeerProc = ReturnType<typeof spawnPeer>;

function spawnPeer(lab: Lab, side: Side) {
  return lab.spawn<PeerMessage, ControlMessage>(side.ns, PEER, [JSON.stringify(side.config)]);
}

/** A fresh report of the peer's agent. */
export async function report(p: PeerProc): Promise<PeerReport> {
  const r = p.next((m) => m.type === 'report', 5000);
  p.send({ type: 'report' });
  const m = await r;
  if (m.type !== 'report') throw new Error('unreachable');
  return m.report;
}

/**
 * Application data both ways on the selected pairs: each side sends a datagram, and the other
 * must receive it from the address it selected as the sender's (RFC 8445 §12.1).
 */
export async function exchangeData(a: PeerProc, b: PeerProc): Promise<{ atA: string; atB: string }> {
  const from = async (src: PeerProc, dst: PeerProc, text: string) => {
    const got = dst.next((m) => m.type === 'data' && m.text === text, 5000);
    src.send({ type: 'send', text });
    const m = await got;
    return m.type === 'data' ? m.from : '';
  };
  const atB = await from(a, b, 'a → b');
  const atA = await from(b, a, 'b → a');
  return { atA, atB };
}

export interface Outcome {
  /** Every message, in order (candidates, states, selected pairs, learnt prflx candidates). */
  messages: PeerMessage[];
  /** The states the agent went through. */
  states: string[];
  /** Its server-reflexive candidates' addresses (`ip:port`). */
  srflx: string[];
  /**
   * ms from the arrival of the peer's credentials (when checks and the PAC timer start) to the
   * agent's final state (`completed`, `connected` for lite, or `failed`).
   */
  settledAfter: number;
  report: PeerReport;
}

const PEER = 'peer.ts';

const isState = (wanted: readonly string[]) => (m: PeerMessage) =>
  m.type === 'state' && wanted.includes(m.state);

/** The `ip:port` of an SDP candidate attribute. */
export function candidateAddress(line: string): string {
  const r = parseCandidate(line);
  if (!r.ok) throw new Error(`bad candidate ${line}`);
  return `${r.candidate.address.address}:${r.candidate.address.port}`;
}

export const udp = (address: string, port: number): SocketAddress => ({ address, port, family: 'IPv4' });

/**
 * Runs one ICE session between `a` (the offerer) and `b` (the answerer) and waits (up to
 * `timeout` ms) until both agents settled: full agents at `completed` or `failed`, a lite one at
 * `connected` or `failed`. Everything `b` says reaches `a` `answerDelay` ms late, as in
 * offer/answer, where the answerer has the offer (and starts checking) before the offerer has
 * the answer; it also fixes which side's checks reach the other's NAT first.
 */
export async function session(
  lab: Lab,
  a: Side,
  b: Side,
  timeout: number,
  answerDelay = 0,
): Promise<{ a: Outcome; b: Outcome; pa: PeerProc; pb: PeerProc }> {
  const pa = spawnPeer(lab, a);
  const pb = spawnPeer(lab, b);
  const hello = (m: PeerMessage): m is Extract<PeerMessage, { type: 'hello' }> => m.type === 'hello';
  const [ha, hb] = await Promise.all([pa.waitFor(hello, 30_000), pb.waitFor(hello, 30_000)]);
  const toA = (m: ControlMessage) =>
    answerDelay > 0 ? setTimeout(() => pa.send(m), answerDelay) : pa.send(m);
  const toB = (m: ControlMessage) => pb.send(m);
  // Offer/answer: credentials and host candidates; then everything else trickled as it comes.
  for (const [to, h] of [
    [toA, hb],
    [toB, ha],
  ] as const) {
    to({ type: 'remote', ufrag: h.ufrag, pwd: h.pwd });
    for (const candidate of h.candidates) to({ type: 'candidate', candidate });
  }
  for (const [from, to, fromConfig] of [
    [pa, toB, a.config],
    [pb, toA, b.config],
  ] as const) {
    from.onMessage((m) => {
      if (m.type === 'candidate') to({ type: 'candidate', candidate: m.candidate });
      if (m.type === 'gathering-complete') to({ type: 'end-of-candidates' });
    });
    // A lite agent gathers nothing: its host candidate was all of it (RFC 8838 §14).
    if (fromConfig.mode === 'lite') to({ type: 'end-of-candidates' });
  }
  const outcome = async (p: typeof pa, side: Side): Promise<Outcome> => {
    const final = side.config.mode === 'lite' ? ['connected', 'failed'] : ['completed', 'failed'];
    const settled = await p.waitFor(isState(final), timeout);
    const r = await report(p);
    const messages = [...p.messages];
    return {
      messages,
      states: messages.flatMap((m) => (m.type === 'state' ? [m.state] : [])),
      srflx: messages.flatMap((m) =>
        m.type === 'candidate' && m.candidate.includes(' typ srflx') ? [candidateAddress(m.candidate)] : [],
      ),
      settledAfter: (settled.type === 'state' ? settled.t : Number.NaN) - (r.credentialsAt ?? Number.NaN),
      report: r,
    };
  };
  const [oa, ob] = await Promise.all([outcome(pa, a), outcome(pb, b)]);
  return { a: oa, b: ob, pa, pb };
}
