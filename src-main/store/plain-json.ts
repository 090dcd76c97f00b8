/**
 * Whether a value is already what `JSON.parse(JSON.stringify(value))` would give back: plain
 * objects and arrays of strings, booleans, null and finite numbers other than -0, no holes, at
 * most MAX_PLAIN_DEPTH levels deep. The store serializes every change for the journal; for such a
 * value the parsed copy it used to keep instead would equal the original, so the original is kept
 * (and frozen) and the parse is skipped. That parse was about a tenth of a durable create's store
 * work (issue #8). Anything else (undefined, Date, NaN, class instances, getters' results aside)
 * still takes the round trip, so memory holds exactly what a replay of the journal rebuilds.
 */
const MAX_PLAIN_DEPTH = 64;

export function isPlainJson(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_PLAIN_DEPTH) return false;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return false;
        // A hole reads as undefined, which fails below (JSON writes it as null).
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key in value) {
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
