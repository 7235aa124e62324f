import type { Machine, RandomSource, SocketAddress, Transmit } from '@natkit/sans-io';
import {
  DEFAULT_POLICY,
  retransmitSchedule,
  StunClient,
  type StunClientEvent,
  transactionIdHex,
} from '@natkit/stun-agent';
import {
  AttrType,
  decode,
  ErrorCode,
  type MessageBuilder,
  MessageClass,
  Method,
  type StunMessage,
  verifyFingerprint,
  verifyMessageIntegrity,
} from '@natkit/stun-codec';
import {
  type Candidate,
  candidateFoundation,
  candidatePriority,
  hostCandidate,
  pairPriority,
  sameAddress,
} from './candidate.ts';
import { Checklist } from './checklist.ts';
import { assertCredentials, defaultRandom, generateCredentials, type IceCredentials } from './credentials.ts';
import { freshString } from './fresh.ts';
import { type CandidatePair, prflxPriority } from './pair.ts';
import { holdView, integrityKey, releaseView, scratchBuilder } from './scratch.ts';
import type { IceAgentStats, IceEvent, IceMode, IceRole, IceState, InputVerdict } from './types.ts';

/** Options of {@link IceAgent}. Every field has an RFC-backed default. */
export interface IceAgentOptions {
  /** `lite` (default) answers checks only (RFC 8445 §2.5); `full` also gathers, checks and nominates. */
  mode?: IceMode;
  /** Our ufrag/pwd; generated from `random` when absent (RFC 8839 §5.4). */
  credentials?: IceCredentials;
  /** Randomness for credentials, tie-breakers, transaction IDs and consent jitter; defaults to Web Crypto. */
  random?: RandomSource;
  /**
   * Full mode: the initial role (RFC 8445 §6.1.1 — the initiator controls, and a full agent
   * controls against a lite peer). Default `controlling`. Lite agents are always controlled.
   */
  role?: IceRole;
  /** Full mode: STUN servers to gather server-reflexive candidates from (RFC 8445 §5.1.1.2). */
  stunServers?: readonly SocketAddress[];
  /** Full mode: pacing interval Ta between new transactions (RFC 8445 §14.2). Default 50 ms. */
  ta?: number;
  /** Full mode: cap on candidate pairs (RFC 8445 §6.1.2.5). Default 100. */
  maxPairs?: number;
  /**
   * Full mode, controlling: how long to wait for higher-priority pairs after the first valid
   * pair before nominating the best valid pair anyway (regular nomination, RFC 8445 §8.1.1
   * leaves the stopping criterion to the implementation). Default 1000 ms.
   */
  nominationDelay?: number;
  /**
   * Full mode: base interval of consent checks, randomised to 0.8–1.2× (RFC 7675 §5.1). Default
   * 5000 ms, which is also the least accepted: a shorter one is raised to it, so that no gap is
   * below RFC 7675's 4 s.
   */
  consentInterval?: number;
  /**
   * RFC 7675 §5.1: consent expires 30 s after the last authenticated check received (lite) or,
   * full, 30 s after the *sending* of the last consent request that got a valid response ("no
   * response to the requests sent in the last 30 seconds"); the agent then reports `failed`.
   * An authenticated 403 to a consent request revokes consent at once (RFC 7675 §5.2).
   */
  consentTimeout?: number;
  /**
   * How long without that before reporting `disconnected` (it recovers when consent is seen
   * again). Not an RFC number: two missed consent intervals (4–6 s each) plus slack. Default 12000 ms
   * (or `consentTimeout`, if shorter).
   */
  disconnectedTimeout?: number;
  /**
   * Full mode: the PAC timer (RFC 8863). A checklist with no pair left to check — none formed
   * (every remote candidate unusable: an mDNS name, another address family) or all Failed — is
   * not concluded `failed` until this long after the agent has the peer's credentials (counted
   * from the first `handleTimeout` after `setRemoteCredentials`, which takes no `now`), because
   * the peer's checks can still bring peer-reflexive pairs (RFC 8445 §7.3.1.4). Default 39.5 s,
   * the Binding transaction timeout, as RFC 8863 §4 advises.
   */
  pacTimeout?: number;
  /** Bound on remote candidates (signalled + peer-reflexive); more are refused and counted. Default 64. */
  maxRemoteCandidates?: number;
  /** Bound on queued transmits; more are dropped and counted. Default 64. */
  maxQueuedTransmits?: number;
}

/** The selected pair (RFC 8445 §8.1.1): candidates by value, so an ICE restart can flush the arrays. */
interface Selected {
  local: Candidate;
  remote: Candidate;
  /**
   * What `selectedPair` returns, made on its first read: one object per selection, so a
   * caller reading it per datagram allocates nothing, and a session nobody asks holds none.
   */
  view: { readonly local: Candidate; readonly remote: Candidate } | undefined;
  /**
   * Time consent was last known fresh on this 5-tuple (RFC 7675): when an authenticated check
   * arrived (lite), when the pair was selected, or when a consent request that got a valid
   * response was sent (full, §5.1).
   */
  refreshedAt: number;
}

/** What a StunClient request of a full agent was for. */
type Outstanding =
  | { kind: 'gather'; base: Candidate; server: SocketAddress }
  | {
      kind: 'check';
      pair: CandidatePair;
      /** Sent with USE-CANDIDATE. */
      nominate: boolean;
      /**
       * A nomination check in the sense of RFC 8445 §7.2.5.3.4: the controlling side's
       * USE-CANDIDATE check, or the controlled side's check triggered by a USE-CANDIDATE request.
       * Its failure fails the checklist.
       */
      nomination: boolean;
      controlling: boolean;
      generation: number;
    }
  | { kind: 'consent'; sentAt: number };

/** A check transaction cancelled by a triggered check whose response is still awaited (§7.3.1.4). */
interface CancelledCheck {
  pair: CandidatePair;
  generation: number;
  /** When the transaction would have timed out: later responses are ignored. */
  until: number;
}

/** Full-mode state; absent in lite agents so an idle lite session stays small. */
interface FullState {
  role: IceRole;
  /** RFC 8445 §7.1.1: 64-bit random tie-breaker for role conflicts. */
  tieBreaker: bigint;
  client: StunClient;
  stunServers: readonly SocketAddress[];
  ta: number;
  maxPairs: number;
  nominationDelay: number;
  consentInterval: number;
  /** The checklist (RFC 8445 §6.1.2) and its triggered-check queue; replaced by a restart. */
  checklist: Checklist;
  outstanding: Map<string, Outstanding>;
  /**
   * Check transactions cancelled by a triggered check (RFC 8445 §7.3.1.4): no more
   * retransmissions, no failure on timeout, but a response within the transaction timeout is
   * still used. Keyed by request id; lazily allocated, pruned lazily, bounded by `maxPairs`.
   */
  cancelled: Map<string, CancelledCheck> | undefined;
  /** Gathering requests not sent yet (paced by Ta, RFC 8445 §5.1.1). */
  gatherQueue: { base: Candidate; server: SocketAddress }[];
  gathersPending: number;
  gathering: 'new' | 'gathering' | 'complete';
  /** Time of the last paced transaction; the next one is due Ta later. */
  lastPaced: number;
  /** Controlling: the pair a USE-CANDIDATE check is (about to be) sent for. */
  nominating: CandidatePair | undefined;
  /** Controlling: when the first pair succeeded (starts `nominationDelay`). */
  firstValidAt: number | undefined;
  /** A pair was nominated: ordinary checks end (RFC 8445 §8.1.2). */
  concluded: boolean;
  nextConsentAt: number;
  /** Bumped by every restart; responses to checks of an older generation are ignored. */
  generation: number;
  /** RFC 8863's PAC timer: how long it runs ({@link IceAgentOptions.pacTimeout}). */
  pacTimeout: number;
  /**
   * The PAC timer: `idle` without the peer's credentials; `pending` once they are set, until
   * the next `handleTimeout` supplies the time it starts at (setting credentials takes no
   * `now`); then the time it expires; `expired` after that. Failure waits for `expired`.
   */
  pac: 'idle' | 'pending' | number | 'expired';
}

const EMPTY: readonly Candidate[] = Object.freeze([]);

/**
 * The part of an agent a check reads or writes (see `IceAgent.#hot`). Field order is memory
 * layout: V8 lays an object literal's fields out in the order written, so the fields a lite
 * check reads come first and share the record's first cache lines.
 */
