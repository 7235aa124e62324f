import {
  type DeadlineEntry,
  DeadlineHeap,
  Fifo,
  type Machine,
  type SocketAddress,
  type Transmit,
} from '@natkit/sans-io';
import { AttrType, decode, MessageClass, transactionIdKey } from '@natkit/stun-codec';
import type { IceAgent } from './agent.ts';
import type { IceEvent, InputVerdict } from './types.ts';
import { UfragIndex } from './ufrag-index.ts';

/** An event of one of the router's agents. */
export interface RouterEvent {
  type: 'agent';
  agent: IceAgent;
  event: IceEvent;
}

/** What the router did with a datagram: the agent's verdict, or why no agent got it. */
export type RouterVerdict = InputVerdict | 'unknown-ufrag' | 'unknown-transaction';

/** Router counters (never reset). */
export interface IceRouterStats {
  /** Requests whose USERNAME named no registered agent (dropped silently). */
  unknownUfrag: number;
  /** Responses matching no outstanding request of any agent. */
  unknownTransaction: number;
}

interface Entry extends DeadlineEntry {
  readonly agent: IceAgent;
  /** The ufrags this agent is indexed under (current, and the pre-restart one while honoured). */
  ufrags: string[];
  /** Whether the agent is in the ready queue (may have transmits). */
  ready: boolean;
  /** Cleared by `remove`: a flag on the entry is cheaper than a `Map` lookup per packet. */
  live: boolean;
  /** Whether it was re-allocated when its agent answered a first check (see `#rehome`). */
  rehomed: boolean;
}

/** A new entry; the one literal for every entry, so all share one hidden class. */
function newEntry(agent: IceAgent, ufrags: string[]): Entry {
  return { agent, ufrags, ready: false, live: true, rehomed: false, deadline: 0, heapIndex: -1 };
}

/** RFC 8489 §6.3.1 suggests remembering transactions for 40 s; responses later than that are stale. */
const TRANSACTION_TTL = 40_000;

/**
 * Many ICE agents behind one socket (design.md "How machines nest"), itself a {@link Machine}.
 *
 * Incoming STUN is routed in O(1): requests by the local ufrag (the part of USERNAME before the
 * colon, RFC 8445 §7.3) through a {@link UfragIndex} read straight from the datagram's bytes,
 * responses by transaction ID through a `Map` filled as the agents' requests leave. Timers live
 * in one indexed heap (O(log n) per timeout; a check moves no timer, see `#after`). Transmits
 * are pulled from the agents lazily, so their zero-copy views stay valid.
 *
 * A request for an unknown ufrag is dropped silently and counted rather than answered with 401:
 * the router holds no credentials, and staying silent gives scanners nothing to reflect.
 */
export class IceRouter implements Machine<RouterEvent> {
  readonly stats: IceRouterStats = { unknownUfrag: 0, unknownTransaction: 0 };
  readonly #byUfrag = new UfragIndex<Entry>();
  #entries = new Map<IceAgent, Entry>();
  #transactions = new Map<string, { entry: Entry; at: number }>();
  #heap = new DeadlineHeap<Entry>();
  readonly #ready = new Fifo<Entry>();
  readonly #events = new Fifo<RouterEvent>();
  #now = 0;

  /** Number of agents. */
  get size(): number {
    return this.#entries.size;
  }

