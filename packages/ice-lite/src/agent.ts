import type { Machine, RandomSource, SocketAddress, Transmit } from '@natkit/sans-io';
import {
  AttrType,
  decode,
  ErrorCode,
  MessageClass,
  Method,
  type StunMessage,
  verifyFingerprint,
  verifyMessageIntegrity,
} from '@natkit/stun-codec';
import { type Candidate, candidatePriority, hostCandidate, sameAddress } from './candidate.ts';
import { assertCredentials, defaultRandom, generateCredentials, type IceCredentials } from './credentials.ts';
import { holdView, integrityKey, releaseView, scratchBuilder } from './scratch.ts';
import type { IceAgentStats, IceEvent, IceMode, IceRole, IceState, InputVerdict } from './types.ts';

/** Options of {@link IceAgent}. Every field has an RFC-backed default. */
export interface IceAgentOptions {
  /** `lite` (default) answers checks only (RFC 8445 §2.5). */
  mode?: IceMode;
  /** Our ufrag/pwd; generated from `random` when absent (RFC 8839 §5.4). */
  credentials?: IceCredentials;
  /** Randomness for credentials and tie-breakers; defaults to Web Crypto. */
  random?: RandomSource;
  /**
   * RFC 7675 §5.1: consent expires 30 s after the last authenticated check on the selected pair;
   * the agent then reports `failed`. Default 30000 ms.
   */
  consentTimeout?: number;
  /**
   * How long without an authenticated check on the selected pair before reporting
   * `disconnected` (a check revives it). Not an RFC number: two missed consent intervals of
   * RFC 7675 §5.1 (4–6 s each) plus slack. Default 12000 ms.
   */
  disconnectedTimeout?: number;
  /** Bound on remote candidates (signalled + peer-reflexive); more are refused and counted. Default 64. */
  maxRemoteCandidates?: number;
  /** Bound on queued transmits; more are dropped and counted. Default 64. */
  maxQueuedTransmits?: number;
}

/** Where a pair lives: indices into the agent's candidate arrays (str0m style, no object graph). */
interface SelectedPair {
  /** Index into `localCandidates`. */
  local: number;
  /** Index into `remoteCandidates`. */
  remote: number;
  /** `now` of the last authenticated check received on this 5-tuple (RFC 7675 freshness). */
  refreshedAt: number;
}

const EMPTY: readonly Candidate[] = Object.freeze([]);

/**
 * An ICE agent (RFC 8445) as a sans-IO {@link Machine}.
 *
 * Lite mode (RFC 8445 §2.5, the lite rules of §5.2, §7.3, §8.2): the agent owns host candidates
 * given by the caller, answers connectivity checks authenticated with short-term credentials
 * (USERNAME `localUfrag:remoteUfrag`, key = local password, MESSAGE-INTEGRITY + FINGERPRINT),
 * learns peer-reflexive remote candidates, selects the pair a check with USE-CANDIDATE
 * nominates and tracks consent freshness on it (RFC 7675). It never sends a request.
 *
 * Deviations and interpretations, written down:
 * - A later nomination replaces the selected pair (the peer re-nominating, e.g. Chromium after
 *   a network change), instead of RFC 8445 §8.1.1's "highest-priority nominated pair" rule for
 *   legacy aggressive nomination.
 * - A lite agent is always controlled against a full peer (§6.1.1); a request carrying
 *   ICE-CONTROLLED (the peer also thinks it is controlled) is answered with 487 so the full
 *   peer switches to controlling (§7.2.5.1) — the lite side cannot take the controlling role.
 * - Requests without FINGERPRINT are dropped silently (§7.3 makes it mandatory; it is also how
 *   STUN is told apart from other traffic on a shared socket).
 * - After consent expired (`failed`), nominations are ignored until `restart()` (RFC 7675 §5.1:
 *   the same credentials must not be used on that 5-tuple again).
 */
