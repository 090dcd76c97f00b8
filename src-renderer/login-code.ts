/**
 * Reads `#code=…` from the console URL and removes it at once, so the one-time code is neither left
 * in the address bar nor in history (it is useless after one exchange anyway).
 */
export function takeLoginCodeFromUrl(location: Location, history: History): string | undefined {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const code = params.get('code') ?? undefined;
  if (code !== undefined) history.replaceState(null, '', `${location.pathname}${location.search}`);
  return code;
}
