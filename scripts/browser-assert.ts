// `node:assert/strict` for the portable suites when scripts/test-browser.ts bundles them for
// Chromium: the five functions they use, mapped onto chai's assert (node's own module does not
// run in a browser).
import { assert } from 'chai';

export default {
  equal: (actual: unknown, expected: unknown, message?: string) =>
    assert.strictEqual(actual, expected, message),
  notEqual: (actual: unknown, expected: unknown, message?: string) =>
    assert.notStrictEqual(actual, expected, message),
  deepEqual: (actual: unknown, expected: unknown, message?: string) =>
    assert.deepStrictEqual(actual, expected, message),
  ok: (value: unknown, message?: string) => assert.ok(value, message),
  match: (value: string, pattern: RegExp, message?: string) => assert.match(value, pattern, message),
};