export class IceAgent implements Machine<IceEvent> {
  /** `lite` or `full` (RFC 8445 §2.5). */
  readonly mode: IceMode;
  /** Counters (never reset). */
  readonly stats: IceAgentStats = {
    checksAnswered: 0,
    errorsSent: 0,
    dropped: 0,
    transmitsDropped: 0,
    remoteCandidatesRefused: 0,
    checksSent: 0,
  };

  #random: RandomSource;
  /** Current local credentials (RFC 8445 §5.3). */
  #local: IceCredentials;
  /** Credentials before the last `restart()`, honoured until the peer uses the new ones (§9). */
  #previous: IceCredentials | undefined;
  /** Whether the peer has authenticated with `#local` yet. */
  #localUsed = false;
  #remote: IceCredentials | undefined;
  #localCandidates: Candidate[] = [];
  /** Lazily allocated: an idle session with no remote candidates owns no array. */
  #remoteCandidates: Candidate[] | undefined;
  #endOfCandidates = false;
  #selected: SelectedPair | undefined;
  #state: IceState = 'new';
  #out: Transmit[] | undefined;
  #events: IceEvent[] | undefined;
  #consentTimeout: number;
  #disconnectedTimeout: number;
  #maxRemote: number;
  #maxOut: number;

  constructor(options: IceAgentOptions = {}) {
    this.mode = options.mode ?? 'lite';
    if (this.mode !== 'lite') throw new Error('IceAgent: full mode is not implemented yet');
    this.#random = options.random ?? defaultRandom;
    this.#local = options.credentials ?? generateCredentials(this.#random);
    assertCredentials(this.#local, 'local');
    this.#consentTimeout = positive(options.consentTimeout ?? 30_000, 'consentTimeout');
    this.#disconnectedTimeout = positive(options.disconnectedTimeout ?? 12_000, 'disconnectedTimeout');
    if (this.#disconnectedTimeout > this.#consentTimeout) {
      throw new RangeError('disconnectedTimeout must not exceed consentTimeout');
    }
    this.#maxRemote = positive(options.maxRemoteCandidates ?? 64, 'maxRemoteCandidates');
    this.#maxOut = positive(options.maxQueuedTransmits ?? 64, 'maxQueuedTransmits');
  }

  // ---- configuration -------------------------------------------------------------------------

  /** Our current credentials, for the SDP answer (`a=ice-ufrag`, `a=ice-pwd`). */
  get localCredentials(): IceCredentials {
    return this.#local;
  }

  /** The credentials still honoured from before the last restart, if the peer has not switched yet. */
  get previousCredentials(): IceCredentials | undefined {
    return this.#previous;
  }

  /** Lite agents are always controlled against a full peer (RFC 8445 §6.1.1). */
  get role(): IceRole {
    return 'controlled';
  }

  /** The current state (see {@link IceState}). */
  get state(): IceState {
    return this.#state;
  }

  get localCandidates(): readonly Candidate[] {
    return this.#localCandidates;
  }

  get remoteCandidates(): readonly Candidate[] {
    return this.#remoteCandidates ?? EMPTY;
  }

  /** The selected pair, if any: send data from `local.address` to `remote.address`. */
  get selectedPair(): { local: Candidate; remote: Candidate } | undefined {
    const s = this.#selected;
    if (s === undefined) return undefined;
    return { local: this.#localCandidates[s.local]!, remote: this.#remoteCandidates![s.remote]! };
  }

  /**
   * Adds a local host candidate (lite: host only, RFC 8445 §5.2). Given an address, builds the
   * candidate with type preference 126 and a local preference that keeps priorities unique
   * (65535, 65534, … — §5.1.2.1). Returns the candidate for the SDP.
   * @throws on a non-host candidate in lite mode or a duplicate address.
   */
  addLocalCandidate(candidate: SocketAddress | Candidate): Candidate {
    const c =
      'type' in candidate
        ? candidate
        : hostCandidate(candidate, { localPreference: 65535 - this.#localCandidates.length });
    if (this.mode === 'lite' && c.type !== 'host') throw new Error('a lite agent has host candidates only');
    if (this.#localCandidates.some((l) => sameAddress(l.address, c.address))) {
      throw new Error('duplicate local candidate');
    }
    this.#localCandidates.push(c);
    return c;
  }

  /**
   * The peer's credentials from its SDP. A lite agent does not need them to answer (RFC 8445
   * §7.3: only our own password keys the response) but keeps them for the record.
   */
  setRemoteCredentials(credentials: IceCredentials): void {
    assertCredentials(credentials, 'remote');
    this.#remote = credentials;
  }

  get remoteCredentials(): IceCredentials | undefined {
    return this.#remote;
  }

  /**
   * Adds a remote candidate (from SDP or trickled, RFC 8838). Returns false when ignored:
   * after end-of-candidates (RFC 8838 §13), a duplicate address, a non-UDP transport or the cap.
   */
  addRemoteCandidate(candidate: Candidate): boolean {
    if (this.#endOfCandidates || candidate.transport !== 'UDP') return false;
    if (this.#findRemote(candidate.address) >= 0) return false;
    this.#remoteCandidates ??= [];
    const list = this.#remoteCandidates;
    if (list.length >= this.#maxRemote) {
      this.stats.remoteCandidatesRefused++;
      return false;
    }
    list.push(candidate);
    return true;
  }

  /** The peer signalled end-of-candidates (RFC 8838 §14): later trickled candidates are ignored. */
  endOfRemoteCandidates(): void {
    this.#endOfCandidates = true;
  }

  /**
   * ICE restart (RFC 8445 §9, RFC 8839 §4.4.1.1.1): new ufrag and pwd. Checks with the previous
   * credentials are still answered until the peer authenticates with the new ones; the selected
   * pair keeps carrying data meanwhile (RFC 8839 §4.4.3.2). Returns the new credentials.
   */
  restart(credentials: IceCredentials = generateCredentials(this.#random)): IceCredentials {
    assertCredentials(credentials, 'local');
    if (credentials.ufrag === this.#local.ufrag || credentials.pwd === this.#local.pwd) {
      throw new Error('an ICE restart changes both ufrag and pwd');
    }
    if (this.#state === 'closed') throw new Error('agent is closed');
    // If the peer never used the current credentials, the older ones are what it still speaks.
    if (this.#localUsed || this.#previous === undefined) this.#previous = this.#local;
    this.#local = credentials;
    this.#localUsed = false;
    this.#remote = undefined;
    this.#endOfCandidates = false;
    if (this.#state === 'failed') this.#setState('checking');
    return credentials;
  }

  /** Stops the agent: nothing is answered any more. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#selected = undefined;
    this.#out = undefined;
    this.#setState('closed');
  }

  // ---- Machine -------------------------------------------------------------------------------

  /**
   * A datagram arrived. Binding requests are answered per RFC 8445 §7.3 / RFC 8489 §9.1.3;
   * everything else is classified (see {@link InputVerdict}). Never throws.
   */
  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): InputVerdict {
    if (this.#state === 'closed') return 'closed';
    // RFC 7983: STUN starts with 0..3; anything else belongs to someone else on this socket.
    if (payload.length < 20 || payload[0]! > 3) return 'not-stun';
    const r = decode(payload);
    if (!r.ok) {
      this.stats.dropped++;
      return 'malformed';
    }
    return this.handleMessage(r.message, from, now, to);
  }

  /** Like {@link handleInput} for an already decoded message (routers decode once). */
  handleMessage(msg: StunMessage, from: SocketAddress, now: number, to?: SocketAddress): InputVerdict {
    if (this.#state === 'closed') return 'closed';
    if (msg.classic || msg.messageClass !== MessageClass.Request || msg.method !== Method.Binding) {
      // Indications are keepalives (RFC 8445 §11): nothing to do. A lite agent sends no requests,
      // so no response can be ours.
      this.stats.dropped++;
      return 'ignored';
    }
    if (verifyFingerprint(msg) !== 'ok') {
      this.stats.dropped++;
      return 'bad-fingerprint';
    }
    const username = msg.get(AttrType.Username);
    if (username === undefined || !msg.has(AttrType.MessageIntegrity)) {
      return this.#error(msg, from, to, ErrorCode.BadRequest, undefined, 'bad-request');
    }
    // RFC 8445 §7.3: USERNAME is valid when its part before the colon is our ufrag.
    let creds: IceCredentials | undefined;
    let isCurrent = false;
    if (ufragMatches(username, this.#local.ufrag)) {
      creds = this.#local;
      isCurrent = true;
    } else if (this.#previous !== undefined && ufragMatches(username, this.#previous.ufrag)) {
      creds = this.#previous;
    }
    if (creds === undefined)
      return this.#error(msg, from, to, ErrorCode.Unauthorized, undefined, 'unauthorized');
    const key = integrityKey(creds.pwd);
    if (verifyMessageIntegrity(msg, key) !== 'ok') {
      return this.#error(msg, from, to, ErrorCode.Unauthorized, undefined, 'unauthorized');
    }
    // Authenticated from here on: the error responses carry MESSAGE-INTEGRITY.
    if (msg.unknownRequired.length > 0) {
      return this.#error(msg, from, to, ErrorCode.UnknownAttribute, creds, 'unknown-attribute');
    }
    if (msg.has(AttrType.IceControlled)) {
      // Both sides claim controlled; the lite side cannot become controlling (see class doc).
      return this.#error(msg, from, to, ErrorCode.RoleConflict, creds, 'role-conflict');
    }
    if (isCurrent && !this.#localUsed) {
      this.#localUsed = true;
      if (this.#previous !== undefined) {
        // The peer speaks the new credentials: the restart is complete (RFC 8445 §9).
        this.#previous = undefined;
        this.#emit({ type: 'restart-complete', ufrag: this.#local.ufrag });
      }
    }

    const local = this.#findLocal(to);
    let remote = this.#findRemote(from);
    if (remote < 0) remote = this.#learnPeerReflexive(msg, from);
    if (this.#state === 'new') this.#setState('checking');
    if (local >= 0 && remote >= 0) this.#onAuthenticatedCheck(local, remote, msg.useCandidate(), now);

    const source = local >= 0 ? this.#localCandidates[local]!.address : to;
    const b = scratchBuilder()
      .resetResponse(msg, MessageClass.Success)
      .addXorMappedAddress(from)
      .addMessageIntegrity(key)
      .addFingerprint();
    this.#queue(source, from, b.view());
    this.stats.checksAnswered++;
    return 'answered';
  }

  pollTransmit(): Transmit | undefined {
    const out = this.#out;
    if (out === undefined || out.length === 0) return undefined;
    const t = out.shift()!;
    releaseView(t);
    return t;
  }

  /** The next consent deadline on the selected pair (RFC 7675), if any. */
  pollTimeout(): number | undefined {
    const s = this.#selected;
    if (s === undefined) return undefined;
    switch (this.#state) {
      case 'connected':
      case 'completed':
        return s.refreshedAt + this.#disconnectedTimeout;
      case 'disconnected':
        return s.refreshedAt + this.#consentTimeout;
      case 'new':
      case 'checking':
      case 'failed':
      case 'closed':
        return undefined;
      default:
        return unreachable(this.#state);
    }
  }

  handleTimeout(now: number): void {
    const s = this.#selected;
    if (s === undefined) return;
    if (
      (this.#state === 'connected' || this.#state === 'completed') &&
      now >= s.refreshedAt + this.#disconnectedTimeout
    ) {
      this.#setState('disconnected');
    }
    if (this.#state === 'disconnected' && now >= s.refreshedAt + this.#consentTimeout) {
      // RFC 7675 §5.1: consent expired; stop using the pair.
      this.#selected = undefined;
      this.#setState('failed');
    }
  }

  pollEvent(): IceEvent | undefined {
    const e = this.#events;
    return e === undefined || e.length === 0 ? undefined : e.shift();
  }

  // ---- internals -----------------------------------------------------------------------------

  #onAuthenticatedCheck(local: number, remote: number, useCandidate: boolean, now: number): void {
    const s = this.#selected;
    const onSelected = s !== undefined && s.local === local && s.remote === remote;
    if (onSelected) {
      s.refreshedAt = now;
      if (this.#state === 'disconnected') this.#setState('connected');
      return;
    }
    // RFC 8445 §7.3.2 / §8.2: a lite agent accepting USE-CANDIDATE puts the pair in the valid list
    // as nominated; with one component it becomes the selected pair right away.
    if (!useCandidate || this.#state === 'failed') return;
    if (s === undefined) this.#selected = { local, remote, refreshedAt: now };
    else {
      s.local = local;
      s.remote = remote;
      s.refreshedAt = now;
    }
    this.#emit({
      type: 'selected-pair',
      local: this.#localCandidates[local]!,
      remote: this.#remoteCandidates![remote]!,
    });
    if (this.#state !== 'connected') this.#setState('connected');
  }

  /**
   * RFC 8445 §7.3.1.3: a request from an unknown address adds a peer-reflexive remote candidate
   * with the PRIORITY of the request and a fresh foundation. Only after authentication.
   */
  #learnPeerReflexive(msg: StunMessage, from: SocketAddress): number {
    this.#remoteCandidates ??= [];
    const list = this.#remoteCandidates;
    if (list.length >= this.#maxRemote) {
      this.stats.remoteCandidatesRefused++;
      return -1;
    }
    const candidate: Candidate = {
      foundation: `prflx${list.length}`,
      component: 1,
      transport: 'UDP',
      priority: msg.priority() ?? candidatePriority('prflx'),
      address: { address: from.address, port: from.port, family: from.family },
      type: 'prflx',
    };
    list.push(candidate);
    this.#emit({ type: 'remote-candidate', candidate });
    return list.length - 1;
  }

  /** The local candidate a datagram arrived on; with one candidate (or no `to`), that one. */
  #findLocal(to: SocketAddress | undefined): number {
    const list = this.#localCandidates;
    if (to !== undefined) {
      for (let i = 0; i < list.length; i++) if (sameAddress(list[i]!.address, to)) return i;
    }
    // Sockets bound to a wildcard address report 0.0.0.0 / :: — fall back to the first candidate.
    return list.length > 0 ? 0 : -1;
  }

  #findRemote(addr: SocketAddress): number {
    const list = this.#remoteCandidates;
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
    const local = this.#findLocal(to);
    this.#queue(local >= 0 ? this.#localCandidates[local]!.address : to, from, b.view());
    this.stats.errorsSent++;
    return verdict;
  }

  #queue(source: SocketAddress | undefined, destination: SocketAddress, view: Uint8Array): void {
    this.#out ??= [];
    const out = this.#out;
    if (out.length >= this.#maxOut) {
      this.stats.transmitsDropped++;
      return;
    }
    const t: Transmit =
      source === undefined ? { destination, payload: view } : { source, destination, payload: view };
    holdView(t);
    out.push(t);
  }

  #setState(state: IceState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#emit({ type: 'state', state });
  }

  #emit(e: IceEvent): void {
    this.#events ??= [];
    this.#events.push(e);
  }
}

/** True when the USERNAME bytes are `ufrag ":" ...` (ufrag is ASCII ice-chars). No allocation. */
function ufragMatches(username: Uint8Array, ufrag: string): boolean {
  const n = ufrag.length;
  if (username.length <= n || username[n] !== 0x3a) return false;
  for (let i = 0; i < n; i++) if (username[i] !== ufrag.charCodeAt(i)) return false;
  return true;
}

function positive(v: number, name: string): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a positive number`);
  return v;
}

function unreachable(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
