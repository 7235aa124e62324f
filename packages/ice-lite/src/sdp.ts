import type { SocketAddress } from '@natkit/sans-io';
import type { Candidate, CandidateType } from './candidate.ts';
import { isIceString, isValidPwd, isValidUfrag } from './credentials.ts';

/**
 * SDP helpers for the ICE attributes only (RFC 8839 §5, RFC 8840 §8.2). Not an SDP stack:
 * callers hand over single lines (with or without the leading `a=`) or a whole description to
 * scan. Parsing never throws — SDP arrives from the other side.
 */

/** Why a candidate line was rejected or must be ignored (RFC 8839 §5.1: ignore what you cannot use). */
export type CandidateParseError =
  | 'not-a-candidate'
  | 'too-few-fields'
  | 'bad-foundation'
  | 'bad-component'
  | 'bad-priority'
  | 'bad-port'
  | 'bad-type'
  | 'unsupported-type'
  | 'unsupported-address'
  | 'bad-related-address';

export type CandidateParseResult =
  | { ok: true; candidate: Candidate }
  | { ok: false; reason: CandidateParseError };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;
const DIGITS = /^\d+$/;

/** IPv4 dotted quad → IPv4; anything with a colon made of hex digits → IPv6; FQDN (e.g. mDNS `.local`) → undefined. */
function family(address: string): SocketAddress['family'] | undefined {
  if (IPV4.test(address)) return 'IPv4';
  if (address.includes(':') && IPV6.test(address)) return 'IPv6';
  return undefined;
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !DIGITS.test(text) || text.length > 5) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

const TYPES: ReadonlySet<string> = new Set(['host', 'srflx', 'prflx', 'relay']);

/**
 * Parses `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
 * [raddr <a> rport <p>] *(<ext-name> <ext-value>)` (RFC 8839 §5.1), accepting a leading `a=`.
 * Extensions (Chromium's `generation`, `ufrag`, `network-id`, `network-cost`, `tcptype`…) are
 * kept, never required. FQDN addresses (mDNS) are reported as `unsupported-address` rather than
 * resolved: the agent must not generate FQDN candidates and may ignore remote ones (§5.1).
 */
export function parseCandidate(line: string): CandidateParseResult {
  let text = line.trim();
  if (text.startsWith('a=')) text = text.slice(2);
  if (!text.startsWith('candidate:')) return { ok: false, reason: 'not-a-candidate' };
  const f = text.slice('candidate:'.length).split(/\s+/);
  if (f.length < 8) return { ok: false, reason: 'too-few-fields' };
  const [foundation, componentText, transportText, priorityText, addressText, portText, typ, typeText] =
    f as [string, string, string, string, string, string, string, string];
  if (!isIceString(foundation, 1, 32)) return { ok: false, reason: 'bad-foundation' };
  if (!DIGITS.test(componentText) || componentText.length > 3) return { ok: false, reason: 'bad-component' };
  const component = Number(componentText);
  if (component < 1 || component > 256) return { ok: false, reason: 'bad-component' };
  if (!DIGITS.test(priorityText) || priorityText.length > 10) return { ok: false, reason: 'bad-priority' };
  const priority = Number(priorityText);
  if (priority < 1 || priority > 0x7fffffff) return { ok: false, reason: 'bad-priority' };
  const port = parsePort(portText);
  if (port === undefined) return { ok: false, reason: 'bad-port' };
  if (typ !== 'typ') return { ok: false, reason: 'bad-type' };
  if (!TYPES.has(typeText)) return { ok: false, reason: 'unsupported-type' };
  const fam = family(addressText);
  if (fam === undefined) return { ok: false, reason: 'unsupported-address' };

  let related: SocketAddress | undefined;
  let extensions: Record<string, string> | undefined;
  let raddr: string | undefined;
  let rport: number | undefined;
  for (let i = 8; i + 1 < f.length; i += 2) {
    const name = f[i]!;
    const value = f[i + 1]!;
    if (name === 'raddr') raddr = value;
    else if (name === 'rport') {
      rport = parsePort(value);
      if (rport === undefined) return { ok: false, reason: 'bad-related-address' };
    } else {
      extensions ??= {};
      extensions[name] = value;
    }
  }
  if (raddr !== undefined || rport !== undefined) {
    const rfam = raddr === undefined ? undefined : family(raddr);
    if (rfam === undefined || rport === undefined) return { ok: false, reason: 'bad-related-address' };
    related = { address: raddr!, port: rport, family: rfam };
  }
  const candidate: Candidate = {
    foundation,
    component,
    transport: transportText.toUpperCase(),
    priority,
    address: { address: addressText, port, family: fam },
    type: typeText as CandidateType,
    ...(related ? { related } : {}),
    ...(extensions ? { extensions } : {}),
  };
  return { ok: true, candidate };
}

/**
 * Formats a candidate as `candidate:...` (no `a=`; prepend it for SDP, use as-is for
 * RTCIceCandidateInit.candidate). srflx/prflx/relay without a related address get the
 * privacy placeholder `0.0.0.0`/`::` port 9 that RFC 8839 §5.1 allows, since raddr/rport are
 * mandatory for them.
 */
