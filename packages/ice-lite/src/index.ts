/**
 * @natkit/ice-lite — ICE (RFC 8445) as sans-IO machines: candidates, priorities, SDP helpers
 * for the ICE attributes, an agent (lite: answers connectivity checks; full: gathers, checks and
 * nominates), a router that serves many agents behind one socket, and a transport that carries
 * the application's data on an agent's selected pair.
 */

export type { IceAgentOptions } from './agent.ts';
export { IceAgent } from './agent.ts';
export type { Candidate, CandidateType } from './candidate.ts';
export {
  addressKey,
  candidateFoundation,
  candidatePriority,
  hostCandidate,
  pairPriority,
  sameAddress,
  TYPE_PREFERENCE,
} from './candidate.ts';
export type { IceCredentials } from './credentials.ts';
export {
  assertCredentials,
  defaultRandom,
  generateCredentials,
  ICE_CHARS,
  isIceString,
  isValidPwd,
  isValidUfrag,
  randomIceString,
} from './credentials.ts';
export type { IceRouterStats, RouterEvent, RouterVerdict } from './router.ts';
export { IceRouter } from './router.ts';
export { setIntegrityKeyCacheSize } from './scratch.ts';
export type { CandidateParseError, CandidateParseResult, IceDescription, IceLine } from './sdp.ts';
export { formatCandidate, formatIceLines, parseCandidate, parseIceDescription, parseIceLine } from './sdp.ts';
export type {
  IceTransportEvent,
  IceTransportOptions,
  IceTransportStats,
  IceTransportVerdict,
} from './transport.ts';
export { IceTransport } from './transport.ts';
export type {
  IceAgentStats,
  IceEvent,
  IceMode,
  IceRole,
  IceState,
  InputVerdict,
  PairAddresses,
} from './types.ts';
