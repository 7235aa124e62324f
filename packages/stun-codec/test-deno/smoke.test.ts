import assert from 'node:assert/strict';
import {
  decode,
  IntegrityKey,
  shortTermKey,
  verifyFingerprint,
  verifyMessageIntegrity,
} from '@natkit/stun-codec';
import { PASSWORD, SAMPLE_REQUEST } from '../test/vectors.ts';

Deno.test('RFC 5769 sample request decodes and verifies', () => {
  const r = decode(SAMPLE_REQUEST);
  assert.ok(r.ok);
  assert.equal(r.message.username(), 'evtj:h6vY');
  assert.equal(verifyMessageIntegrity(r.message, new IntegrityKey(shortTermKey(PASSWORD))), 'ok');
  assert.equal(verifyFingerprint(r.message), 'ok');
});
