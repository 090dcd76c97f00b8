/**
 * Whether a value is already what `JSON.parse(JSON.stringify(value))` would give back: plain
 * objects and arrays of strings, booleans, null and finite numbers other than -0, no holes, at
 * most MAX_PLAIN_DEPTH levels deep. It reads enumerable string keys only, as JSON.stringify does:
 * a getter, a non-enumerable or symbol-keyed property, or a named property on an array is not
 * seen. Services build documents from parsed JSON, spreads and literals, which have none; checking
 * each property's descriptor would cost more than the parse this saves. The store serializes every change for the journal; for such a
 * value the parsed copy it used to keep instead would equal the original, so the original is kept
 * (and frozen) and the parse is skipped. That parse was about a tenth of a durable create's store
 * work (issue #8). Anything else (undefined, Date, NaN, class instances, getters' results aside)
 * still takes the round trip, so memory holds exactly what a replay of the journal rebuilds.
 */
const MAX_PLAIN_DEPTH = 64;

export function isPlainJson(value: unknown): boolean {
  // A toJSON on the shared prototypes would change what JSON.stringify writes for every object.
  return !('toJSON' in Object.prototype) && !('toJSON' in Array.prototype) && isPlain(value, 0);
}

function isPlain(value: unknown, depth: number): boolean {
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
        for (let i = 0; i < value.length; i++) if (!isPlain(value[i], depth + 1)) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key in value) {
        if (!isPlain((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
