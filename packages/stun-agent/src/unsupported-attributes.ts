import { isKnownAttribute, MAX_UNKNOWN_REQUIRED, type StunMessage } from '@natkit/stun-codec';

/**
 * Whether `type` is a comprehension-required attribute the codec can parse but that asks a
 * Binding server for behaviour StunServer does not implement, so that answering as if it were
 * absent would misreport what the server did (RFC 8489 §14: the agent "cannot successfully
 * process the message unless it understands the attribute"). stun-codec's `isKnownAttribute`
 * means "this codec can parse it", not "this agent acts on it"; this is the agent's half.
 *
 * Not understood (the request gets 420 listing them, RFC 8489 §6.3.1):
 * - CHANGE-REQUEST (0x0003): RFC 5780 §6 / §6.1, a server without an alternate address and
 *   port MUST answer 420. Also RFC 5389 §12.2 for RFC 3489 clients (with RESPONSE-ADDRESS,
 *   0x0002, which the codec does not know at all, so it is already in `unknownRequired`).
 * - PADDING (0x0026), RESPONSE-PORT (0x0027): RFC 5780 §7.5 / §7.6, they ask for a padded
 *   response or one sent to another port; server support is optional and this one has none.
 *
 * Understood or deliberately ignored (conservative: nothing that may be ignored is rejected):
 * - RFC 8489's own attributes: the credential ones (USERNAME, USERHASH, REALM, NONCE,
 *   MESSAGE-INTEGRITY(-SHA256), PASSWORD-ALGORITHM) are processed when `auth` is configured
 *   and are meaningless for a basic server (§13 says it SHOULD NOT authenticate); the
 *   response-only ones (MAPPED-ADDRESS, XOR-MAPPED-ADDRESS, ERROR-CODE, UNKNOWN-ATTRIBUTES)
 *   are "known-but-unexpected" and SHOULD be ignored (§6.3).
 * - TURN attributes (RFC 8656: CHANNEL-NUMBER, LIFETIME, XOR-PEER-ADDRESS, DATA,
 *   XOR-RELAYED-ADDRESS, REQUESTED-ADDRESS-FAMILY, EVEN-PORT, REQUESTED-TRANSPORT,
 *   DONT-FRAGMENT, RESERVATION-TOKEN): defined only for TURN methods, with no meaning in a
 *   Binding request, so ignoring them changes nothing the client can observe; known but
 *   unexpected (§6.3). TURN methods themselves are discarded as unsupported.
 * - PRIORITY, USE-CANDIDATE (RFC 8445 §7.1.1, §7.3.1): connectivity-check attributes for the
 *   ICE layer above STUN (peer-reflexive candidates, nomination). With short-term `auth`
 *   StunServer is the STUN half of such a responder, and a 420 would break every check sent
 *   to it; the ICE processing itself is the application's (or `@natkit/ice-lite`'s) job.
 */
export function isUnimplementedAttribute(type: number): boolean {
  switch (type) {
    case 0x0003: // CHANGE-REQUEST
    case 0x0026: // PADDING
    case 0x0027: // RESPONSE-PORT
      return true;
    default:
      return false;
  }
}

/**
 * The comprehension-required attribute types of `req` this server does not understand, for a
 * 420's UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1): the codec's `unknownRequired` plus
 * {@link isUnimplementedAttribute}, distinct, in wire order, at most
 * `MAX_UNKNOWN_REQUIRED`. Only indexed attributes count: the ones after
 * MESSAGE-INTEGRITY(-SHA256) are ignored (RFC 8489 §14.5, §14.6), as in the codec. Allocates
 * only when there is something to list.
 */
export function notUnderstoodAttributes(req: StunMessage): readonly number[] {
  for (let o = req.firstAttribute(); o >= 0; o = req.nextAttribute(o)) {
    if (isUnimplementedAttribute(req.attributeType(o))) return collect(req);
  }
  return req.unknownRequired;
}

function collect(req: StunMessage): number[] {
  const list: number[] = [];
  for (let o = req.firstAttribute(); o >= 0; o = req.nextAttribute(o)) {
    const type = req.attributeType(o);
    if (
      type < 0x8000 &&
      (!isKnownAttribute(type) || isUnimplementedAttribute(type)) &&
      !list.includes(type)
    ) {
      list.push(type);
      if (list.length === MAX_UNKNOWN_REQUIRED) break;
    }
  }
  return list;
}
