import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { reachableUrls, type InterfaceTable } from '../../../src-main/http/reachable-address';

const info = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null }) as unknown as NetworkInterfaceInfo;

const lab: InterfaceTable = {
  lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)],
  eth0: [info('fe80::1', 'IPv6'), info('fd00::2', 'IPv6'), info('192.168.1.5', 'IPv4')],
};

describe('where a server is reached', () => {
  it('bound to every interface: loopback here, the first network address (IPv4 first) for others', () => {
    expect(reachableUrls('0.0.0.0', 8585, lab)).toEqual({
      local: 'http://127.0.0.1:8585',
      network: 'http://192.168.1.5:8585',
    });
    expect(reachableUrls('::', 8585, lab)).toEqual({ local: 'http://[::1]:8585', network: 'http://192.168.1.5:8585' });
    // Only IPv6 on the network: a link-local address (fe80::) is no use in a URL.
    const v6only: InterfaceTable = { lo: lab['lo'], eth0: [info('fe80::1', 'IPv6'), info('fd00::2', 'IPv6')] };
    expect(reachableUrls('::', 1, v6only).network).toBe('http://[fd00::2]:1');
    // Nor a link-local IPv4 address (169.254/16: an adapter without DHCP).
    const apipa: InterfaceTable = { eth1: [info('169.254.12.7', 'IPv4')], ...lab };
    expect(reachableUrls('0.0.0.0', 1, apipa).network).toBe('http://192.168.1.5:1');
    // Other spellings of "every interface".
    expect(reachableUrls('::0', 1, lab)).toEqual({ local: 'http://[::1]:1', network: 'http://192.168.1.5:1' });
    expect(reachableUrls('0:0:0:0:0:0:0:0', 1, lab).network).toBe('http://192.168.1.5:1');
    // No network at all: loopback for both.
    expect(reachableUrls('0.0.0.0', 1, { lo: lab['lo'] })).toEqual({
      local: 'http://127.0.0.1:1',
      network: 'http://127.0.0.1:1',
    });
  });

  it('bound to one address: that address for everyone', () => {
    for (const [host, url] of [
      ['127.0.0.1', 'http://127.0.0.1:9'],
      ['192.168.1.5', 'http://192.168.1.5:9'],
      ['::1', 'http://[::1]:9'],
      ['scim.lab', 'http://scim.lab:9'],
    ]) {
      expect(reachableUrls(host!, 9, lab)).toEqual({ local: url, network: url });
    }
  });
});
