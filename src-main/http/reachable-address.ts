import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/**
 * The URLs a server bound to `host` is reached at. Bound to every interface (`0.0.0.0`, `::`, as the
 * README's lab-network advice says), it is reached at none of those addresses: `http://0.0.0.0:P`
 * pasted into an IdP on another machine goes nowhere. There a browser on this machine uses loopback,
 * and what is handed to others (endpoint-info's base URLs) gets this machine's first address on the
 * network, IPv4 first (IdPs and tunnels take it more readily than IPv6). It is a guess where a
 * machine has virtual adapters (Docker, WSL), so `serve` prints it. A server bound to one address is
 * reached at that address by everyone.
 */
export interface ReachableUrls {
  /** For a browser or script on this machine. */
  readonly local: string;
  /** For an IdP or a colleague on the network. */
  readonly network: string;
}

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Every interface: `0.0.0.0`, `::` and their other spellings (`::0`, `0:0:…:0`), as Node binds them. */
export function isUnspecified(host: string): boolean {
  const kind = isIP(host);
  if (kind === 4) return host.split('.').every((part) => Number(part) === 0);
  return kind === 6 && /^[0:]+$/.test(host);
}

export function reachableUrls(
  host: string,
  port: number,
  interfaces: InterfaceTable = networkInterfaces(),
): ReachableUrls {
  const at = (address: string) => `http://${urlHost(address)}:${port}`;
  if (!isUnspecified(host)) return { local: at(host), network: at(host) };
  const ipv6 = isIP(host) === 6;
  const local = at(ipv6 ? '::1' : '127.0.0.1');
  const external = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    // Link-local addresses (169.254/16, fe80::/10: a network with no DHCP, a virtual adapter) are
    // no use in a URL handed to an IdP.
    .filter((info) => !info.internal && !/^(169\.254\.|fe[89ab][0-9a-f]:)/i.test(info.address));
  const chosen =
    external.find((info) => info.family === 'IPv4') ??
    (ipv6 ? external.find((info) => info.family === 'IPv6') : undefined);
  return { local, network: chosen ? at(chosen.address) : local };
}

/** A host as it goes into a URL: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
