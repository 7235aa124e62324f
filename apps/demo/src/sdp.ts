/**
 * Just enough SDP (RFC 8866) for WHIP-style ICE sessions (RFC 9725's shape): read the ICE
 * attributes (RFC 8839) and media sections of an offer, answer it as an ICE-lite endpoint
 * (RFC 8445 §2.5) with a data-channel section (RFC 8841) on our one UDP socket.
 */
import {
  type Candidate,
  formatIceLines,
  type IceCredentials,
  isValidPwd,
  isValidUfrag,
  parseIceDescription,
} from '@natkit/ice-lite';

export interface MediaSection {
  media: string;
  proto: string;
  fmt: string;
  mid: string | undefined;
}

export interface Offer {
  remote: IceCredentials;
  candidates: Candidate[];
  sections: MediaSection[];
  /** Mids of `a=group:BUNDLE`, when present. */
  bundle: string[] | undefined;
}

export type OfferResult = { ok: true; offer: Offer } | { ok: false; reason: string };

const MAX_SDP = 64 * 1024;

/** Parses an offer; every failure is a reason a client can act on (the server answers 400 with it). */
export function parseOffer(sdp: string): OfferResult {
  if (sdp.length === 0) return { ok: false, reason: 'empty body: expected an SDP offer' };
  if (sdp.length > MAX_SDP) return { ok: false, reason: `SDP larger than ${MAX_SDP} bytes` };
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  if (!lines.every((l) => /^[a-z]=/.test(l))) {
    const bad = lines.find((l) => !/^[a-z]=/.test(l)) ?? '';
    return { ok: false, reason: `not SDP: line ${JSON.stringify(bad.slice(0, 60))} is not <type>=<value>` };
  }
  // ICE attributes of the session level and of the data section we accept (parseIceDescription
  // reads the first section only, and the data section need not be first).
  const firstM = lines.findIndex((l) => l.startsWith('m='));
  const dataM = lines.findIndex((l) => l.startsWith('m=application'));
  let scoped = lines;
  if (firstM >= 0 && dataM >= 0) {
    const end = lines.findIndex((l, i) => i > dataM && l.startsWith('m='));
    scoped = [...lines.slice(0, firstM), ...lines.slice(dataM, end < 0 ? lines.length : end)];
  }
  const ice = parseIceDescription(scoped.join('\r\n'));
  if (ice.ufrag === undefined) return { ok: false, reason: 'offer has no a=ice-ufrag' };
  if (ice.pwd === undefined) return { ok: false, reason: 'offer has no a=ice-pwd' };
  if (!isValidUfrag(ice.ufrag)) return { ok: false, reason: 'a=ice-ufrag must be 4-256 ice-chars' };
  if (!isValidPwd(ice.pwd)) return { ok: false, reason: 'a=ice-pwd must be 22-256 ice-chars' };
  const sections: MediaSection[] = [];
  let bundle: string[] | undefined;
  for (const l of lines) {
    if (l.startsWith('m=')) {
      const [media, , proto, ...fmt] = l.slice(2).split(' ');
      if (media === undefined || proto === undefined)
        return { ok: false, reason: `malformed media line ${l}` };
      sections.push({ media, proto, fmt: fmt.join(' '), mid: undefined });
    } else if (l.startsWith('a=mid:')) {
      const s = sections.at(-1);
      if (s !== undefined) s.mid = l.slice(6).trim();
    } else if (l.startsWith('a=group:BUNDLE')) {
      bundle = l.slice('a=group:BUNDLE'.length).trim().split(/\s+/).filter(Boolean);
    }
  }
  if (sections.length > 0 && !sections.some((s) => s.media === 'application')) {
    return {
      ok: false,
      reason: 'offer has no m=application section (this server answers data channels only)',
    };
  }
  // Only UDP candidates we can reach with the socket's family (IPv4 here).
  const candidates = ice.candidates.filter((c) => c.transport === 'UDP');
  return { ok: true, offer: { remote: { ufrag: ice.ufrag, pwd: ice.pwd }, candidates, sections, bundle } };
}

/** Any syntactically valid fingerprint: DTLS is out of scope, ICE state is what the demo shows. */
const FINGERPRINT = Array.from({ length: 32 }, (_, i) => ((i * 37 + 11) & 0xff).toString(16).padStart(2, '0'))
  .join(':')
  .toUpperCase();

export interface AnswerParams {
  local: IceCredentials;
  candidates: readonly Candidate[];
  sessionVersion: number;
}

/**
 * The answer: session-level `a=ice-lite`; the first m=application section accepted on our
 * socket with our credentials and candidates; every other section rejected (port 0,
 * RFC 8843 §7.3.3 takes it out of the bundle).
 */
export function buildAnswer(offer: Offer, p: AnswerParams): string {
  const c0 = p.candidates[0];
  if (c0 === undefined) throw new Error('buildAnswer needs at least one candidate');
  const ip = c0.address.address;
  const ipLine = `IN ${c0.address.family === 'IPv6' ? 'IP6' : 'IP4'} ${ip}`;
  const sections = offer.sections.length > 0 ? offer.sections : [defaultSection()];
  const accepted = sections.findIndex((s) => s.media === 'application');
  const out = ['v=0', `o=natkit ${p.sessionVersion} 1 ${ipLine}`, 's=natkit', 't=0 0', 'a=ice-lite'];
  const acceptedMid = sections[accepted]?.mid;
  if (offer.bundle !== undefined && acceptedMid !== undefined) out.push(`a=group:BUNDLE ${acceptedMid}`);
  sections.forEach((s, i) => {
    if (i !== accepted) {
      out.push(`m=${s.media} 0 ${s.proto} ${s.fmt}`, `c=${ipLine}`);
      if (s.mid !== undefined) out.push(`a=mid:${s.mid}`);
      out.push('a=inactive');
      return;
    }
    out.push(`m=${s.media} ${c0.address.port} ${s.proto} ${s.fmt}`, `c=${ipLine}`);
    if (s.mid !== undefined) out.push(`a=mid:${s.mid}`);
    out.push(
      ...formatIceLines({ ...p.local, candidates: p.candidates, endOfCandidates: true }),
      `a=fingerprint:sha-256 ${FINGERPRINT}`,
      'a=setup:passive',
    );
    if (s.proto.includes('SCTP')) out.push('a=sctp-port:5000', 'a=max-message-size:262144');
  });
  return `${out.join('\r\n')}\r\n`;
}

function defaultSection(): MediaSection {
  return { media: 'application', proto: 'UDP/DTLS/SCTP', fmt: 'webrtc-datachannel', mid: '0' };
}
