import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/**
 * The URLs a server bound to `host` is reached at. Bound to every interface (`0.0.0.0`, `::`, as the
 * README's lab-network advice says), it is reached at none of those addresses: `http://0.0.0.0:P`
 * pasted into an IdP on another machine goes nowhere. There the console (opened on this machine)
 * gets loopback, and what is handed to others (endpoint-info's base URLs) gets this machine's first
 * address on the network, IPv4 first (IdPs and tunnels take it more readily than IPv6). A server
 * bound to one address is reached at that address by everyone.
 */
export interface ReachableUrls {
  /** For a browser or script on this machine. */
  readonly local: string;
  /** For an IdP or a colleague on the network. */
  readonly network: string;
}

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

export function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || /^(0{1,4}:){7}0{1,4}$/.test(host);
}

export function reachableUrls(
  host: string,
  port: number,
  interfaces: InterfaceTable = networkInterfaces(),
): ReachableUrls {
  const at = (address: string) => `http://${urlHost(address)}:${port}`;
  if (!isUnspecified(host)) return { local: at(host), network: at(host) };
  const ipv6 = host !== '0.0.0.0';
  const local = at(ipv6 ? '::1' : '127.0.0.1');
  const external = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((info) => !info.internal && !(info.family === 'IPv6' && /^fe80:/i.test(info.address)));
  const chosen =
    external.find((info) => info.family === 'IPv4') ??
    (ipv6 ? external.find((info) => info.family === 'IPv6') : undefined);
  return { local, network: chosen ? at(chosen.address) : local };
}

/** A host as it goes into a URL: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
