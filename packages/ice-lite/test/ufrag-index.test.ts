import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { hashString, UfragIndex } from '../src/ufrag-index.ts';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Two distinct ice-char strings with the same 30-bit hash (birthday search, ~2^15 tries). */
function collision(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const u = `c${i.toString(36).padStart(4, '0')}`;
    const h = hashString(u);
    const other = seen.get(h);
    if (other !== undefined) return [other, u];
    seen.set(h, u);
  }
}

describe('UfragIndex', () => {
  it('finds a ufrag from the bytes of a USERNAME, before the colon', () => {
    const ix = new UfragIndex<number>();
    ix.set('abcd', 1);
    ix.set('abcde', 2);
    const b = ascii('xxabcde:peer');
    expect(ix.lookup(b, 2, 7)).toBe(2);
    expect(ix.lookup(b, 2, 6)).toBe(1);
    expect(ix.lookup(b, 2, 5)).toBeUndefined();
    expect(ix.get('abcd')).toBe(1);
    expect(ix.size).toBe(2);
  });

  it('keeps ufrags whose hashes collide apart, through set, lookup and delete', () => {
    const [a, b] = collision();
    expect(hashString(a)).toBe(hashString(b));
    const ix = new UfragIndex<string>();
    ix.set(a, 'A');
    ix.set(b, 'B');
    expect(ix.lookup(ascii(a), 0, a.length)).toBe('A');
    expect(ix.lookup(ascii(b), 0, b.length)).toBe('B');
    ix.set(a, 'A2');
    expect(ix.size).toBe(2);
    expect(ix.delete(a)).toBe(true);
    expect(ix.get(a)).toBeUndefined();
    expect(ix.get(b)).toBe('B');
    expect(ix.delete(a)).toBe(false);
    ix.set(a, 'A3');
    expect(ix.delete(b)).toBe(true);
    expect(ix.lookup(ascii(a), 0, a.length)).toBe('A3');
    expect(ix.delete(a)).toBe(true);
    expect(ix.size).toBe(0);
  });

  it('rehome re-allocates a slot without changing what it maps, colliding chains included', () => {
    const [a, b] = collision();
    const ix = new UfragIndex<string>();
    ix.set(a, 'A');
    ix.set(b, 'B');
    ix.set('other', 'O');
    // The slot deeper in the chain (a, set first) and its head (b).
    expect(ix.rehome(a, 'A2')).toBe(true);
    expect(ix.rehome(b, 'B2')).toBe(true);
    expect(ix.rehome('absent', 'X')).toBe(false);
    expect(ix.size).toBe(3);
    expect(ix.lookup(ascii(a), 0, a.length)).toBe('A2');
    expect(ix.get(b)).toBe('B2');
    expect(ix.get('other')).toBe('O');
    expect(ix.get('absent')).toBeUndefined();
    expect(ix.delete(a)).toBe(true);
    expect(ix.get(b)).toBe('B2');
    expect(ix.delete(b)).toBe(true);
    expect(ix.size).toBe(1);
  });

  test.prop([fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9+/]{4,12}$/), { maxLength: 40 }), fc.string()])(
    'behaves like a Map<string, _> for ice-char keys, by string and by bytes',
    (keys, probe) => {
      const ix = new UfragIndex<number>();
      const ref = new Map<string, number>();
      keys.forEach((k, i) => {
        ix.set(k, i);
        ref.set(k, i);
      });
      for (const k of keys.filter((_, i) => i % 3 === 0)) {
        expect(ix.delete(k)).toBe(ref.delete(k));
      }
      expect(ix.size).toBe(ref.size);
      for (const k of [...keys, probe]) {
        expect(ix.get(k)).toBe(ref.get(k));
        // Bytes spell the key only when every code unit is 8-bit; ice-chars always are.
        if ([...k].every((c) => c.charCodeAt(0) < 256)) {
          const bytes = Uint8Array.from(k, (c) => c.charCodeAt(0));
          expect(ix.lookup(bytes, 0, bytes.length)).toBe(ref.get(k));
        }
      }
    },
  );
});
