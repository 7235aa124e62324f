import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { TimerQueue } from '../src/timer-queue.ts';

/** What the link does to one datagram. */
export interface Fate {
  drop: boolean;
  /** Deliver a second copy too. */
  duplicate: boolean;
  /** One-way delay in ms (different delays reorder datagrams). */
  delay: number;
  /** Extra delay of the duplicate. */
  dupDelay: number;
}

export interface Delivery {
  at: number;
  from: SocketAddress;
  to: SocketAddress;
  payload: Uint8Array;
}

export interface Node {
  address: SocketAddress;
  machine: Machine<unknown>;
}

/**
 * A deterministic in-memory network between machines with fixed addresses: every datagram gets
 * a {@link Fate} from `fateOf` (loss, duplication, delay/reordering), time is virtual, and the
 * run asserts the no-busy-loop rule after every `handleTimeout`.
 */
export class Link {
  readonly #nodes: Node[];
  readonly #inFlight = new TimerQueue<Delivery>();
  readonly #fateOf: (t: Transmit, from: SocketAddress, index: number) => Fate;
  #count = 0;
  /** Every datagram delivered, in delivery order. */
  readonly delivered: Delivery[] = [];

  constructor(nodes: Node[], fateOf: (t: Transmit, from: SocketAddress, index: number) => Fate) {
    this.#nodes = nodes;
    this.#fateOf = fateOf;
  }

  /** Runs until nothing is left to do or `until`; calls `onStep(now)` after every instant. */
  run(start: number, until: number, onStep?: (now: number) => void): number {
    let now = start;
    this.#flush(now);
    onStep?.(now);
    for (;;) {
      let next = this.#inFlight.next();
      for (const n of this.#nodes) {
        const t = n.machine.pollTimeout();
        if (t !== undefined && (next === undefined || t < next)) next = t;
      }
      if (next === undefined || next > until) return now;
      now = Math.max(now, next);
      // Datagrams first, then timers, at each instant.
      for (let d = this.#inFlight.popDue(now); d !== undefined; d = this.#inFlight.popDue(now)) {
        const node = this.#nodes.find((n) => sameAddr(n.address, d.item.to));
        if (node === undefined) continue;
        this.delivered.push(d.item);
        node.machine.handleInput(d.item.payload, d.item.from, now, d.item.to);
      }
      for (const n of this.#nodes) {
        const t = n.machine.pollTimeout();
        if (t !== undefined && t <= now) {
          n.machine.handleTimeout(now);
          const after = n.machine.pollTimeout();
          if (after !== undefined && after <= now)
            throw new Error(`busy loop: pollTimeout ${after} <= ${now}`);
        }
      }
      this.#flush(now);
      onStep?.(now);
    }
  }

  #flush(now: number): void {
    for (const n of this.#nodes) {
      for (let t = n.machine.pollTransmit(); t !== undefined; t = n.machine.pollTransmit()) {
        const fate = this.#fateOf(t, n.address, this.#count++);
        if (fate.drop) continue;
        const payload = t.payload.slice();
        const from = t.source ?? n.address;
        this.#inFlight.arm(now + fate.delay, { at: now + fate.delay, from, to: t.destination, payload });
        if (fate.duplicate) {
          const at = now + fate.delay + fate.dupDelay;
          this.#inFlight.arm(at, { at, from, to: t.destination, payload });
        }
      }
    }
  }
}

export const perfect: Fate = { drop: false, duplicate: false, delay: 10, dupDelay: 0 };

function sameAddr(a: SocketAddress, b: SocketAddress): boolean {
  return a.address === b.address && a.port === b.port && a.family === b.family;
}