export function formatCandidate(c: Candidate): string {
  let s = `candidate:${c.foundation} ${c.component} ${c.transport} ${c.priority} ${c.address.address} ${c.address.port} typ ${c.type}`;
  if (c.type !== 'host') {
    const r = c.related ?? { address: c.address.family === 'IPv6' ? '::' : '0.0.0.0', port: 9 };
    s += ` raddr ${r.address} rport ${r.port}`;
  } else if (c.related) {
    s += ` raddr ${c.related.address} rport ${c.related.port}`;
  }
  if (c.extensions) for (const [k, v] of Object.entries(c.extensions)) s += ` ${k} ${v}`;
  return s;
}

/** One ICE-relevant SDP line, classified. */
export type IceLine =
  | { type: 'candidate'; candidate: Candidate }
  | { type: 'ice-ufrag'; ufrag: string }
  | { type: 'ice-pwd'; pwd: string }
  | { type: 'ice-lite' }
  | { type: 'ice-options'; options: string[] }
  | { type: 'end-of-candidates' }
  | { type: 'media' }
  | { type: 'invalid'; attribute: string; reason: string }
  | { type: 'other' };

/**
 * Classifies one SDP line. `ice-ufrag`/`ice-pwd` values breaking RFC 8839 §5.4 (4–256 / 22–256
 * ice-chars) and unusable candidates come back as `invalid` with a reason.
 */
export function parseIceLine(line: string): IceLine {
  const text = line.trim();
  if (text.startsWith('m=')) return { type: 'media' };
  if (!text.startsWith('a=')) return { type: 'other' };
  const attr = text.slice(2);
  const colon = attr.indexOf(':');
  const name = colon < 0 ? attr : attr.slice(0, colon);
  const value = colon < 0 ? '' : attr.slice(colon + 1);
  switch (name) {
    case 'candidate': {
      const r = parseCandidate(attr);
      return r.ok
        ? { type: 'candidate', candidate: r.candidate }
        : { type: 'invalid', attribute: name, reason: r.reason };
    }
    case 'ice-ufrag':
      return isValidUfrag(value)
        ? { type: 'ice-ufrag', ufrag: value }
        : { type: 'invalid', attribute: name, reason: 'ufrag must be 4-256 ice-chars' };
    case 'ice-pwd':
      return isValidPwd(value)
        ? { type: 'ice-pwd', pwd: value }
        : { type: 'invalid', attribute: name, reason: 'pwd must be 22-256 ice-chars' };
    case 'ice-lite':
      return { type: 'ice-lite' };
    case 'ice-options':
      return { type: 'ice-options', options: value.split(/\s+/).filter((o) => o.length > 0) };
    case 'end-of-candidates':
      return { type: 'end-of-candidates' };
    default:
      return { type: 'other' };
  }
}

/** The ICE parameters of one description (first media section; media level overrides session level). */
export interface IceDescription {
  ufrag?: string;
  pwd?: string;
  /** `a=ice-lite` at session level (RFC 8839 §5.3). */
  lite: boolean;
  options: string[];
  candidates: Candidate[];
  endOfCandidates: boolean;
  /** Lines that looked like ICE attributes but were unusable, with why. */
  ignored: { attribute: string; reason: string }[];
}

/**
 * Scans a whole SDP for the ICE attributes of its session level and FIRST media section (the
 * BUNDLE case: one transport for everything). Later media sections are skipped.
 */
export function parseIceDescription(sdp: string): IceDescription {
  const out: IceDescription = {
    lite: false,
    options: [],
    candidates: [],
    endOfCandidates: false,
    ignored: [],
  };
  let media = 0;
  for (const line of sdp.split(/\r?\n/)) {
    const l = parseIceLine(line);
    if (l.type === 'media') {
      media++;
      continue;
    }
    if (media > 1) continue;
    switch (l.type) {
      case 'candidate':
        out.candidates.push(l.candidate);
        break;
      case 'ice-ufrag':
        out.ufrag = l.ufrag;
        break;
      case 'ice-pwd':
        out.pwd = l.pwd;
        break;
      case 'ice-lite':
        out.lite = true;
        break;
      case 'ice-options':
        out.options = l.options;
        break;
      case 'end-of-candidates':
        out.endOfCandidates = true;
        break;
      case 'invalid':
        out.ignored.push({ attribute: l.attribute, reason: l.reason });
        break;
      case 'other':
        break;
      default: {
        const never: never = l;
        return never;
      }
    }
  }
  return out;
}

/**
 * The ICE lines of a description, each starting with `a=` (join with `\r\n`). `ice-lite` is a
 * session-level attribute: callers place that line before the first `m=` line.
 */
export function formatIceLines(d: {
  ufrag: string;
  pwd: string;
  lite?: boolean;
  options?: readonly string[];
  candidates?: readonly Candidate[];
  endOfCandidates?: boolean;
}): string[] {
  const lines: string[] = [];
  if (d.lite) lines.push('a=ice-lite');
  lines.push(`a=ice-ufrag:${d.ufrag}`, `a=ice-pwd:${d.pwd}`);
  if (d.options && d.options.length > 0) lines.push(`a=ice-options:${d.options.join(' ')}`);
  for (const c of d.candidates ?? []) lines.push(`a=${formatCandidate(c)}`);
  if (d.endOfCandidates) lines.push('a=end-of-candidates');
  return lines;
}