interface HotState {
  state: IceState;
  /** Last `now` seen (full mode schedules paced work relative to it). */
  now: number;
  /** Full-mode state; absent in lite agents. */
  full: FullState | undefined;
  /** Current local credentials (RFC 8445 §5.3). */
  local: IceCredentials;
  /** Credentials before the last `restart()`, honoured until the peer uses the new ones (§9). */
  previous: IceCredentials | undefined;
  /** Whether the peer has authenticated with `local` yet. */
  localUsed: boolean;
  localCandidates: Candidate[];
  /** Lazily allocated: an idle session with no remote candidates owns no array. */
  remoteCandidates: Candidate[] | undefined;
  selected: Selected | undefined;
  /** Transmit queue: the head in a field, the rest in an array allocated only when two pile up. */
  outHead: Transmit | undefined;
  outRest: Transmit[] | undefined;
  outCount: number;
  maxOut: number;
  /** Event queue; dropped once drained so an idle session holds no array. */
  events: IceEvent[] | undefined;
  consentTimeout: number;
  disconnectedTimeout: number;
  checksAnswered: number;
  errorsSent: number;
  dropped: number;
  transmitsDropped: number;
}

function newHotState(
  local: IceCredentials,
  maxOut: number,
  consentTimeout: number,
  disconnectedTimeout: number,
): HotState {
  return {
    state: 'new',
    now: 0,
    full: undefined,
    local,
    previous: undefined,
    localUsed: false,
    localCandidates: [],
    remoteCandidates: undefined,
    selected: undefined,
    outHead: undefined,
    outRest: undefined,
    outCount: 0,
    maxOut,
    events: undefined,
    consentTimeout,
    disconnectedTimeout,
    checksAnswered: 0,
    errorsSent: 0,
    dropped: 0,
    transmitsDropped: 0,
  };
}

/**
 * A fresh copy of `h`. The literal lists the fields in `newHotState`'s order, so both share one
 * hidden class (a spread copy would get another), and the type makes a forgotten field an error.
 */
function copyHotState(h: HotState): HotState {
  return {
    state: h.state,
    now: h.now,
    full: h.full,
    local: h.local,
    previous: h.previous,
    localUsed: h.localUsed,
    localCandidates: h.localCandidates,
    remoteCandidates: h.remoteCandidates,
    selected: h.selected,
    outHead: h.outHead,
    outRest: h.outRest,
    outCount: h.outCount,
    maxOut: h.maxOut,
    events: h.events,
    consentTimeout: h.consentTimeout,
    disconnectedTimeout: h.disconnectedTimeout,
    checksAnswered: h.checksAnswered,
    errorsSent: h.errorsSent,
    dropped: h.dropped,
    transmitsDropped: h.transmitsDropped,
  };
}

/**
 * An ICE agent (RFC 8445) as a sans-IO {@link Machine}.
 *
 * **Lite** (RFC 8445 §2.5, §5.2, §7.3, §8.2): owns host candidates given by the caller, answers
 * connectivity checks authenticated with short-term credentials (USERNAME
 * `localUfrag:remoteUfrag`, key = local password, MESSAGE-INTEGRITY + FINGERPRINT), learns
 * peer-reflexive remote candidates, selects the pair a USE-CANDIDATE check nominates, and tracks
 * consent freshness on it (RFC 7675). It never sends a request.
 *
 * **Full** (RFC 8445 §5–§8): additionally gathers server-reflexive candidates through STUN
 * Binding transactions, pairs trickled remote candidates (RFC 8838), runs the checklist
 * (Frozen/Waiting/In-Progress/Succeeded/Failed, Ta pacing, triggered checks — one for a pair
 * already In-Progress cancels its transaction, whose response is still used, §7.3.1.4 — a pair cap),
 * resolves role conflicts with the 64-bit tie-breaker (487 sent and handled), nominates
 * (regular nomination) or accepts nominations, and sends consent checks every 4–6 s (RFC 7675).
 * Every check is one {@link StunClient} transaction.
 *
 * Deviations and interpretations, written down:
 * - A later nomination replaces the selected pair (a peer re-nominating, e.g. Chromium after a
 *   network change), instead of RFC 8445 §8.1.1's "highest-priority nominated pair" rule.
 * - A lite agent is always controlled against a full peer (§6.1.1); a request carrying
 *   ICE-CONTROLLED (the peer also thinks it is controlled) is answered with 487 so the full
 *   peer switches to controlling (§7.2.5.1) — the lite side cannot take the controlling role.
 * - Requests without FINGERPRINT are dropped silently (§7.3 makes it mandatory).
 * - After consent expired (`failed`), nominations are ignored until `restart()` (RFC 7675 §5.1).
 * - Full mode: the valid pair recorded for a successful check is the checked pair itself (data
 *   is always sent from the base, §12.1.1); a peer-reflexive *local* candidate discovered from
 *   the mapped address is kept in `localCandidates` but never paired.
 * - Full mode: consent checks (RFC 7675) double as the §11 keepalives, so no Binding
 *   indications are sent on the selected pair.
 * - One component, one data stream (rtcp-mux + BUNDLE, what WebRTC uses); UDP; no relays.
 * - No lite↔lite sessions (§6.1.1 has the initiating lite side control without checks): a
 *   lite agent only answers a full peer.
 */
export class IceAgent implements Machine<IceEvent> {
  /**
   * Everything a check reads or writes, in one record that is the agent's first field. The
   * record is allocated afresh when the peer first authenticates (see `#rehome`), so the state of
   * the sessions that are busy sits together in memory, allocated at about the same time,
   * rather than scattered among the idle sessions created around each of them: with 100k
   * sessions and the busy ones spread among them at random, a check cost 1.25× what it costs
   * with 1k before this, because each one read the agent's state from cold cache lines.
   */
  #hot: HotState;
  // Counters as plain fields: one object less per session (see `stats`).
  #remoteCandidatesRefused = 0;
  #checksSent = 0;

  /** `lite` or `full` (RFC 8445 §2.5). */
  readonly mode: IceMode;
  #random: RandomSource;
  #remote: IceCredentials | undefined;
  /** Remote credentials consent checks on the selected pair keep using across a restart (RFC 7675 §5.1). */
  #consentRemote: IceCredentials | undefined;
  #endOfCandidates = false;
  #maxRemote: number;