  /** Registers an agent under its local ufrag. @throws if that ufrag is taken. */
  add(agent: IceAgent): void {
    if (this.#entries.has(agent)) throw new Error('agent already added');
    const e = newEntry(agent, []);
    this.#index(e); // throws before anything is registered when the ufrag is taken
    this.#entries.set(agent, e);
    this.#after(e);
  }

  /** Removes an agent (and its routes). */
  remove(agent: IceAgent): void {
    const e = this.#entries.get(agent);
    if (e === undefined) return;
    for (const u of e.ufrags) if (this.#byUfrag.get(u) === e) this.#byUfrag.delete(u);
    e.ufrags = [];
    e.live = false;
    this.#heap.set(e, undefined);
    this.#entries.delete(agent);
  }

  /** The agent whose local ufrag is `ufrag`. */
  get(ufrag: string): IceAgent | undefined {
    return this.#byUfrag.get(ufrag)?.agent;
  }

  /**
   * Re-reads the agent's ufrags after a call made directly on it (e.g. `agent.restart()`), so
   * checks with the new ufrag reach it. Calls through the router re-index by themselves.
   */
  update(agent: IceAgent): void {
    const e = this.#entries.get(agent);
    if (e === undefined) return;
    this.#index(e);
    this.#after(e);
  }

  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): RouterVerdict {
    this.#now = now;
    // RFC 7983: 0–3 is STUN's range, so a short datagram there is malformed STUN (as in IceAgent).
    if (payload.length === 0 || payload[0]! > 3) return 'not-stun';
    if (payload.length < 20) return 'malformed';
    const r = decode(payload);
    if (!r.ok) return 'malformed';
    const msg = r.message;
    let e: Entry | undefined;
    if (msg.messageClass === MessageClass.Request) {
      const o = msg.offsetOf(AttrType.Username);
      if (o >= 0) {
        const start = o + 4;
        const end = start + ((payload[o + 2]! << 8) | payload[o + 3]!);
        let colon = start;
        while (colon < end && payload[colon] !== 0x3a) colon++;
        e = this.#byUfrag.lookup(payload, start, colon);
      }
      if (e === undefined) {
        this.stats.unknownUfrag++;
        return 'unknown-ufrag';
      }
    } else if (msg.messageClass === MessageClass.Success || msg.messageClass === MessageClass.Error) {
      this.#purgeTransactions(now);
      const key = transactionIdKey(msg.transactionId);
      const t = this.#transactions.get(key);
      // A removed agent's transactions stay in the map until they expire; they route nowhere.
      if (t === undefined || now - t.at > TRANSACTION_TTL || !t.entry.live) {
        this.stats.unknownTransaction++;
        return 'unknown-transaction';
      }
      e = t.entry;
    } else {
      return 'ignored';
    }
    const verdict = e.agent.handleMessage(msg, from, now, to);
    if (!e.rehomed && verdict === 'answered') e = this.#rehome(e);
    this.#after(e);
    return verdict;
  }

  pollTransmit(): Transmit | undefined {
    const ready = this.#ready;
    for (let e = ready.peek(); e !== undefined; e = ready.peek()) {
      const t = e.agent.pollTransmit();
      if (t !== undefined) {
        this.#track(e, t.payload);
        return t;
      }
      e.ready = false;
      ready.shift();
    }
    return undefined;
  }

  pollTimeout(): number | undefined {
    return this.#heap.peek()?.deadline;
  }

  handleTimeout(now: number): void {
    this.#now = now;
    for (let top = this.#heap.peek(); top !== undefined && top.deadline <= now; top = this.#heap.peek()) {
      top.agent.handleTimeout(now);
      this.#after(top, true);
      // A machine must move its deadline past `now`; unschedule one that does not rather than spin.
      if (top.heapIndex >= 0 && top.deadline <= now) this.#heap.set(top, undefined);
    }
    this.#purgeTransactions(now);
  }

  pollEvent(): RouterEvent | undefined {
    return this.#events.shift();
  }

  /**
   * After any call into an agent: collect events, mark it ready, move its timer, re-index.
   *
   * Timers move lazily: a deadline that came *earlier* (or a first one) is scheduled at once; a
   * later one (every consent check pushes the agent's deadline back) leaves the entry where it
   * is, and when it fires the agent's `handleTimeout` finds nothing due and the real deadline is
   * read then (`exact`). So a check costs no heap sift; a timer costs O(log n) once per deadline.
   */
  #after(e: Entry, exact = false): void {
    for (let ev = e.agent.pollEvent(); ev !== undefined; ev = e.agent.pollEvent()) {
      if (ev.type === 'restart-complete') this.#index(e);
      this.#events.push({ type: 'agent', agent: e.agent, event: ev });
    }
    if (!e.ready) {
      e.ready = true;
      this.#ready.push(e);
    }
    if (!e.live) return;
    const d = e.agent.pollTimeout();
    if (exact || (d !== undefined && (e.heapIndex < 0 || d < e.deadline))) this.#heap.set(e, d);
  }

  /**
   * An agent answered its first check: it turns busy. Its entry and index slots are
   * re-allocated now, next to the other busy agents' (see `UfragIndex.rehome`), so the lines a
   * check reads are not scattered among the idle agents' (with 100k agents and the busy ones
   * spread among them at random, that scatter cost a check about a quarter more than with 1k).
   * The slots take the agent's ufrag strings, which it has just re-allocated as well (see
   * `IceAgent.#rehome`), so one copy of each remains. The entry moves only when nothing else
   * holds it: not queued as ready, no timer, and a lite agent, which sends no requests that
   * `#transactions` could hold it for. Otherwise only its slots move.
   */
  #rehome(e: Entry): Entry {
    e.rehomed = true;
    const a = e.agent;
    const current = [a.localCredentials.ufrag, a.previousCredentials?.ufrag];
    const ufrags = e.ufrags.map((u) => current.find((c) => c === u) ?? u);
    let moved = e;
    if (!e.ready && e.heapIndex < 0 && a.mode === 'lite') {
      moved = newEntry(a, ufrags);
      moved.rehomed = true;
      moved.deadline = e.deadline;
      e.live = false;
      this.#entries.set(a, moved);
    } else e.ufrags = ufrags;
    for (const u of ufrags) this.#byUfrag.rehome(u, moved);
    return moved;
  }

  #index(e: Entry): void {
    const a = e.agent;
    const want = [a.localCredentials.ufrag];
    if (a.previousCredentials !== undefined) want.push(a.previousCredentials.ufrag);
    for (const u of want) {
      const other = this.#byUfrag.get(u);
      if (other !== undefined && other !== e)
        throw new Error(`ufrag ${u} is already routed to another agent`);
    }
    for (const u of e.ufrags) if (!want.includes(u) && this.#byUfrag.get(u) === e) this.#byUfrag.delete(u);
    for (const u of want) this.#byUfrag.set(u, e);
    e.ufrags = want;
  }

  /** Remembers the transaction ID of a request an agent sends, to route its response back. */
  #track(e: Entry, payload: Uint8Array): void {
    // Class bits C1 (0x0100) and C0 (0x0010) both zero: a request (RFC 8489 §5).
    if (payload.length < 20 || payload[0]! > 3 || (payload[0]! & 0x01) !== 0 || (payload[1]! & 0x10) !== 0)
      return;
    this.#transactions.set(transactionIdKey(payload.subarray(8, 20)), { entry: e, at: this.#now });
  }

  /** Map iteration is insertion order, and insertion times only grow: purge from the front. */
  #purgeTransactions(now: number): void {
    for (const [k, t] of this.#transactions) {
      if (now - t.at <= TRANSACTION_TTL) break;
      this.#transactions.delete(k);
    }
  }
}
