import { describe, expect, it } from 'vitest';
import { isAppDocument } from '../../../src-main/ipc/app-document';

describe("the app's own page, told from any other", () => {
  it('is the file as Chromium loads it, whatever characters its folder has, with or without a hash route', () => {
    const path = '/opt/app~1 [x] 100%/out/renderer/index.html';
    // Chromium keeps ~, [ and ] as they are and escapes the space and the %.
    const loaded = 'file:///opt/app~1%20[x]%20100%25/out/renderer/index.html';
    expect(isAppDocument(loaded, path, 'linux')).toBe(true);
    expect(isAppDocument(`${loaded}#/tenants`, path, 'linux')).toBe(true);
    expect(isAppDocument('file:///opt/app%7E1%20%5Bx%5D%20100%25/out/renderer/index.html', path, 'linux')).toBe(true);
  });

  it('is not another file, a query, another scheme or host, or no URL at all', () => {
    const path = '/opt/app/out/renderer/index.html';
    for (const url of [
      'file:///opt/app/out/renderer/other.html',
      'file:///opt/app/out/renderer/index.html?x=1',
      'file://evil.example/opt/app/out/renderer/index.html',
      'http://127.0.0.1:8585/',
      'https://evil.example/opt/app/out/renderer/index.html',
      'not a url',
      '',
    ]) {
      expect(isAppDocument(url, path, 'linux')).toBe(false);
    }
  });

  it('reads Windows paths in any case, with an 8.3 short name', () => {
    const path = 'C:\\Users\\JOHNSM~1\\AppData\\Local\\Programs\\scimdesk\\resources\\out\\renderer\\index.html';
    const loaded = 'file:///c:/Users/JOHNSM~1/AppData/Local/Programs/scimdesk/resources/out/renderer/index.html';
    expect(isAppDocument(loaded, path, 'win32')).toBe(true);
    expect(isAppDocument('file:///D:/Users/JOHNSM~1/index.html', path, 'win32')).toBe(false);
    // Run from a network share.
    const shared = '\\\\server\\apps\\scimdesk\\out\\renderer\\index.html';
    expect(isAppDocument('file://server/apps/scimdesk/out/renderer/index.html', shared, 'win32')).toBe(true);
    expect(isAppDocument('file://other/apps/scimdesk/out/renderer/index.html', shared, 'win32')).toBe(false);
  });
});
