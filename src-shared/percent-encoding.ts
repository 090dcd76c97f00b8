/**
 * RFC 3986 §6.2.2.2: an escaped unreserved character (`%55sers`, `/%73cim/v2`, `pass%77ord`) is the
 * character itself. Other escapes (`%2F`, `%20`) stay as they are: they mean something else
 * escaped than unescaped, or are not characters a name can be made of.
 */
export function withUnreservedDecoded(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return /^[A-Za-z0-9\-._~]$/.test(char) ? char : escape;
  });
}
