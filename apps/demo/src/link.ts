/**
 * The demo's signalling between the two processes: JSON lines over the child's stdin/stdout
 * (what SDP offer/answer would carry, reduced to the ICE attributes).
 */
import type { IceState } from '@natkit/ice-lite';
import type { MuxStats } from './mux.ts';

export interface WireAddress {
  address: string;
  port: number;
}

export type ToRemote =
  | { type: 'offer'; id: string; ufrag: string; pwd: string; candidate: WireAddress; ssrc: number }
  | { type: 'discover'; server: WireAddress }
  | { type: 'report' }
  | { type: 'exit' };

export interface RemoteSessionReport {
  id: string;
  state: IceState;
  checksSent: number;
  retransmits: number;
  rtt: number | undefined;
  connectMs: number | undefined;
  echoed: number;
}

export type FromRemote =
  | { type: 'ready'; port: number; address: string; runtime: string }
  | { type: 'answer'; id: string; ufrag: string; pwd: string }
  | { type: 'mapped'; mapped: WireAddress | undefined; rtt: number | undefined; error?: string }
  | { type: 'state'; id: string; state: IceState }
  | { type: 'report'; sessions: RemoteSessionReport[]; mux: MuxStats }
  | { type: 'error'; message: string };
