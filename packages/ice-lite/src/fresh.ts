/**
 * A copy of `s` in memory allocated now: a flat string built from its code units, never a slice
 * or a cons of the original (which `slice`, `concat` or `+` may return, still pointing at the old
 * memory).
 *
 * Why copy an immutable string at all: locality. V8 places objects where and when they are
 * allocated, and a session's credentials are allocated when it is created, among thousands of
 * idle sessions. When a session turns busy, the agent and the router re-allocate what every
 * check reads (see `IceAgent.#hot` and `IceRouter.#rehome`), so the busy sessions' state sits
 * together and stays in the CPU caches instead of costing a cache miss per object per check.
 * Meant for short strings (ICE ufrags and passwords: at most 256 characters).
 */
export function freshString(s: string): string {
  const codes = new Array<number>(s.length);
  for (let i = 0; i < s.length; i++) codes[i] = s.charCodeAt(i);
  return String.fromCharCode(...codes);
}