  constructor(options: IceAgentOptions = {}) {
    this.mode = options.mode ?? 'lite';
    this.#random = options.random ?? defaultRandom;
    const local = options.credentials ?? generateCredentials(this.#random);
    assertCredentials(local, 'local');
    const consentTimeout = positive(options.consentTimeout ?? 30_000, 'consentTimeout');
    // The 12 s default shrinks with a shorter consentTimeout rather than refusing it.
    const disconnectedTimeout = positive(
      options.disconnectedTimeout ?? Math.min(12_000, consentTimeout),
      'disconnectedTimeout',
    );
    if (disconnectedTimeout > consentTimeout) {
      throw new RangeError('disconnectedTimeout must not exceed consentTimeout');
    }
    this.#maxRemote = positive(options.maxRemoteCandidates ?? 64, 'maxRemoteCandidates');
    const maxOut = positive(options.maxQueuedTransmits ?? 64, 'maxQueuedTransmits');
    this.#hot = newHotState(local, maxOut, consentTimeout, disconnectedTimeout);
    if (this.mode === 'full') {
      this.#hot.full = {
        role: options.role ?? 'controlling',
        tieBreaker: randomTieBreaker(this.#random),
        client: new StunClient({ random: this.#random, maxQueuedTransmits: maxOut * 4 }),
        stunServers: options.stunServers ?? [],
        ta: positive(options.ta ?? 50, 'ta'),
        maxPairs: positive(options.maxPairs ?? 100, 'maxPairs'),
        checklist: new Checklist(positive(options.maxPairs ?? 100, 'maxPairs')),
        nominationDelay: options.nominationDelay ?? 1000,
        consentInterval: Math.max(4000 / 0.8, positive(options.consentInterval ?? 5000, 'consentInterval')),
        outstanding: new Map(),
        cancelled: undefined,
        gatherQueue: [],
        gathersPending: 0,
        gathering: 'new',
        lastPaced: Number.NEGATIVE_INFINITY,
        nominating: undefined,
        firstValidAt: undefined,
        concluded: false,
        nextConsentAt: Number.POSITIVE_INFINITY,
        generation: 0,
        pacTimeout: positive(options.pacTimeout ?? 39_500, 'pacTimeout'),
        pac: 'idle',
      };
    } else if (this.mode !== 'lite') {
      throw new RangeError(`unknown mode ${String(this.mode)}`);
    }
  }

  // ---- configuration -------------------------------------------------------------------------

  /** Counters (never reset), as a snapshot. */
  get stats(): IceAgentStats {
    return {
      checksAnswered: this.#hot.checksAnswered,
      errorsSent: this.#hot.errorsSent,
      dropped: this.#hot.dropped,
      transmitsDropped: this.#hot.transmitsDropped,
      remoteCandidatesRefused: this.#remoteCandidatesRefused,
      checksSent: this.#checksSent,
    };
  }

  /**
   * Our current credentials, for the SDP (`a=ice-ufrag`, `a=ice-pwd`). Compare them by value:
   * the first check the peer authenticates moves them to fresh memory (see `#rehome`), so the
   * object returned afterwards is an equal one, not the same.
   */
  get localCredentials(): IceCredentials {
    return this.#hot.local;
  }

  /** The credentials still honoured from before the last restart, if the peer has not switched yet. */
  get previousCredentials(): IceCredentials | undefined {
    return this.#hot.previous;
  }

  get remoteCredentials(): IceCredentials | undefined {
    return this.#remote;
  }

  /** Lite agents are always controlled against a full peer (RFC 8445 §6.1.1). */
  get role(): IceRole {
    return this.#hot.full?.role ?? 'controlled';
  }

  /** Full mode: our tie-breaker (RFC 8445 §7.1.1). */
  get tieBreaker(): bigint | undefined {
    return this.#hot.full?.tieBreaker;
  }

  /** The current state (see {@link IceState}). */
  get state(): IceState {
    return this.#hot.state;
  }

  get localCandidates(): readonly Candidate[] {
    return this.#hot.localCandidates;
  }

  get remoteCandidates(): readonly Candidate[] {
    return this.#hot.remoteCandidates ?? EMPTY;
  }

  /** Full mode: the checklist, by descending priority (read-only snapshot semantics). */
  get pairs(): readonly Readonly<CandidatePair>[] {
    return this.#hot.full?.checklist.pairs ?? [];
  }

  /** The selected pair, if any: send data from `local.address` to `remote.address`. */
  get selectedPair(): { readonly local: Candidate; readonly remote: Candidate } | undefined {
    const s = this.#hot.selected;
    if (s === undefined) return undefined;
    s.view ??= { local: s.local, remote: s.remote };
    return s.view;
  }

  /**
   * Adds a local host candidate (RFC 8445 §5.1.1.1). Given an address, builds the candidate
   * with type preference 126 and a local preference that keeps priorities unique (65535, 65534,
   * … — §5.1.2.1). Returns the candidate for the SDP. In full mode, pairs it with every known
   * remote candidate.
   * @throws on a non-host candidate or a duplicate address.
   */
  addLocalCandidate(candidate: SocketAddress | Candidate): Candidate {
    const c =
      'type' in candidate
        ? candidate
        : hostCandidate(candidate, { localPreference: 65535 - this.#hot.localCandidates.length });
    if (c.type !== 'host') throw new Error('only host candidates are given by the caller');
    if (this.#hot.localCandidates.some((l) => sameAddress(l.address, c.address))) {
      throw new Error('duplicate local candidate');
    }
    if (this.#hot.localCandidates.length === 0) this.#hot.localCandidates = [c];
    else this.#hot.localCandidates.push(c);
    const f = this.#hot.full;
    // After the nomination there is nothing left to check (§8.1.2).
    if (f !== undefined && !f.concluded && this.#hot.remoteCandidates !== undefined) {
      const li = this.#hot.localCandidates.length - 1;
      for (let ri = 0; ri < this.#hot.remoteCandidates.length; ri++) this.#addPair(f, li, ri);
    }
    return c;
  }

  /**
   * The peer's credentials from its SDP. A lite agent does not need them to answer (RFC 8445
   * §7.3: only our own password keys the response); a full agent needs them to send checks.
   */
  setRemoteCredentials(credentials: IceCredentials): void {
    assertCredentials(credentials, 'remote');
    this.#remote = credentials;
    this.#consentRemote ??= credentials;
    // RFC 8863: checks can start now, so the PAC timer starts (at the next `handleTimeout`).
    const f = this.#hot.full;
    if (f !== undefined && f.pac === 'idle') f.pac = 'pending';
  }

  /**
   * Adds a remote candidate (from SDP or trickled, RFC 8838). Returns false when ignored: after
   * end-of-candidates (RFC 8838 §13), a duplicate address, a non-UDP transport or the cap. In full
   * mode the new pairs are Waiting when their foundation is new or already succeeded, else Frozen
   * (RFC 8838 §12). The address of a peer-reflexive candidate already learned from the peer's
   * checks is not a duplicate: the signalled candidate replaces it (§7.3.1.3), and that returns true.
   */
  addRemoteCandidate(candidate: Candidate): boolean {
    if (this.#endOfCandidates || candidate.transport !== 'UDP' || this.#hot.state === 'closed') return false;
    const known = this.#findRemote(candidate.address);
    if (known >= 0) return this.#adoptSignalled(known, candidate);
    const list = this.#pushRemote(candidate);
    if (list === undefined) return false;
    const f = this.#hot.full;
    // After the nomination there is nothing left to check (§8.1.2).
    if (f !== undefined && !f.concluded) {
      const ri = list.length - 1;
      for (let li = 0; li < this.#hot.localCandidates.length; li++) {
        if (this.#hot.localCandidates[li]!.type === 'host') this.#addPair(f, li, ri);
      }
    }
    return true;
  }

  /**
   * RFC 8445 §7.3.1.3: a peer-reflexive remote candidate, learned from a check, that the peer
   * then signals (its checks often outrun its trickled candidates) takes the signalled
   * foundation, type and priority — "it will signal the actual foundation" — and its pairs
   * their new foundations and priorities. Any other duplicate is ignored (returns false).
   */
  #adoptSignalled(index: number, candidate: Candidate): boolean {
    const list = this.#hot.remoteCandidates!;
    const learned = list[index]!;
    if (learned.type !== 'prflx' || candidate.type === 'prflx' || candidate.component !== learned.component)
      return false;
    list[index] = candidate;
    const s = this.#hot.selected;
    if (s !== undefined && sameAddress(s.remote.address, candidate.address)) {
      s.remote = candidate;
      s.view = undefined;
    }
    const f = this.#hot.full;
    if (f !== undefined) {
      for (const p of f.checklist.pairs) {
        if (p.remote === index)
          p.foundation = `${this.#hot.localCandidates[p.local]!.foundation}:${candidate.foundation}`;
      }
      f.checklist.reprioritize((p) => this.#pairPriority(f, p.local, p.remote));
      // A learned candidate was paired only with the base its check arrived on; a signalled one
      // pairs with every host candidate (§6.1.2.2), as it would have had it come first.
      if (!f.concluded) {
        const locals = this.#hot.localCandidates;
        for (let li = 0; li < locals.length; li++) {
          if (locals[li]!.type === 'host' && f.checklist.find(li, index) === undefined)
            this.#addPair(f, li, index);
        }
      }
    }
    return true;
  }

  /**
   * The peer signalled end-of-candidates (RFC 8838 §14): later trickled candidates are ignored,
   * and a full agent whose pairs have all failed may now conclude `failed`.
   */
  endOfRemoteCandidates(): void {
    this.#endOfCandidates = true;
    if (this.#hot.full !== undefined) this.#checkFailure(this.#hot.full);
  }

  /**
   * Full mode: starts gathering server-reflexive candidates from every host candidate towards
   * every configured STUN server (same address family), paced by Ta. Emits `local-candidate`
   * per new candidate and `gathering-complete` at the end (at once without servers).
   */
  gather(now: number): void {
    const f = this.#requireFull('gather');
    if (f.gathering !== 'new') return;
    this.#hot.now = Math.max(this.#hot.now, now);
    f.gathering = 'gathering';
    for (const base of this.#hot.localCandidates) {
      if (base.type !== 'host') continue;
      for (const server of f.stunServers) {
        if (server.family === base.address.family) f.gatherQueue.push({ base, server });
      }
    }
    f.gathersPending = f.gatherQueue.length;
    if (f.gathersPending === 0) this.#gatheringDone(f);
  }

  /**
   * ICE restart (RFC 8445 §9, RFC 8839 §4.4.1.1.1): new ufrag and pwd. Checks with the previous
   * credentials are still answered until the peer authenticates with the new ones; the selected
   * pair keeps carrying data (and, in full mode, consent checks) meanwhile (RFC 8839 §4.4.3.2).
   * A full agent flushes its checklist and remote candidates; give it the peer's new
   * credentials and candidates. Returns the new credentials.
   */
  restart(credentials: IceCredentials = generateCredentials(this.#random)): IceCredentials {
    assertCredentials(credentials, 'local');
    if (credentials.ufrag === this.#hot.local.ufrag || credentials.pwd === this.#hot.local.pwd) {
      throw new Error('an ICE restart changes both ufrag and pwd');
    }
    if (this.#hot.state === 'closed') throw new Error('agent is closed');
    // If the peer never used the current credentials, the older ones are what it still speaks.
    if (this.#hot.localUsed || this.#hot.previous === undefined) this.#hot.previous = this.#hot.local;
    this.#hot.local = credentials;
    this.#hot.localUsed = false;
    this.#remote = undefined;
    this.#endOfCandidates = false;
    const f = this.#hot.full;
    if (f !== undefined) {
      for (const [id, o] of f.outstanding) {
        if (o.kind === 'check') {
          f.client.cancel(id, this.#hot.now);
          f.outstanding.delete(id);
        }
      }
      this.#hot.remoteCandidates = undefined;
      this.#hot.localCandidates = this.#hot.localCandidates.filter((c) => c.type !== 'prflx');
      f.checklist = new Checklist(f.maxPairs);
      f.cancelled = undefined;
      f.nominating = undefined;
      f.firstValidAt = undefined;
      f.concluded = false;
      f.generation++;
      // The new session waits for the peer's new credentials, and then patiently again.
      f.pac = 'idle';
    }
    if (this.#hot.state === 'failed') this.#setState('checking');
    return credentials;
  }

  /** Stops the agent: nothing is answered or sent any more. */
  close(): void {
    if (this.#hot.state === 'closed') return;
    this.#hot.selected = undefined;
    this.#hot.outHead = undefined;
    this.#hot.outRest = undefined;
    this.#hot.outCount = 0;
    const f = this.#hot.full;
    if (f !== undefined) {
      for (const id of f.outstanding.keys()) f.client.cancel(id, this.#hot.now);
      f.outstanding.clear();
      f.cancelled = undefined;
      f.checklist = new Checklist(f.maxPairs);
      f.gatherQueue = [];
    }
    this.#setState('closed');
  }

  // ---- Machine -------------------------------------------------------------------------------

  /**
   * A datagram arrived. Binding requests are answered per RFC 8445 §7.3 / RFC 8489 §9.1.3;
   * responses go to the full agent's transactions; everything else is classified (see
   * {@link InputVerdict}). Never throws.
   */
  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): InputVerdict {
    if (this.#hot.state === 'closed') return 'closed';
    // RFC 7983: STUN starts with 0..3; anything else belongs to someone else on this socket.
    if (payload.length === 0 || payload[0]! > 3) return 'not-stun';
    if (payload.length < 20) {
      this.#hot.dropped++;
      return 'malformed';
    }
    const r = decode(payload);
    if (!r.ok) {
      this.#hot.dropped++;
      return 'malformed';
    }
    return this.handleMessage(r.message, from, now, to);
  }

  /** Like {@link handleInput} for an already decoded message (routers decode once). */
  handleMessage(msg: StunMessage, from: SocketAddress, now: number, to?: SocketAddress): InputVerdict {
    if (this.#hot.state === 'closed') return 'closed';
    if (now > this.#hot.now) this.#hot.now = now;
    const f = this.#hot.full;
    if (
      f !== undefined &&
      !msg.classic &&
      (msg.messageClass === MessageClass.Success || msg.messageClass === MessageClass.Error)
    ) {
      const v = f.client.handleMessage(msg, from, now, to);
      // RFC 8445 §7.2.5.2.1: a check's response from another address fails the pair (the
      // StunClient only drops it, which would leave the pair In-Progress until it times out).
      if (v === 'wrong-source' && this.#asymmetricSource(f, msg, now)) {
        this.#maybeNominate(f, now);
        return 'response';
      }
      if (
        v === 'unknown-transaction' &&
        f.cancelled !== undefined &&
        this.#lateResponse(f, msg, from, now, to)
      ) {
        this.#maybeNominate(f, now);
        return 'response';
      }
      this.#drainClient(f, now, to);
      if (v === 'accepted') return 'response';
      this.#hot.dropped++;
      return 'ignored';
    }
    if (msg.classic || msg.messageClass !== MessageClass.Request || msg.method !== Method.Binding) {
      // Indications are keepalives (RFC 8445 §11): nothing to do.
      this.#hot.dropped++;
      return 'ignored';
    }
    if (verifyFingerprint(msg) !== 'ok') {
      this.#hot.dropped++;
      return 'bad-fingerprint';
    }
    // USERNAME is read in place (offset, not a view): this runs for every check.
    const username = msg.offsetOf(AttrType.Username);
    if (username < 0 || !msg.has(AttrType.MessageIntegrity)) {
      return this.#error(msg, from, to, ErrorCode.BadRequest, undefined, 'bad-request');
    }
    // RFC 8445 §7.3: USERNAME is valid when its part before the colon is our ufrag.
    let creds: IceCredentials | undefined;
    let isCurrent = false;
    if (ufragMatches(msg.bytes, username, this.#hot.local.ufrag)) {
      creds = this.#hot.local;
      isCurrent = true;
    } else if (
      this.#hot.previous !== undefined &&
      ufragMatches(msg.bytes, username, this.#hot.previous.ufrag)
    ) {
      creds = this.#hot.previous;
    }
    if (creds === undefined)
      return this.#error(msg, from, to, ErrorCode.Unauthorized, undefined, 'unauthorized');
    const key = integrityKey(creds.pwd);
    if (verifyMessageIntegrity(msg, key) !== 'ok') {
      return this.#error(msg, from, to, ErrorCode.Unauthorized, undefined, 'unauthorized');
    }
    // Authenticated from here on: error responses carry MESSAGE-INTEGRITY.
    if (msg.unknownRequired.length > 0) {
      return this.#error(msg, from, to, ErrorCode.UnknownAttribute, creds, 'unknown-attribute');
    }
    if (f === undefined) {
      if (msg.has(AttrType.IceControlled)) {
        // Both sides claim controlled; the lite side cannot become controlling (see class doc).
        return this.#error(msg, from, to, ErrorCode.RoleConflict, creds, 'role-conflict');
      }
    } else if (this.#roleConflict(f, msg)) {
      return this.#error(msg, from, to, ErrorCode.RoleConflict, creds, 'role-conflict');
    }
    if (isCurrent && !this.#hot.localUsed) {
      this.#rehome();
      this.#hot.localUsed = true;
      if (this.#hot.previous !== undefined) {
        // The peer speaks the new credentials: the restart is complete (RFC 8445 §9).
        this.#hot.previous = undefined;
        this.#emit({ type: 'restart-complete', ufrag: this.#hot.local.ufrag });
      }
    }

    const local = this.#findLocal(to, from);
    let remote = this.#findRemote(from);
    // A full agent's checklist belongs to the current credentials; a lite agent honours the
    // previous ones fully until the peer switches (it may move to a new address meanwhile).
    if (remote < 0 && (isCurrent || f === undefined)) remote = this.#learnPeerReflexive(msg, from);
    if (this.#hot.state === 'new') this.#setState('checking');
    if (local >= 0) this.#onAuthenticatedCheck(local, remote, from, msg, isCurrent, now);

    const source = local >= 0 ? this.#hot.localCandidates[local]!.address : to;
    const b = scratchBuilder()
      .resetResponse(msg, MessageClass.Success)
      .addXorMappedAddress(from)
      .addMessageIntegrity(key)
      .addFingerprint();
    this.#queue(source, from, b.view());
    this.#hot.checksAnswered++;
    return 'answered';
  }

  pollTransmit(): Transmit | undefined {
    const t = this.#hot.outHead;
    if (t !== undefined) {
      const rest = this.#hot.outRest;
      this.#hot.outHead = rest?.shift();
      if (rest !== undefined && rest.length === 0) this.#hot.outRest = undefined;
      this.#hot.outCount--;
      releaseView(t);
      return t;
    }
    return this.#hot.state === 'closed' ? undefined : this.#hot.full?.client.pollTransmit();
  }

  /** The earliest of: consent deadlines, the next paced transaction, the StunClient's retransmits. */
  pollTimeout(): number | undefined {
    let next = this.#consentDeadline();
    const f = this.#hot.full;
    if (f !== undefined && this.#hot.state !== 'closed') {
      next = min(next, f.client.pollTimeout());
      if (this.#hasPacedWork(f)) next = min(next, Math.max(f.lastPaced + f.ta, this.#hot.now));
      if (this.#hot.selected !== undefined && this.#hot.state !== 'failed') next = min(next, f.nextConsentAt);
      const nd = this.#nominationDeadline(f);
      if (nd !== undefined) next = min(next, nd);
      const pac = this.#pacDeadline(f);
      if (pac !== undefined) next = min(next, pac);
    }
    return next;
  }

  /** When the PAC timer (RFC 8863) needs a `handleTimeout`: to start, or to expire. */
  #pacDeadline(f: FullState): number | undefined {
    if (f.pac === 'idle' || f.pac === 'expired') return undefined;
    if (f.pac === 'pending') return this.#hot.now;
    // Only failure waits for it: a selected pair or a concluded session does not.
    return this.#hot.selected === undefined && this.#hot.state !== 'failed' ? f.pac : undefined;
  }

  handleTimeout(now: number): void {
    if (this.#hot.state === 'closed') return;
    if (now > this.#hot.now) this.#hot.now = now;
    const f = this.#hot.full;
    if (f !== undefined) {
      const ct = f.client.pollTimeout();
      if (ct !== undefined && ct <= now) {
        f.client.handleTimeout(now);
        this.#drainClient(f, now);
      }
      if (f.pac === 'pending') f.pac = now + f.pacTimeout;
      else if (typeof f.pac === 'number' && f.pac <= now) {
        f.pac = 'expired';
        this.#checkFailure(f);
      }
      this.#maybeNominate(f, now);
      if (f.lastPaced + f.ta <= now && this.#hasPacedWork(f)) this.#pace(f, now);
      const s = this.#hot.selected;
      if (s !== undefined && this.#hot.state !== 'failed' && f.nextConsentAt <= now)
        this.#sendConsent(f, s, now);
    }
    const s = this.#hot.selected;
    if (s === undefined) return;
    this.#consentClock(f, s, now);
  }

  /** RFC 7675 §5.1: `disconnected`, then `failed`, as consent on the selected pair ages. */
  #consentClock(f: FullState | undefined, s: Selected, now: number): void {
    if (
      (this.#hot.state === 'connected' || this.#hot.state === 'completed') &&
      now >= s.refreshedAt + this.#hot.disconnectedTimeout
    ) {
      this.#setState('disconnected');
    }
    if (this.#hot.state === 'disconnected' && now >= s.refreshedAt + this.#hot.consentTimeout) {
      this.#consentLost(f, now);
    }
  }

  /**
   * Consent expired (RFC 7675 §5.1) or was revoked (§5.2): stop using the pair and discard
   * outstanding consent transactions (a late response must not restore it).
   */
  #consentLost(f: FullState | undefined, now: number): void {
    this.#hot.selected = undefined;
    if (f !== undefined) {
      f.nextConsentAt = Number.POSITIVE_INFINITY;
      for (const [id, o] of f.outstanding) {
        if (o.kind === 'consent') {
          f.client.cancel(id, now);
          f.outstanding.delete(id);
        }
      }
    }
    this.#setState('failed');
  }

  pollEvent(): IceEvent | undefined {
    const q = this.#hot.events;
    if (q === undefined) return undefined;
    const e = q.shift();
    if (q.length === 0) this.#hot.events = undefined;
    return e;
  }

  // ---- answering checks ------------------------------------------------------------------------

  /**
   * After an authenticated check on (local, remote): consent (lite), nomination, and in full
   * mode the triggered check (RFC 8445 §7.3.1.4) and controlled-side nomination (§7.3.1.5).
   */
  #onAuthenticatedCheck(
    local: number,
    remote: number,
    from: SocketAddress,
    msg: StunMessage,
    isCurrent: boolean,
    now: number,
  ): void {
    const s = this.#hot.selected;
    const onSelected =
      s !== undefined &&
      sameAddress(s.local.address, this.#hot.localCandidates[local]!.address) &&
      sameAddress(s.remote.address, from);
    const useCandidate = msg.useCandidate();
    const f = this.#hot.full;
    if (f === undefined) {
      if (onSelected) {
        s.refreshedAt = now;
        if (this.#hot.state === 'disconnected') this.#setState('connected');
        return;
      }
      // RFC 8445 §7.3.2 / §8.2: a lite agent accepting USE-CANDIDATE puts the pair in the valid
      // list as nominated; with one component it becomes the selected pair right away.
      if (!useCandidate || this.#hot.state === 'failed' || remote < 0) return;
      this.#select(local, this.#hot.remoteCandidates![remote]!, now);
      return;
    }
    // Full mode: checks with the pre-restart credentials only keep the old selected pair alive,
    // and a failed session is only answered: reviving it takes a restart (RFC 8445 §9).
    if (!isCurrent || remote < 0 || this.#hot.state === 'failed') return;
    // After the nomination (§8.1.2) a check is still answered, but only a renomination (see the
    // README's deviations) makes the controlled side pair it.
    const pair =
      f.checklist.find(local, remote) ??
      (f.concluded && !(useCandidate && f.role === 'controlled')
        ? undefined
        : this.#addPair(f, local, remote));
    if (pair === undefined) return;
    if (useCandidate && f.role === 'controlled') {
      if (pair.state === 'succeeded') {
        // Also for the pair already selected: after a restart this adopts the new credentials.
        this.#select(local, this.#hot.remoteCandidates![remote]!, now);
        return;
      }
      pair.nominateOnSuccess = true;
    }
    if (f.concluded && !pair.nominateOnSuccess) return;
    // §7.3.1.4: Succeeded → nothing; otherwise Waiting and into the triggered queue.
    if (pair.state === 'succeeded') return;
    if (pair.state === 'in-progress') {
      // A pair whose in-flight check is our nomination is a valid (Succeeded) pair being
      // nominated (§8.1.1), not one still being checked: nothing to do.
      if (pair === f.nominating) return;
      // §7.3.1.4: cancel the In-Progress transaction (its response is still used, see
      // `#lateResponse`) and check the pair again now instead of waiting for retransmissions.
      if (pair.request !== undefined) this.#cancelCheck(f, pair.request, now);
    }
    f.checklist.trigger(pair);
  }

  /**
   * RFC 8445 §7.3.1.4 cancellation: no more retransmissions and no failure on timeout, but a
   * response arriving within the transaction timeout still counts. The StunClient forgets a
   * cancelled transaction, so its id is kept here until then.
   */
  #cancelCheck(f: FullState, id: string, now: number): void {
    const o = f.outstanding.get(id);
    const info = f.client.transaction(id);
    f.client.cancel(id, now);
    f.outstanding.delete(id);
    if (o === undefined || o.kind !== 'check') return;
    o.pair.request = undefined;
    const started = info?.firstSentAt ?? now;
    const until = started + retransmitSchedule(DEFAULT_POLICY, info?.rto ?? 500).failAt;
    f.cancelled ??= new Map();
    const cancelled = f.cancelled;
    for (const [k, c] of cancelled) if (c.until <= now) cancelled.delete(k);
    // Bounded: a peer sending checks faster than ours complete cannot grow it without limit.
    if (cancelled.size >= f.maxPairs) {
      const oldest = cancelled.keys().next();
      if (oldest.done !== true) cancelled.delete(oldest.value);
    }
    cancelled.set(id, { pair: o.pair, generation: o.generation, until });
  }

  /**
   * A response the StunClient did not recognise: if it answers a check cancelled by a triggered
   * check (§7.3.1.4) within that check's transaction timeout, and is an authentic, symmetric
   * success (FINGERPRINT, MESSAGE-INTEGRITY with the peer's password, §7.2.5.2.1), the pair
   * succeeds. Anything else about it changes nothing: the triggered check decides.
   */
  #lateResponse(
    f: FullState,
    msg: StunMessage,
    from: SocketAddress,
    now: number,
    to: SocketAddress | undefined,
  ): boolean {
    const cancelled = f.cancelled!;
    const id = transactionIdHex(msg.transactionId);
    const c = cancelled.get(id);
    if (c === undefined) return false;
    cancelled.delete(id);
    const pair = c.pair;
    const r = this.#hot.remoteCandidates?.[pair.remote];
    if (
      c.generation !== f.generation ||
      now > c.until ||
      msg.messageClass !== MessageClass.Success ||
      r === undefined ||
      !sameAddress(from, r.address) ||
      this.#arrivedElsewhere(pair, to) ||
      !this.#fromPeer(msg) ||
      msg.unknownRequired.length > 0
    ) {
      return false;
    }
    if (pair.state === 'succeeded' || pair.state === 'failed' || this.#hot.state === 'failed' || f.concluded)
      return true;
    // The triggered check sent since is not needed any more.
    if (pair.request !== undefined) {
      f.client.cancel(pair.request, now);
      f.outstanding.delete(pair.request);
      pair.request = undefined;
    }
    this.#checkSucceeded(f, pair, msg.xorMappedAddress() ?? msg.mappedAddress(), false, now);
    return true;
  }

  /**
   * RFC 8445 §7.3.1.1: role conflict on an incoming request (full agents). Returns true when the
   * answer is 487; switches our role when we lose the tie-break.
   */
  #roleConflict(f: FullState, msg: StunMessage): boolean {
    if (f.role === 'controlling') {
      const theirs = msg.iceControlling();
      if (theirs === undefined) return false;
      if (f.tieBreaker >= theirs) return true;
      this.#switchRole(f, 'controlled');
      return false;
    }
    const theirs = msg.iceControlled();
    if (theirs === undefined) return false;
    if (f.tieBreaker >= theirs) {
      this.#switchRole(f, 'controlling');
      return false;
    }
    return true;
  }

  #switchRole(f: FullState, role: IceRole): void {
    if (f.role === role) return;
    f.role = role;
    f.nominating = undefined;
    // §6.1.2.3: pair priorities depend on who controls.
    f.checklist.reprioritize((p) => this.#pairPriority(f, p.local, p.remote));
    this.#emit({ type: 'role', role });
  }

  // ---- full mode: checklist --------------------------------------------------------------------

  #pairPriority(f: FullState, local: number, remote: number): bigint {
    const l = this.#hot.localCandidates[local]!.priority;
    const r = this.#hot.remoteCandidates![remote]!.priority;
    return f.role === 'controlling' ? pairPriority(l, r) : pairPriority(r, l);
  }

  /** Forms a pair (RFC 8445 §6.1.2.2: same component and address family); undefined if not pairable or capped. */
  #addPair(f: FullState, local: number, remote: number): CandidatePair | undefined {
    const l = this.#hot.localCandidates[local]!;
    const r = this.#hot.remoteCandidates![remote]!;
    if (l.address.family !== r.address.family || l.component !== r.component) return undefined;
    return f.checklist.add(
      local,
      remote,
      `${l.foundation}:${r.foundation}`,
      this.#pairPriority(f, local, remote),
    );
  }

  /** Whether a Ta tick would send something (so an idle agent arms no timer: no busy loops). */
  #hasPacedWork(f: FullState): boolean {
    if (f.gatherQueue.length > 0) return true;
    if (this.#remote === undefined) return false;
    if (f.nominating !== undefined && f.nominating.request === undefined) return true;
    if (f.checklist.hasTriggered()) return true;
    return !f.concluded && f.checklist.nextOrdinary() !== undefined;
  }

  /** One Ta tick (RFC 8445 §6.1.4.2): at most one new transaction. */
  #pace(f: FullState, now: number): void {
    // Even a tick that finds nothing to send counts, so the next one is Ta away (never a spin).
    f.lastPaced = now;
    const g = f.gatherQueue.shift();
    if (g !== undefined) {
      const id = f.client.request(g.server, now, { source: g.base.address });
      f.outstanding.set(id, { kind: 'gather', base: g.base, server: g.server });
      return;
    }
    if (this.#remote === undefined) return;
    const nom = f.nominating;
    if (nom !== undefined && nom.request === undefined) {
      this.#sendCheck(f, nom, true, now);
      return;
    }
    const triggered = f.checklist.nextTriggered();
    if (triggered !== undefined) {
      this.#sendCheck(f, triggered, false, now);
      return;
    }
    if (f.concluded) return;
    const pair = f.checklist.nextOrdinary();
    if (pair !== undefined) this.#sendCheck(f, pair, false, now);
  }

  /** RFC 8445 §7.2.2: a Binding request from the pair's base with PRIORITY, the role attribute, maybe USE-CANDIDATE. */
  #sendCheck(f: FullState, pair: CandidatePair, nominate: boolean, now: number): void {
    const remote = this.#remote!;
    const l = this.#hot.localCandidates[pair.local]!;
    const r = this.#hot.remoteCandidates![pair.remote]!;
    const priority = prflxPriority(l);
    const controlling = f.role === 'controlling';
    const tb = f.tieBreaker;
    // §14.3: RTO = max(500 ms, N·Ta) with N the pairs that may still be checked.
    const id = f.client.request(r.address, now, {
      source: l.address,
      rto: Math.max(500, f.checklist.activeCount() * f.ta),
      credentials: {
        type: 'short-term',
        username: `${remote.ufrag}:${this.#hot.local.ufrag}`,
        password: integrityKey(remote.pwd),
      },
      build: (b: MessageBuilder) => {
        b.addPriority(priority);
        if (controlling) b.addIceControlling(tb);
        else b.addIceControlled(tb);
        if (nominate) b.addUseCandidate();
      },
    });
    pair.state = 'in-progress';
    pair.request = id;
    f.outstanding.set(id, {
      kind: 'check',
      pair,
      nominate,
      nomination: nominate || (!controlling && pair.nominateOnSuccess),
      controlling,
      generation: f.generation,
    });
    f.lastPaced = now;
    this.#checksSent++;
    if (this.#hot.state === 'new') this.#setState('checking');
  }

  /** RFC 7675 §5.1: one consent check on the selected pair, sent once (no retransmission). */
  #sendConsent(f: FullState, s: Selected, now: number): void {
    const creds = this.#consentRemote ?? this.#remote;
    // 0.8–1.2 × the base interval, drawn from the injected randomness.
    const jitter = new Uint8Array(1);
    this.#random(jitter);
    f.nextConsentAt = now + f.consentInterval * (0.8 + (0.4 * jitter[0]!) / 255);
    if (creds === undefined) return;
    const l = s.local;
    const localUfrag =
      this.#hot.previous !== undefined && !this.#hot.localUsed
        ? this.#hot.previous.ufrag
        : this.#hot.local.ufrag;
    const tb = f.tieBreaker;
    const controlling = f.role === 'controlling';
    const id = f.client.request(s.remote.address, now, {
      source: l.address,
      rc: 1,
      rm: Math.max(1, this.#hot.disconnectedTimeout / 2 / 500),
      rto: 500,
      credentials: {
        type: 'short-term',
        username: `${creds.ufrag}:${localUfrag}`,
        password: integrityKey(creds.pwd),
      },
      build: (b: MessageBuilder) => {
        b.addPriority(prflxPriority(l));
        if (controlling) b.addIceControlling(tb);
        else b.addIceControlled(tb);
      },
    });
    f.outstanding.set(id, { kind: 'consent', sentAt: now });
  }

  /**
   * Drains the StunClient's events. `to` is the local address the datagram being handled
   * arrived on (undefined for timeouts, or when the driver cannot tell).
   */
  #drainClient(f: FullState, now: number, to?: SocketAddress): void {
    for (let e = f.client.pollEvent(); e !== undefined; e = f.client.pollEvent())
      this.#onClientEvent(f, e, now, to);
    this.#maybeNominate(f, now);
  }

  /**
   * A response authenticated as the peer's (FINGERPRINT, MESSAGE-INTEGRITY with its password),
   * for the responses the StunClient did not accept itself: a forged one must not change a pair.
   */
  #fromPeer(msg: StunMessage): boolean {
    const remote = this.#remote;
    return (
      remote !== undefined &&
      verifyFingerprint(msg) === 'ok' &&
      verifyMessageIntegrity(msg, integrityKey(remote.pwd)) === 'ok'
    );
  }

  /**
   * RFC 8445 §7.2.5.2.1: a response to a check of `pair` must arrive on the address the request
   * left from. Only comparable when the driver reports a specific local address (`to`), not a
   * wildcard socket's 0.0.0.0 / ::.
   */
  #arrivedElsewhere(pair: CandidatePair, to: SocketAddress | undefined): boolean {
    return (
      to !== undefined &&
      !isUnspecified(to) &&
      !sameAddress(to, this.#hot.localCandidates[pair.local]!.address)
    );
  }

  /**
   * A response the StunClient refused as `wrong-source`: if it answers one of our checks and is
   * authentic (FINGERPRINT and MESSAGE-INTEGRITY with the peer's password, so a forged packet
   * cannot fail a pair), the addresses are not symmetric: RFC 8445 §7.2.5.2.1 sets the pair
   * Failed. Rare path, so the hex id is built here and not per response.
   */
  #asymmetricSource(f: FullState, msg: StunMessage, now: number): boolean {
    const id = transactionIdHex(msg.transactionId);
    const o = f.outstanding.get(id);
    if (o === undefined || o.kind !== 'check' || o.generation !== f.generation || !this.#fromPeer(msg)) {
      return false;
    }
    f.client.cancel(id, now);
    f.outstanding.delete(id);
    o.pair.request = undefined;
    this.#checkFailed(f, o, now);
    return true;
  }

  #onClientEvent(f: FullState, e: StunClientEvent, now: number, to: SocketAddress | undefined): void {
    const o = f.outstanding.get(e.transactionId);
    if (o === undefined) return;
    f.outstanding.delete(e.transactionId);
    switch (o.kind) {
      case 'gather':
        if (e.type === 'success' && e.mappedAddress !== undefined)
          this.#addServerReflexive(o.base, o.server, e.mappedAddress);
        f.gathersPending--;
        if (f.gathersPending === 0) this.#gatheringDone(f);
        return;
      case 'consent': {
        const s = this.#hot.selected;
        if (s === undefined || !sameAddress(e.destination, s.remote.address)) return;
        if (e.type === 'success') {
          // RFC 7675 §5.1: a response proves consent as of when its request was SENT ("no
          // response to the requests sent in the last 30 seconds"), not when it arrived; one to
          // an older request never moves the clock back.
          if (o.sentAt > s.refreshedAt) s.refreshedAt = o.sentAt;
          if (this.#hot.state === 'disconnected' && now < s.refreshedAt + this.#hot.disconnectedTimeout)
            this.#setState('connected');
          this.#consentClock(f, s, now);
        } else if (e.type === 'error-response' && e.code === ErrorCode.Forbidden) {
          // RFC 7675 §5.2: an authenticated 403 (the StunClient drops unauthenticated error
          // responses to a request sent with short-term credentials) revokes consent at once.
          this.#consentLost(f, now);
        }
        return;
      }
      case 'check':
        if (o.generation !== f.generation) return;
        this.#onCheckResult(f, o, e, now, to);
        return;
      default:
        unreachable(o);
    }
  }

  #onCheckResult(
    f: FullState,
    o: Extract<Outstanding, { kind: 'check' }>,
    e: StunClientEvent,
    now: number,
    to: SocketAddress | undefined,
  ): void {
    const pair = o.pair;
    pair.request = undefined;
    // §7.2.5.2.1 (the StunClient has already checked the response came from where the request went).
    if (e.type !== 'failure' && this.#arrivedElsewhere(pair, to)) {
      this.#checkFailed(f, o, now);
      return;
    }
    if (e.type === 'success') {
      this.#checkSucceeded(f, pair, e.mappedAddress, o.nominate && o.controlling, now);
      return;
    }
    if (e.type === 'error-response' && e.code === ErrorCode.RoleConflict) {
      // §7.2.5.1: switch to the role opposite to the one the request claimed, draw a new
      // tie-breaker ("The agent MUST change the tiebreaker value"), then retry.
      this.#switchRole(f, o.controlling ? 'controlled' : 'controlling');
      f.tieBreaker = randomTieBreaker(this.#random);
      f.checklist.trigger(pair);
      return;
    }
    // Timeout, integrity failure or another error: §7.2.5.2 pair Failed.
    this.#checkFailed(f, o, now);
  }

  /**
   * RFC 8445 §7.2.5.3: a check of `pair` succeeded. `nominated`: it was our USE-CANDIDATE check
   * (controlling); a controlled agent's pair nominated by the peer is selected too (§7.3.1.5).
   */
  #checkSucceeded(
    f: FullState,
    pair: CandidatePair,
    mapped: SocketAddress | undefined,
    nominated: boolean,
    now: number,
  ): void {
    // §7.2.5.3.1: a mapped address we do not know is a peer-reflexive local candidate.
    if (mapped !== undefined && !this.#hot.localCandidates.some((c) => sameAddress(c.address, mapped))) {
      const base = this.#hot.localCandidates[pair.local]!;
      this.#hot.localCandidates.push({
        foundation: candidateFoundation('prflx', base.address.address),
        component: base.component,
        transport: 'UDP',
        priority: prflxPriority(base),
        address: mapped,
        type: 'prflx',
        related: base.address,
      });
    }
    pair.state = 'succeeded';
    f.firstValidAt ??= now;
    // §7.2.5.3.3: unfreeze the pairs sharing this foundation.
    f.checklist.unfreeze(pair.foundation);
    if (nominated || (pair.nominateOnSuccess && f.role === 'controlled')) {
      f.nominating = undefined;
      this.#select(pair.local, this.#hot.remoteCandidates![pair.remote]!, now);
    }
  }

  /** RFC 8445 §7.2.5.2: the check of `o.pair` failed (timeout, error, asymmetric addresses). */
  #checkFailed(f: FullState, o: Extract<Outstanding, { kind: 'check' }>, now: number): void {
    const pair = o.pair;
    pair.state = 'failed';
    if (o.nomination) {
      this.#nominationFailed(f, now);
      return;
    }
    if (f.nominating === pair) f.nominating = undefined;
    this.#checkFailure(f);
  }

  /**
   * RFC 8445 §7.2.5.3.4: a nomination check failed. The pair has left the valid list (it is
   * Failed) and the checklist is Failed: no other pair is nominated — §8.1.1 allows one
   * nomination per session, a new one takes an ICE restart — so checks stop and, with one data
   * stream and no selected pair, the agent reports `failed` (RFC 8445 §8.1.2: every checklist
   * Failed). A pair still selected from before a `restart()` keeps running under consent.
   */
  #nominationFailed(f: FullState, now: number): void {
    f.nominating = undefined;
    f.concluded = true;
    for (const p of f.checklist.pairs) {
      if (p.request !== undefined) {
        f.client.cancel(p.request, now);
        f.outstanding.delete(p.request);
        p.request = undefined;
        if (p.state === 'in-progress') p.state = 'waiting';
      }
    }
    f.checklist.clearTriggered();
    f.cancelled = undefined;
    if (this.#hot.selected === undefined && this.#hot.state !== 'closed') this.#setState('failed');
  }

  /**
   * Controlling side, regular nomination (RFC 8445 §8.1.1): nominate the best valid pair once no
   * better pair can still succeed, or `nominationDelay` after the first valid pair.
   */
  #maybeNominate(f: FullState, now: number): void {
    if (f.role !== 'controlling' || f.concluded || f.nominating !== undefined || this.#remote === undefined)
      return;
    const best = f.checklist.bestValid();
    if (best === undefined) return;
    if (f.checklist.hasBetterPending(best) && now < (f.firstValidAt ?? now) + f.nominationDelay) return;
    f.nominating = best;
    best.request = undefined;
  }

  #nominationDeadline(f: FullState): number | undefined {
    if (
      f.role !== 'controlling' ||
      f.concluded ||
      f.nominating !== undefined ||
      f.firstValidAt === undefined
    ) {
      return undefined;
    }
    const t = f.firstValidAt + f.nominationDelay;
    return t > this.#hot.now ? t : undefined;
  }

  /** Full mode: the agent fails when no pair can succeed any more (RFC 8445 §7.2.5.3.5, §8.1.2). */
  #checkFailure(f: FullState): void {
    if (this.#hot.selected !== undefined || this.#hot.state === 'failed' || this.#hot.state === 'closed')
      return;
    if (!this.#endOfCandidates || f.gathering === 'gathering') return;
    // RFC 8863: no pair left to check — none formed (a peer that signalled only names we
    // cannot resolve, such as a browser's mDNS `.local` host candidates) or all Failed — is not
    // failure while the PAC timer runs: the peer's checks can still bring peer-reflexive pairs
    // (RFC 8445 §7.3.1.4). Its expiry calls this again.
    if (f.pac !== 'expired' || !f.checklist.all('failed')) return;
    this.#setState('failed');
  }

  #addServerReflexive(base: Candidate, server: SocketAddress, mapped: SocketAddress): void {
    // §5.1.3: redundant when it equals a known local candidate (no NAT in between).
    if (this.#hot.localCandidates.some((c) => sameAddress(c.address, mapped))) return;
    const c: Candidate = {
      foundation: candidateFoundation('srflx', base.address.address, 'UDP', server.address),
      component: base.component,
      transport: 'UDP',
      priority: candidatePriority('srflx', this.#uniqueLocalPreference(base), base.component),
      address: mapped,
      type: 'srflx',
      related: base.address,
    };
    this.#hot.localCandidates.push(c);
    this.#emit({ type: 'local-candidate', candidate: c });
  }

  /**
   * RFC 8445 §5.1.2.1: candidates of one type and component need distinct local preferences.
   * Starts from the base's (so srflx candidates keep their bases' order) and steps down past
   * the ones the server-reflexive candidates already use — a symmetric NAT gives one base a
   * different mapping per STUN server. Gathering only, so the scan is fine.
   */
  #uniqueLocalPreference(base: Candidate): number {
    const used = (lp: number) =>
      this.#hot.localCandidates.some(
        (c) =>
          c.type === 'srflx' &&
          c.component === base.component &&
          Math.floor((c.priority % 16777216) / 256) === lp,
      );
    const start = Math.floor((base.priority % 16777216) / 256);
    for (let i = 0; i < 65536; i++) {
      const lp = (start - i + 65536) % 65536;
      if (!used(lp)) return lp;
    }
    return start; // 65536 srflx candidates of one component: cannot happen (bounded gathering)
  }

  #gatheringDone(f: FullState): void {
    f.gathering = 'complete';
    this.#emit({ type: 'gathering-complete' });
    this.#checkFailure(f);
  }

  #requireFull(what: string): FullState {
    if (this.#hot.full === undefined) throw new Error(`${what}: only full agents do this`);
    return this.#hot.full;
  }

  // ---- shared internals ------------------------------------------------------------------------

  /** Makes (local, remote) the selected pair and reports it (RFC 8445 §8.1.1, §8.2). */
  #select(local: number, remote: Candidate, now: number): void {
    const l = this.#hot.localCandidates[local]!;
    const s = this.#hot.selected;
    if (this.#remote !== undefined) this.#consentRemote = this.#remote;
    if (
      s !== undefined &&
      sameAddress(s.local.address, l.address) &&
      sameAddress(s.remote.address, remote.address)
    ) {
      s.refreshedAt = now;
      // The same 5-tuple, possibly as new candidates (after a restart): report those.
      if (s.local !== l || s.remote !== remote) {
        s.local = l;
        s.remote = remote;
        s.view = undefined;
      }
    } else {
      this.#hot.selected = { local: l, remote, view: undefined, refreshedAt: now };
      this.#emit({ type: 'selected-pair', local: l, remote });
    }
    const f = this.#hot.full;
    if (f === undefined) {
      this.#setState('connected');
      return;
    }
    // §8.1.2: once nominated, ordinary checks end: in-flight ones are cancelled, and the pairs
    // still to be checked leave the checklist.
    f.concluded = true;
    f.nominating = undefined;
    for (const p of f.checklist.pairs) {
      if (p.request !== undefined && p.state === 'in-progress') {
        f.client.cancel(p.request, now);
        f.outstanding.delete(p.request);
        p.request = undefined;
        p.state = 'waiting';
      }
    }
    f.checklist.conclude();
    f.cancelled = undefined;
    if (s === undefined || f.nextConsentAt === Number.POSITIVE_INFINITY) {
      f.nextConsentAt = now + f.consentInterval * 0.8;
    }
    if (this.#hot.state !== 'completed') this.#setState('connected');
    this.#setState('completed');
  }

  #consentDeadline(): number | undefined {
    const s = this.#hot.selected;
    if (s === undefined) return undefined;
    switch (this.#hot.state) {
      case 'connected':
      case 'completed':
        return s.refreshedAt + this.#hot.disconnectedTimeout;
      case 'disconnected':
        return s.refreshedAt + this.#hot.consentTimeout;
      case 'new':
      case 'checking':
      case 'failed':
      case 'closed':
        return undefined;
      default:
        return unreachable(this.#hot.state);
    }
  }

  /**
   * RFC 8445 §7.3.1.3: a request from an unknown address adds a peer-reflexive remote candidate
   * with the PRIORITY of the request and a fresh foundation. Only after authentication.
   */
  #learnPeerReflexive(msg: StunMessage, from: SocketAddress): number {
    const n = this.#hot.remoteCandidates?.length ?? 0;
    const candidate: Candidate = {
      foundation: `prflx${n}`,
      component: 1,
      transport: 'UDP',
      priority: msg.priority() ?? candidatePriority('prflx'),
      address: { address: from.address, port: from.port, family: from.family },
      type: 'prflx',
    };
    const list = this.#pushRemote(candidate);
    if (list === undefined) return -1;
    this.#emit({ type: 'remote-candidate', candidate });
    return list.length - 1;
  }

  /**
   * Appends a remote candidate within the cap. A first candidate gets an exact-size array (an
   * empty array grown by push reserves 17 slots: most of an idle session's memory).
   */
  #pushRemote(candidate: Candidate): Candidate[] | undefined {
    const list = this.#hot.remoteCandidates;
    if (list === undefined) {
      this.#hot.remoteCandidates = [candidate];
      return this.#hot.remoteCandidates;
    }
    if (list.length >= this.#maxRemote) {
      this.#remoteCandidatesRefused++;
      return undefined;
    }
    list.push(candidate);
    return list;
  }

  /**
   * The host candidate a datagram from `from` arrived on: the one equal to `to`; else (no `to`,
   * or a socket bound to 0.0.0.0 / ::) the first host candidate of `from`'s family, so a
   * dual-stack socket never pairs an IPv4 base with an IPv6 peer (RFC 8445 §6.1.2.2); else the first.
   */
  #findLocal(to: SocketAddress | undefined, from: SocketAddress): number {
    const list = this.#hot.localCandidates;
    if (to !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const c = list[i]!;
        if (c.type === 'host' && sameAddress(c.address, to)) return i;
      }
    }
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (c.type === 'host' && c.address.family === from.family) return i;
    }
    // E.g. IPv4-mapped IPv6 sources on a dual-stack socket with only IPv4 candidates.
    return list.length > 0 ? 0 : -1;
  }

  #findRemote(addr: SocketAddress): number {
    const list = this.#hot.remoteCandidates;
    if (list === undefined) return -1;
    for (let i = 0; i < list.length; i++) if (sameAddress(list[i]!.address, addr)) return i;
    return -1;
  }

  /**
   * Queues an error response (RFC 8489 §6.3.4). Failed authentication (400/401) gets no
   * MESSAGE-INTEGRITY (§9.1.3); errors to authenticated requests (420, 487) do.
   */
  #error(
    msg: StunMessage,
    from: SocketAddress,
    to: SocketAddress | undefined,
    code: number,
    creds: IceCredentials | undefined,
    verdict: InputVerdict,
  ): InputVerdict {
    const b = scratchBuilder().resetResponse(msg, MessageClass.Error).addErrorCode(code);
    if (code === ErrorCode.UnknownAttribute) b.addUnknownAttributes(msg.unknownRequired);
    if (creds !== undefined) b.addMessageIntegrity(integrityKey(creds.pwd));
    b.addFingerprint();
    const local = this.#findLocal(to, from);
    this.#queue(local >= 0 ? this.#hot.localCandidates[local]!.address : to, from, b.view());
    this.#hot.errorsSent++;
    return verdict;
  }

  #queue(source: SocketAddress | undefined, destination: SocketAddress, view: Uint8Array): void {
    if (this.#hot.outCount >= this.#hot.maxOut) {
      this.#hot.transmitsDropped++;
      return;
    }
    const t: Transmit =
      source === undefined ? { destination, payload: view } : { source, destination, payload: view };
    holdView(t);
    if (this.#hot.outHead === undefined) this.#hot.outHead = t;
    else {
      this.#hot.outRest ??= [];
      this.#hot.outRest.push(t);
    }
    this.#hot.outCount++;
  }

  /**
   * The peer has authenticated with the current credentials for the first time: the session
   * turns busy. What its checks read (the hot record, the credentials) moves to memory
   * allocated now, next to the other busy sessions' (see `#hot`). The credentials keep their
   * values; only their storage is new.
   */
  #rehome(): void {
    const h = copyHotState(this.#hot);
    h.local = { ufrag: freshString(h.local.ufrag), pwd: freshString(h.local.pwd) };
    this.#hot = h;
  }

  #setState(state: IceState): void {
    if (state === this.#hot.state) return;
    this.#hot.state = state;
    this.#emit({ type: 'state', state });
  }

  #emit(e: IceEvent): void {
    this.#hot.events ??= [];
    this.#hot.events.push(e);
  }
}

/** True when the USERNAME attribute at offset `attr` reads `ufrag ":" ...` (ufrag: ASCII ice-chars). No allocation. */
function ufragMatches(bytes: Uint8Array, attr: number, ufrag: string): boolean {
  const n = ufrag.length;
  const v = attr + 4;
  if (((bytes[attr + 2]! << 8) | bytes[attr + 3]!) <= n || bytes[v + n] !== 0x3a) return false;
  for (let i = 0; i < n; i++) if (bytes[v + i] !== ufrag.charCodeAt(i)) return false;
  return true;
}

/** RFC 8445 §7.1.1: a 64-bit random tie-breaker from the injected randomness. */
function randomTieBreaker(random: RandomSource): bigint {
  const tb = new Uint8Array(8);
  random(tb);
  let v = 0n;
  for (const b of tb) v = (v << 8n) | BigInt(b);
  return v;
}

/** The wildcard addresses a socket bound to "any" may report as its local address. */
function isUnspecified(a: SocketAddress): boolean {
  return a.address === '0.0.0.0' || a.address === '::';
}

function min(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

function positive(v: number, name: string): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a positive number`);
  return v;
}

function unreachable(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
