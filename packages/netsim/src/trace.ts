import type { SocketAddress } from '@natkit/sans-io';
import { formatSocketAddress } from './address.ts';

/** Why a datagram went nowhere. */
export type DropReason =
  /** The link lost it (`LinkConditions.loss`). */
  | 'loss'
  /** Larger than the network's `mtu`. */
  | 'too-big'
  /** No host, NAT or gateway for the destination address on this network. */
  | 'no-host'
  /** The destination host exists but nothing is bound to that port (no ICMP is modelled). */
  | 'no-listener'
  /** Arrived at a NAT's external address on a port with no live mapping. */
  | 'no-mapping'
  /** A live mapping exists but the NAT's filtering refused this remote (RFC 4787 §5). */
  | 'nat-filtered'
  /** Sent from inside a NAT to its own external address, and the NAT does not hairpin. */
  | 'hairpin-disabled'
  /** The NAT had no free external port for a new mapping. */
  | 'nat-ports-exhausted'
  /** The machine asked to send from a `Transmit.source` it is not bound to. */
  | 'bad-source'
  /**
   * Source and destination are of different IP families (the host has no address of the
   * destination's family, or `Transmit.source` is of the other one), or the datagram reached a
   * NAT whose external address is of the other family: netsim's NATs translate one family and
   * carry nothing of the other (no NAT64, no routing around the NAT).
   */
  | 'family-mismatch';

interface TraceBase {
  /** The datagram's id: every hop and duplicate of one `Transmit` shares it. */
  readonly packet: number;
  /** 0 for the original; for a link-made duplicate (and its later hops) an id above 0, unique in the sim. */
  readonly copy: number;
  /** 0 for the hop leaving the sending host, +1 per NAT crossed. */
  readonly hop: number;
  /** Name of the host whose machine sent the datagram. */
  readonly origin: string;
  /** Network this hop travelled on. */
  readonly network: string;
  /** Virtual time the hop started, ms. */
  readonly sentAt: number;
  /** Virtual time of the verdict (arrival, or `sentAt` for drops decided when sending), ms. */
  readonly time: number;
  /** Source and destination as seen on this hop (after any earlier NAT's translation). */
  readonly from: SocketAddress;
  readonly to: SocketAddress;
  readonly size: number;
  /** The bytes (shared with the receiver, not copied). */
  readonly payload: Uint8Array;
}

/** One hop of one datagram and what became of it. */
export type TraceEntry = TraceBase &
  (
    | { readonly verdict: 'delivered'; readonly host: string; readonly endpoint: string }
    | {
        readonly verdict: 'translated';
        readonly nat: string;
        /** The addresses the next hop carries. */
        readonly next: { readonly from: SocketAddress; readonly to: SocketAddress };
        readonly hairpin: boolean;
      }
    | {
        readonly verdict: 'dropped';
        readonly reason: DropReason /** Network, NAT or host that dropped it. */;
        readonly by: string;
      }
  );

/** One line per hop, for debugging: `  12.000 #3.0/1 internet 192.0.2.1:5000 -> 198.51.100.1:3478 20B delivered server/stun`. */
export function formatTraceEntry(e: TraceEntry): string {
  const head =
    `${e.time.toFixed(3).padStart(10)} #${e.packet}${e.copy ? `+${e.copy}` : ''}/${e.hop} ${e.network} ` +
    `${formatSocketAddress(e.from)} -> ${formatSocketAddress(e.to)} ${e.size}B`;
  switch (e.verdict) {
    case 'delivered':
      return `${head} delivered ${e.host}/${e.endpoint}`;
    case 'translated':
      return (
        `${head} ${e.hairpin ? 'hairpinned' : 'translated'} by ${e.nat} to ` +
        `${formatSocketAddress(e.next.from)} -> ${formatSocketAddress(e.next.to)}`
      );
    case 'dropped':
      return `${head} DROPPED ${e.reason} (${e.by})`;
    default: {
      const never: never = e;
      return String(never);
    }
  }
}
