import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isSecretBodyKey,
  MAX_SECRET_UNITS,
  redactBody,
  redactHeaders,
  redactJson,
  redactQuery,
  redactText,
  scrubJsonSecrets,
  scrubSecrets,
  SecretSet,
  truncateUtf8,
  withoutCutSecret,
} from '../../../../src-main/services/request-log/redact';
import { buildEntry, Interner, type RequestLogInput } from '../../../../src-main/services/request-log/entry';

const R = '[redacted]';

/** A request as the capture hands it to the log: a POST to /Users refused 400, with `overrides`. */
function entryInput(overrides: Partial<RequestLogInput> = {}): RequestLogInput {
  return {
    method: 'POST',
    path: '/scim/v2/Users',
    query: '',
    tenant_id: 't1',
    token: null,
    source: 'idp',
    status: 400,
    duration_ms: 1,
    request: { headers: {} },
    response: { headers: {} },
    started_at: 0,
    ...overrides,
  };
}

describe('header redaction', () => {
  it('keeps the scheme of credential headers and hides the rest', () => {
    const secrets = new SecretSet();
    const out = redactHeaders(
      {
        Authorization: 'Bearer scimdesk_abcdef123456',
        'Proxy-Authorization': 'Basic dXNlcjpwYXNzd29yZA==',
        'x-api-key': 'k-123456789',
        'content-type': 'application/scim+json',
      },
      secrets,
    );
    expect(out).toEqual({
      authorization: `Bearer ${R}`,
      'proxy-authorization': `Basic ${R}`,
      'x-api-key': R,
      'content-type': 'application/scim+json',
    });
    expect([...secrets.values]).toEqual(
      expect.arrayContaining(['scimdesk_abcdef123456', 'dXNlcjpwYXNzd29yZA==', 'k-123456789']),
    );
  });

  it('redacts a credential without a scheme whole', () => {
    expect(redactHeaders({ authorization: 'justatoken' }, new SecretSet())).toEqual({ authorization: R });
  });

  it('redacts cookie values but keeps names and Set-Cookie attributes', () => {
    const out = redactHeaders(
      { cookie: 'sid=abc123456; theme=dark', 'set-cookie': ['sid=zzz999999; Path=/; HttpOnly', 'a=b'] },
      new SecretSet(),
    );
    expect(out).toEqual({ cookie: `sid=${R}; theme=${R}`, 'set-cookie': [`sid=${R}; Path=/; HttpOnly`, `a=${R}`] });
  });

  it('redacts headers whose names say they carry a token or secret', () => {
    const out = redactHeaders(
      {
        'X-Auth-Token': 'tok-123456',
        'x-client-secret': 's',
        'www-authenticate': 'Bearer',
        'X-Custom-Auth': 'custom-secret',
        'X-Passphrase': 'phrase-secret',
        'X-Private-Key-Pem': 'pem-secret',
        auth: 'bare',
        'x-hub-signature-256': 'sha256=abc',
        'x-session-id': 'sess-1',
        'x-credentials': 'c',
        'x-author': 'Ada',
        'X-Authorization': 'Bearer b',
        'x-functions-key': 'f',
        'Ocp-Apim-Subscription-Key': 'o',
        'idempotency-key': 'k-1',
        'x-keyboard': 'us',
        'x-user-pass': 'p',
        'x-pwd': 'p',
        'x-passport-country': 'FR',
      },
      new SecretSet(),
    );
    expect(out).toEqual({
      'x-auth-token': R,
      'x-client-secret': R,
      'www-authenticate': 'Bearer',
      'x-custom-auth': R,
      'x-passphrase': R,
      'x-private-key-pem': R,
      auth: R,
      'x-hub-signature-256': R,
      'x-session-id': R,
      'x-credentials': R,
      'x-author': 'Ada',
      'x-authorization': R,
      'x-functions-key': R,
      'ocp-apim-subscription-key': R,
      'idempotency-key': 'k-1',
      'x-keyboard': 'us',
      'x-user-pass': R,
      'x-pwd': R,
      'x-passport-country': 'FR',
    });
  });

  it('redacts headers that name what they carry, and credentials by their scheme under any name', () => {
    const secrets = new SecretSet();
    const out = redactHeaders(
      {
        'X-Upstream-Bearer': 'upstream-credential-1',
        'x-forwarded-jwt': 'jwt-credential-2',
        'x-original-cookie': 'sid=abc',
        'X-Forwarded-Identity': 'SSWS 00okta-api-token-3',
        'x-forwarded-access': 'Basic dXNlcjpwYXNz',
        'x-note': 'Bearer-less text',
        'x-status': 'Token expired',
        'x-reason': 'Bearer required',
        'x-identity': 'Token abc1234',
        'x-upstream-id': 'Basic YTpi',
        'x-digest': 'Digest username="ada", nonce="n1"',
        'x-joined': 'Bearer abcdef1234567890, Bearer abcdef1234567890',
        'www-authenticate': 'Bearer realm="scim"',
        'proxy-authenticate': 'Basic realm="proxy"',
      },
      secrets,
    );
    expect(out).toEqual({
      'x-upstream-bearer': R,
      'x-forwarded-jwt': R,
      'x-original-cookie': R,
      'x-forwarded-identity': `SSWS ${R}`,
      'x-forwarded-access': `Basic ${R}`,
      'x-note': 'Bearer-less text',
      'x-status': 'Token expired',
      'x-reason': 'Bearer required',
      'x-identity': `Token ${R}`,
      'x-upstream-id': `Basic ${R}`,
      'x-digest': `Digest ${R}`,
      'x-joined': `Bearer ${R}`,
      'www-authenticate': 'Bearer realm="scim"',
      'proxy-authenticate': 'Basic realm="proxy"',
    });
    // The second pass hides the same values wherever else the entry repeats them.
    expect([...secrets.values]).toEqual(
      expect.arrayContaining(['upstream-credential-1', '00okta-api-token-3', 'dXNlcjpwYXNz']),
    );
  });

  it('drops undefined values and stringifies numbers', () => {
    expect(redactHeaders({ 'content-length': 12, etag: undefined }, new SecretSet())).toEqual({
      'content-length': '12',
    });
  });
});

describe('query redaction', () => {
  it.each([
    'pass',
    'pwd',
    'token',
    'access_token',
    'code',
    'secret',
    'password',
    'api_key',
    'apikey',
    'key',
    'sig',
    'signature',
    'TOKEN',
    'Access_Token',
    'refresh_token',
    'client_secret',
    'api-key',
    'x-api-key',
    'Client_ApiKey',
    'apiToken',
    'refreshToken',
    'clientSecret',
    'authorization',
    'Authentication',
    'bearer',
    'jwt',
    'session',
    'sessionId',
    'passphrase',
    'private_key',
    'private-key',
    'privateKey',
  ])('redacts %s, case-insensitively', (name) => {
    expect(redactQuery(`?a=1&${name}=s3cr3tvalue&b=2`, new SecretSet())).toBe(`a=1&${name}=${R}&b=2`);
  });

  it('redacts SCIM tokens and JWTs by their shape, whatever parameter carries them', () => {
    const scimToken = `scimdesk_${'A'.repeat(43)}`;
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl';
    const secrets = new SecretSet();
    expect(redactQuery(`x=${scimToken}&jwt=${jwt}&q=scimdesk`, secrets)).toBe(`x=${R}&jwt=${R}&q=scimdesk`);
    expect(secrets.values.has(scimToken)).toBe(true);
    expect(secrets.values.has(jwt)).toBe(true);
  });

  it('redacts a SCIM token percent-encoded as a bare query part or as a parameter name', () => {
    const rest = 'tepxh8MucVV0123456789abcdefghijklmnop';
    const secrets = new SecretSet();
    expect(redactQuery(`scimdesk%5F${rest}&x=1`, secrets)).toBe(`${R}&x=1`);
    expect(redactQuery(`%73cimdesk_${rest}=1&y=2`, secrets)).toBe(`${R}=1&y=2`);
    expect(secrets.values.has(`scimdesk_${rest}`)).toBe(true);
    // Kept as it came: an encoded name that is no credential, and a bare part.
    expect(redactQuery('%66ilter=x&flag', new SecretSet())).toBe('%66ilter=x&flag');
  });

  it('redacts a SCIM token spelt with a filter escape, in a query filter and a .search body', () => {
    const rest = 'tepxh8MucVV0123456789abcdefghijklmnop';
    const escaped = `userName eq "scimdesk\\u005f${rest}"`;
    const secrets = new SecretSet();
    // The server's filter reads `\u005f` as `_`: this compares with the token itself.
    expect(decodeURIComponent(redactQuery(`filter=${encodeURIComponent(escaped)}&count=1`, secrets))).toBe(
      `filter=userName eq "${R}"&count=1`,
    );
    expect(redactJson({ filter: escaped }, new SecretSet())).toEqual({ filter: `userName eq "${R}"` });
    // Left open, as the parser would refuse it, it was still sent.
    expect(redactJson({ filter: `userName eq "scimdesk\\u005f${rest}` }, new SecretSet())).toEqual({
      filter: `userName eq "${R}`,
    });
    // A run of quotes is read in one pass: each began a scan to the end (6 s for 256 KB).
    const quotes = `userName eq "\\u0041${'"'.repeat(200_000)}`;
    const started = performance.now();
    redactJson({ filter: quotes }, new SecretSet());
    expect(performance.now() - started).toBeLessThan(2_000); // a guard against a hang, not a benchmark
    // An escape that spells no credential is kept as sent.
    expect(redactJson({ filter: 'userName eq "a\\u005fb"' }, new SecretSet())).toEqual({
      filter: 'userName eq "a\\u005fb"',
    });
  });

  it('keeps other parameters byte for byte, including SCIM filters', () => {
    const query = 'filter=userName%20eq%20%22bjensen%22&startIndex=1&count=10';
    expect(redactQuery(query, new SecretSet())).toBe(query);
  });

  it('matches encoded parameter names and accepts a record', () => {
    const secrets = new SecretSet();
    expect(redactQuery('%74oken=abcdef12', secrets)).toBe(`%74oken=${R}`);
    expect(redactQuery({ filter: 'x eq "y"', token: ['one-secret', 'two-secret'] }, secrets)).toBe(
      `filter=x%20eq%20%22y%22&token=${R}&token=${R}`,
    );
    expect(secrets.values.has('two-secret')).toBe(true);
  });

  it('answers an empty string for no query', () => {
    expect(redactQuery(undefined, new SecretSet())).toBe('');
    expect(redactQuery('?', new SecretSet())).toBe('');
  });
});

describe('body redaction', () => {
  it('redacts password properties at any depth and in any case, without touching the input', () => {
    const body = {
      userName: 'bjensen',
      password: 'hunter2hunter2',
      nested: { deeper: [{ PassWord: 'other-secret' }] },
      'urn:ietf:params:scim:schemas:core:2.0:User:password': 'urn-secret',
    };
    const copy = structuredClone(body);
    const out = redactBody(body, new SecretSet());
    expect(out.body).toEqual({
      userName: 'bjensen',
      password: R,
      nested: { deeper: [{ PassWord: R }] },
      'urn:ietf:params:scim:schemas:core:2.0:User:password': R,
    });
    expect(body).toEqual(copy);
  });

  it('redacts what other APIs call a password: newPassword, userPassword, passwd, pwd', () => {
    const body = { newPassword: 'n-secret-1', userPassword: 'u-secret-2', old_passwd: 'o-secret-3', PWD: 'p-secret-4' };
    const out = redactBody(body, new SecretSet()).body;
    expect(out).toEqual({ newPassword: R, userPassword: R, old_passwd: R, PWD: R });
    // The same as text a JSON parser refused, and in a form.
    const text = redactBody('{"newPassword": "n-secret-1", "pwd": "p-secret-4",', new SecretSet()).body;
    expect(text).not.toMatch(/n-secret-1|p-secret-4/);
    const form = redactBody('userName=b&newPassword=n-secret-1&pwd=p-secret-4', new SecretSet()).body;
    expect(form).toBe('userName=b&newPassword=[redacted]&pwd=[redacted]');
  });

  it('redacts what other APIs call a credential: apiToken, clientSecret, privateKey, x-api-key, passphrase', () => {
    const body = {
      userName: 'b',
      apiToken: 'a-secret-1',
      clientSecret: 'c-secret-2',
      privateKey: 'k-secret-3',
      'x-api-key': 'x-secret-4',
      passphrase: 'p-secret-5',
      hasToken: true,
    };
    expect(redactBody(body, new SecretSet()).body).toEqual({
      userName: 'b',
      apiToken: R,
      clientSecret: R,
      privateKey: R,
      'x-api-key': R,
      passphrase: R,
      hasToken: true,
    });
    const text = redactBody('{"apiToken": "a-secret-1", "clientSecret": "c-secret-2",', new SecretSet()).body;
    expect(text).not.toMatch(/a-secret-1|c-secret-2/);
    const form = redactBody('userName=b&clientSecret=c-secret-2&privateKey=k-secret-3', new SecretSet()).body;
    expect(form).toBe('userName=b&clientSecret=[redacted]&privateKey=[redacted]');
  });

  it('keeps a flag about a password, and a null, which are no secret', () => {
    const body = { userName: 'b', mustChangePassword: true, resetPassword: false, password: null, token: null };
    expect(redactBody(body, new SecretSet()).body).toEqual(body);
    // A name that is a password's own is redacted whatever its value.
    expect(redactBody({ password: true, pwd: 12345678 }, new SecretSet()).body).toEqual({ password: R, pwd: R });
    const patch = { Operations: [{ op: 'replace', path: 'password', value: null }] };
    expect(redactBody(patch, new SecretSet()).body).toEqual(patch);
  });

  it('redacts the value of a PATCH operation whose path is password', () => {
    const patch = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: 'password', value: 'patch-secret' },
        { op: 'Replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:PASSWORD', value: 'urn-patch-secret' },
        { op: 'replace', path: 'displayName', value: 'Babs' },
        { op: 'replace', value: { password: 'pathless-secret', active: true } },
      ],
    };
    const out = JSON.stringify(redactBody(patch, new SecretSet()).body);
    for (const secret of ['patch-secret', 'urn-patch-secret', 'pathless-secret']) expect(out).not.toContain(secret);
    expect(out).toContain('"value":"Babs"');
    expect(out).toContain('"active":true');
  });

  it('redacts the filter of a PATCH path under password, and a password comparison in any path filter', () => {
    const patch = {
      Operations: [
        { op: 'remove', path: 'password[value eq "Guess-One-1"]' },
        { op: 'remove', path: 'emails[password eq "Guess-Two-2"].value' },
        { op: 'remove', path: 'emails[type eq "work"].value' },
      ],
    };
    const secrets = new SecretSet();
    const out = JSON.stringify(redactBody(patch, secrets).body);
    // Collected, so that the second pass scrubs an echo of it elsewhere in the entry.
    expect([...secrets.values]).toEqual(expect.arrayContaining(['Guess-One-1', 'Guess-Two-2']));
    expect(out).not.toContain('Guess-One-1');
    expect(out).not.toContain('Guess-Two-2');
    expect(out).toContain('"password[[redacted]]"');
    expect(out).toContain('emails[type eq \\"work\\"].value');
  });

  it('redacts inside Bulk operations', () => {
    const bulk = {
      Operations: [
        { method: 'POST', path: '/Users', data: { userName: 'a', password: 'bulk-secret-1' } },
        {
          method: 'PATCH',
          path: '/Users/1',
          data: { Operations: [{ op: 'add', path: 'password', value: 'bulk-secret-2' }] },
        },
      ],
    };
    const out = JSON.stringify(redactBody(bulk, new SecretSet()).body);
    expect(out).not.toContain('bulk-secret');
  });

  it('redacts token-like properties in admin answers (a new SCIM token is shown once)', () => {
    const out = redactBody({ id: 't1', token: 'scimdesk_abcdefgh', token_prefix: 'scimdesk_ab' }, new SecretSet());
    expect(out.body).toEqual({ id: 't1', token: R, token_prefix: 'scimdesk_ab' });
  });

  it('parses JSON text and redacts it structurally', () => {
    const out = redactBody('{"userName":"a","password":"text-secret"}', new SecretSet());
    expect(out.body).toEqual({ userName: 'a', password: R });
  });

  it('redacts malformed JSON text by pattern', () => {
    const secrets = new SecretSet();
    const text = '{"userName":"a","Password": "malformed-secret", oops';
    const out = redactBody(text, secrets).body as string;
    expect(out).not.toContain('malformed-secret');
    expect(out).toContain(`"Password": "${R}"`);
    expect(secrets.values.has('malformed-secret')).toBe(true);
  });

  it.each([
    ['<User><userName>a</userName><password>Xml-secret-1</password></User>', 'Xml-secret-1'],
    ['<scim:Password type="x">\n  Xml secret 2\n</scim:Password>', 'Xml secret 2'],
    ['<user password="attr secret 3" name="a"/>', 'attr secret 3'],
    ["config: client_secret = 'quoted secret 4'", 'quoted secret 4'],
  ])('redacts a secret in markup or quoted text sent as if it were JSON: %s', (text, secret) => {
    const secrets = new SecretSet();
    const out = redactBody(text, secrets).body as string;
    expect(out).not.toContain(secret);
    expect(out).toContain(R);
    expect(secrets.values.has(secret) || secrets.values.has(secret.trim())).toBe(true);
  });

  it('leaves markup and forms without a secret as they came', () => {
    expect(redactText('<User><userName>a</userName><password></password></User>', new SecretSet())).toBe(
      '<User><userName>a</userName><password></password></User>',
    );
    expect(redactText('userName=a&password=&x=1', new SecretSet())).toBe('userName=a&password=&x=1');
    expect(redactText('userName=a&password=hunter2&x=1', new SecretSet())).toBe(`userName=a&password=${R}&x=1`);
  });

  it('redacts every value in malformed PATCH text that names a password path', () => {
    const text = '{"Operations":[{"op":"replace","path":"password","value":"bad-json-secret"}';
    expect(redactText(text, new SecretSet())).not.toContain('bad-json-secret');
  });

  it.each([' password', 'password ', '\tpassword\n', ' urn:ietf:params:scim:schemas:core:2.0:User:password '])(
    'redacts the value of a PATCH path the parser would read as password (%j), and a capitalised Path key',
    (path) => {
      const patch = {
        Operations: [
          { op: 'replace', path, value: 'spaced-secret' },
          { op: 'replace', Path: path, Value: 'capital-secret' },
        ],
      };
      const out = JSON.stringify(redactBody(patch, new SecretSet()).body);
      expect(out).not.toContain('spaced-secret');
      expect(out).not.toContain('capital-secret');
      // And as text that does not parse.
      const text = JSON.stringify(patch).slice(0, -1);
      expect(redactText(text, new SecretSet())).not.toMatch(/spaced-secret|capital-secret/);
    },
  );

  it.each([
    ["{'userName':'a','password':'single-quoted-secret'", 'single-quoted-secret'],
    ['{"userName":"a","pass\\u0077ord":"escaped-name-secret",', 'escaped-name-secret'],
    ['{userName: a, password: bare-secret-value', 'bare-secret-value'],
    ['{"userName":"a"," password ":"spaced-key-secret" oops', 'spaced-key-secret'],
    ["{'Operations':[{'op':'replace','path':'password','value':'quoted-patch-secret'}", 'quoted-patch-secret'],
  ])('redacts a secret in malformed text however its name is written: %s', (text, secret) => {
    const secrets = new SecretSet();
    const out = redactBody(text, secrets).body as string;
    expect(out).not.toContain(secret);
    expect(secrets.values.has(secret)).toBe(true);
  });

  it.each([
    ['{"password":[ "Array-secret-1", "Array-secret-2" ], "x":1', ['Array-secret-1', 'Array-secret-2']],
    ['{"Operations":[{"path":"password","value":{ "x": "Patch-obj-1" }}', ['Patch-obj-1']],
    ['{password: correct horse battery, x: 1', ['correct horse battery']],
  ])('redacts a whole list, object or bare phrase in malformed text: %s', (text, hidden) => {
    const secrets = new SecretSet();
    const out = redactText(text, secrets);
    for (const secret of hidden) {
      expect(out).not.toContain(secret);
      expect(secrets.values.has(secret)).toBe(true);
    }
  });

  it('redacts malformed text in time linear in its size, however it is built', () => {
    // Each of these took seconds to minutes with the pattern the scanner replaced.
    const texts = [
      `${' '.repeat(4000)}password${' '.repeat(4000)}x`,
      `password${' '.repeat(500_000)}`,
      `{${'a'.repeat(500_000)}`,
      `${'password '.repeat(50_000)}`,
      `${'"password":"'.repeat(50_000)}`,
      `${'{"password":['.repeat(50_000)}`,
    ];
    const started = performance.now();
    for (const text of texts) redactBody(text, new SecretSet(), 1 << 20);
    expect(performance.now() - started).toBeLessThan(3_000); // a guard against a hang, not a benchmark
  });

  it.each([
    ['password eq 12345678', 'password eq "[redacted]"'],
    ['password eq"Secret-pw-1"', 'password eq"[redacted]"'],
    ['userName eq "a" and (password ne Secret-pw-2)', 'userName eq "a" and (password ne "[redacted]")'],
    ['password[value eq "QV8x-guess"]', 'password[[redacted]]'],
    [
      'urn:ietf:params:scim:schemas:core:2.0:User:password[value eq "QV9x-guess"]',
      'urn:ietf:params:scim:schemas:core:2.0:User:password[[redacted]]',
    ],
    ['password.value eq "QV10x-guess"', 'password.value eq "[redacted]"'],
    ['password[value eq "ab]Tail-guess-88"]', 'password[[redacted]]'],
  ])('redacts a password comparison however its value is written: %s', (filter, expected) => {
    expect(decodeURIComponent(redactQuery(`filter=${encodeURIComponent(filter)}`, new SecretSet()))).toBe(
      `filter=${expected}`,
    );
    expect(redactBody({ Filter: filter }, new SecretSet()).body).toEqual({ Filter: expected });
  });

  it('redacts the value of a PATCH aimed at password.value, which means the password', () => {
    const body = { Operations: [{ op: 'replace', path: 'password.value', value: 'Sub-secret-pw-9' }] };
    expect(redactBody(body, new SecretSet()).body).toEqual({
      Operations: [{ op: 'replace', path: 'password.value', value: R }],
    });
    // A sub-attribute of anything else is left as it is.
    const name = { Operations: [{ op: 'replace', path: 'name.givenName', value: 'Barbara' }] };
    expect(redactBody(name, new SecretSet()).body).toEqual(name);
  });

  it('redacts a PATCH path whose password value filter holds a question mark', () => {
    const body = { Operations: [{ op: 'remove', path: 'password[value eq "Old?Guess-pw-77"]' }] };
    expect(JSON.stringify(redactBody(body, new SecretSet()).body)).not.toContain('Guess-pw-77');
  });

  it("redacts a password comparison in a Bulk operation's URL", () => {
    const secrets = new SecretSet();
    const body = {
      Operations: [{ method: 'GET', path: '/Users?filter=password%20eq%20%22QV22x-guess%22&count=1' }],
    };
    const out = redactBody(body, secrets);
    expect(JSON.stringify(out.body)).not.toContain('QV22x-guess');
    expect(out.body).toEqual({
      Operations: [{ method: 'GET', path: `/Users?filter=${encodeURIComponent(`password eq "${R}"`)}&count=1` }],
    });
  });

  it('decodes a query as the server does, so a stray % does not hide a password comparison', () => {
    const query = 'filter=password%20eq%20%22Pct-secret-pw%22%20and%20x%20eq%20%22100%%22';
    const out = redactQuery(query, new SecretSet());
    expect(out).not.toContain('Pct-secret-pw');
  });

  it('redacts the values a filter compares password against, in the query and in a .search body', () => {
    const secrets = new SecretSet();
    const query = `filter=${encodeURIComponent('userName eq "a" and PASSWORD eq "filter-secret"')}&count=1`;
    const out = redactQuery(query, secrets);
    expect(decodeURIComponent(out)).toBe(`filter=userName eq "a" and PASSWORD eq "${R}"&count=1`);
    expect(secrets.values.has('filter-secret')).toBe(true);
    const search = redactBody('{"filter":"password sw \\"search-secret\\"","count":1}', new SecretSet(), 1024, true);
    expect(search.json).not.toContain('search-secret');
    expect(search.body).toEqual({ filter: `password sw "${R}"`, count: 1 });
  });

  it('redacts form-encoded secrets', () => {
    expect(redactText('user=a&password=form-secret&x=1', new SecretSet())).toBe(`user=a&password=${R}&x=1`);
  });

  it('redacts a password nested by brackets, user[password], in a query, a form and a JSON name', () => {
    expect(redactQuery('?user[password]=Brk-secret-1&x=1', new SecretSet())).toBe(`user[password]=${R}&x=1`);
    expect(redactQuery('?user%5Bpassword%5D=Brk-secret-2', new SecretSet())).toBe(`user%5Bpassword%5D=${R}`);
    expect(redactText('userName=b&user[password]=Form-secret-3&x=1', new SecretSet())).toBe(
      `userName=b&user[password]=${R}&x=1`,
    );
    expect(redactText('user%5Bpassword%5D=Form-secret-4', new SecretSet())).toBe(`user%5Bpassword%5D=${R}`);
    expect(redactText('a[b][password]=Form-secret-6&x=1', new SecretSet())).toBe(`a[b][password]=${R}&x=1`);
    expect(redactQuery('?a[b][password]=Query-secret-7', new SecretSet())).toBe(`a[b][password]=${R}`);
    expect(redactBody({ userName: 'x', 'user[password]': 'Json-secret-5' }, new SecretSet()).body).toEqual({
      userName: 'x',
      'user[password]': R,
    });
    // A name that only holds brackets somewhere else is no password.
    expect(redactQuery('?filter[password_hint]=kept-as-is', new SecretSet())).toBe('filter[password_hint]=kept-as-is');
  });

  it('truncates past the limit with a flag, keeping the original size', () => {
    const body = { members: Array.from({ length: 200 }, (_, i) => ({ value: `member-${i}` })) };
    const size = JSON.stringify(body).length;
    const out = redactBody(body, new SecretSet(), 1024);
    expect(out.truncated).toBe(true);
    expect(out.bytes).toBe(size);
    expect(typeof out.body).toBe('string');
    expect(Buffer.byteLength(out.body as string)).toBeLessThanOrEqual(1024);
    expect(redactBody({ a: 1 }, new SecretSet(), 1024)).toEqual({
      body: { a: 1 },
      truncated: false,
      bytes: 7,
      json: '{"a":1}',
    });
  });

  it('sizes text by what came, not by what redaction or a compact serialization made of it', () => {
    const text = '{\n  "userName": "b\u00f6b",\n  "password": "a-rather-long-password-123"\n}';
    const out = redactBody(text, new SecretSet());
    expect(out.body).toEqual({ userName: 'böb', password: R });
    expect(out.bytes).toBe(Buffer.byteLength(text));
    const form = 'user=a&password=a-rather-long-password-123';
    expect(redactBody(form, new SecretSet()).bytes).toBe(form.length);
    const long = `{"password":"a-rather-long-password-123","filler":"${'x'.repeat(200)}"}`;
    expect(redactBody(long, new SecretSet(), 64)).toMatchObject({ truncated: true, bytes: Buffer.byteLength(long) });
  });

  it('redacts before truncating, so a cut never exposes a secret', () => {
    const body = { filler: 'x'.repeat(100), password: 'late-secret-value' };
    const out = redactBody(body, new SecretSet(), 120);
    expect(out.truncated).toBe(true);
    expect(String(out.body)).not.toContain('late-secret');
  });

  it('treats absent bodies as null', () => {
    expect(redactBody(undefined, new SecretSet())).toEqual({ body: null, truncated: false, bytes: 0, json: 'null' });
    expect(redactBody('', new SecretSet())).toEqual({ body: null, truncated: false, bytes: 0, json: 'null' });
  });
});

describe('JSON text the redaction would not change', () => {
  /** JSON values whose property names are sometimes secret, in any case or behind a URN. */
  const names = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.constantFrom('password', 'PassWord', 'urn:x:User:password', 'token', 'api_key', 'path', 'value', 'op'),
  );
  const json = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(names, tie('value'), { maxKeys: 4 }),
    ),
  })).value;

  it('logs exactly what the structural pass would, whether or not the text is kept as it came', () => {
    fc.assert(
      fc.property(json, fc.constantFrom(0, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        if (text === undefined || !/^\s*[[{]/.test(text)) return;
        const fromText = new SecretSet();
        const fromValue = new SecretSet();
        const logged = redactBody(text, fromText);
        // The structural pass over what the text holds (JSON writes -0 as 0, so not `value` itself).
        const expected = redactBody(JSON.parse(text) as unknown, fromValue);
        expect(JSON.parse(logged.json)).toEqual(expected.body);
        expect(logged.body).toEqual(expected.body);
        expect(logged.json).not.toMatch(/[\n\r]/);
        expect([...fromText.values].sort()).toEqual([...fromValue.values].sort());
        // Told the text is a JSON object or array, the log keeps the same line without parsing it.
        const fromHint = new SecretSet();
        const hinted = redactBody(text, fromHint, undefined, true);
        expect({ json: hinted.json, bytes: hinted.bytes, truncated: hinted.truncated }).toEqual({
          json: logged.json,
          bytes: logged.bytes,
          truncated: logged.truncated,
        });
        expect([...fromHint.values].sort()).toEqual([...fromText.values].sort());
      }),
      { numRuns: 500 },
    );
  });

  it('keeps compact JSON text without secrets as it came, sized by its own bytes', () => {
    const text = '{"userName":"zoë","emails":[{"value":"a@b.example"}],"meta":{"version":"W/\\"1\\""}}';
    const out = redactBody(text, new SecretSet());
    expect(out.json).toBe(text);
    expect(out.bytes).toBe(Buffer.byteLength(text));
    expect(out.body).toEqual(JSON.parse(text));
  });

  it('does not let an escape spell a secret name past the redaction', () => {
    const text = '{"userName":"a","pass\\u0077ord":"escaped-secret"}';
    const secrets = new SecretSet();
    const out = redactBody(text, secrets);
    expect(out.json).not.toContain('escaped-secret');
    expect(out.body).toEqual({ userName: 'a', password: R });
    expect(secrets.values.has('escaped-secret')).toBe(true);
  });

  it('redacts a name spelled with a character that lower-cases to a secret name (Kelvin sign)', () => {
    // Every character whose toLowerCase() is ASCII, outside ASCII: today only U+212A KELVIN SIGN.
    const folding = [];
    for (let c = 0x80; c < 0x110000; c++) {
      if (c >= 0xd800 && c < 0xe000) continue;
      const lower = String.fromCodePoint(c).toLowerCase();
      if ([...lower].every((ch) => ch.charCodeAt(0) < 0x80)) folding.push(String.fromCodePoint(c));
    }
    let tried = 0;
    for (const char of folding) {
      const name = `to${char}en`;
      if (!isSecretBodyKey(name)) continue;
      tried++;
      const text = JSON.stringify({ userName: 'a', [name]: 'kelvin-folded-1' });
      const out = redactBody(text, new SecretSet());
      expect(out.json).not.toContain('kelvin-folded-1');
      expect(out.json).toBe(JSON.stringify(redactBody(JSON.parse(text), new SecretSet()).body));
    }
    expect(tried).toBeGreaterThan(0);
  });

  it('cuts text nested past the depth limit as the structural pass does', () => {
    const deep = `${'['.repeat(80)}1${']'.repeat(80)}`;
    expect(redactBody(deep, new SecretSet()).json).toBe(
      JSON.stringify(redactBody(JSON.parse(deep), new SecretSet()).body),
    );
    expect(redactBody(deep, new SecretSet()).json).toContain('[too deep]');
  });
});

describe('truncateUtf8', () => {
  it('never cuts inside a multi-byte character', () => {
    const text = 'é'.repeat(10); // 2 bytes each
    expect(truncateUtf8(text, 5)).toBe('éé');
    expect(truncateUtf8('🔑🔑', 5)).toBe('🔑');
    expect(truncateUtf8('abc', 10)).toBe('abc');
  });
});

describe('scrubbing collected secrets', () => {
  it('removes a secret wherever else it appears, also in its JSON-escaped form', () => {
    const secrets = new SecretSet();
    secrets.add('pa"ss\\word1');
    secrets.add('abc'); // too short to scrub safely
    const json = JSON.stringify({ detail: 'bad password pa"ss\\word1', other: 'abc' });
    const out = scrubJsonSecrets(json, secrets);
    expect(JSON.parse(out)).toEqual({ detail: `bad password ${R}`, other: 'abc' });
    expect(scrubSecrets('x pa"ss\\word1 y', secrets)).toBe(`x ${R} y`);
  });

  it('keeps JSON valid: values are scrubbed, punctuation and escapes are never cut', () => {
    const secrets = new SecretSet();
    secrets.add(':false,'); // a bearer token that spells JSON punctuation
    secrets.add(12345678); // a numeric password
    secrets.add('n12345'); // would cut the escape \n if matched in the serialized text
    const json = JSON.stringify({
      truncated: false,
      bytes: 0,
      totalResults: 12345678,
      note: 'a\n12345',
      id: 'u-12345678',
    });
    const out = scrubJsonSecrets(json, secrets);
    expect(JSON.parse(out)).toEqual({ truncated: false, bytes: 0, totalResults: R, note: 'a\n12345', id: `u-${R}` });
    // Without numbers (the summary's own counters), a number is kept as it is.
    expect(JSON.parse(scrubJsonSecrets(json, secrets, false))).toMatchObject({ totalResults: 12345678 });
  });

  it('gives a log line whose head and detail parse when a credential spells JSON punctuation or a number', () => {
    const input = entryInput({
      status: 401,
      request: { headers: { authorization: 'Bearer :false,' }, body: '{"password":12345678}' },
      response: { headers: {}, body: '{"totalResults":12345678,"truncated":false}' },
    });
    const line = buildEntry(input, 12345678, 0, 65536, new Interner()).line.toString('utf8');
    const [head, detail] = [line.slice(0, line.indexOf('\t')), line.slice(line.indexOf('\t') + 1, -1)];
    expect(JSON.parse(head)).toMatchObject({ seq: 12345678, status: 401 });
    const parsed = JSON.parse(detail) as { request: { body: unknown }; response: { body: unknown } };
    expect(parsed.request.body).toEqual({ password: R });
    expect(parsed.response.body).toEqual({ totalResults: R, truncated: false });
    expect(detail).not.toContain('12345678');
  });

  it.each([
    ['a date, as in the time', '1970-01-01', 'time'],
    ['a source', 'console', 'source'],
    ['a request id', 'req-000007', 'request_id'],
    ['a token name', 'ci bot', 'token'],
  ])("keeps the entry, and the server's own fields, when a password is %s", (_label, password, field) => {
    const input = entryInput({
      status: 201,
      source: 'console',
      token: { id: 'k1', name: 'ci bot' },
      request_id: 'req-000007',
      path: `/scim/v2/Users/${password}`,
      request: { headers: {}, body: JSON.stringify({ userName: 'a', password }) },
    });
    const built = buildEntry(input, 3, 0, 65536, new Interner());
    const line = built.line.toString('utf8');
    const head = JSON.parse(line.slice(0, line.indexOf('\t'))) as Record<string, unknown>;
    expect(head).toMatchObject({
      time: '1970-01-01T00:00:00.000Z',
      source: 'console',
      request_id: 'req-000007',
      token: { id: 'k1', name: 'ci bot' },
      // The client's own text is scrubbed still, in the line and in the row the list shows.
      path: `/scim/v2/Users/${R}`,
    });
    expect(head[field]).not.toBe(R);
    expect(built.row.path).toBe(`/scim/v2/Users/${R}`);
  });

  it('keeps no secret a URL in a header carries in its query, nor one an escape hides', () => {
    const token = `scimdesk_${'a'.repeat(20)}_${'b'.repeat(22)}`;
    const input = entryInput({
      status: 201,
      query: `filter=${encodeURIComponent(`userName eq "${token}"`).replace(/_/g, '%5F')}&count=1`,
      request: {
        headers: {
          referer: 'http://idp.example/return?password=referer-secret&lang=en',
          'x-original-url': '/scim/v2/Users?access_token=forwarded-secret#top',
          'user-agent': 'curl/8 (what?)',
        },
        body: 'userName=a&pass%77ord=form-secret-1&note=x',
      },
    });
    const line = buildEntry(input, 5, 0, 65536, new Interner()).line.toString('utf8');
    for (const secret of ['referer-secret', 'forwarded-secret', 'form-secret-1', token, token.replace(/_/g, '%5F')]) {
      expect([secret, line.includes(secret)]).toEqual([secret, false]);
    }
    const head = JSON.parse(line.slice(0, line.indexOf('\t'))) as { query: string };
    expect(decodeURIComponent(head.query)).toBe(`filter=userName eq "${R}"&count=1`);
    const detail = JSON.parse(line.slice(line.indexOf('\t') + 1)) as { request: { headers: Record<string, string> } };
    expect(detail.request.headers).toEqual({
      referer: `http://idp.example/return?password=${R}&lang=en`,
      'x-original-url': `/scim/v2/Users?access_token=${R}#top`,
      'user-agent': 'curl/8 (what?)',
    });
  });

  it('replaces a secret under an escaped form name where it stands, short or escaped itself', () => {
    for (const [body, kept] of [
      ['a=1&pass%77ord=hunt2', 'a=1&pass%77ord=[redacted]'],
      ['pass%77ord=%73ecret%31%32%33&b=2', 'pass%77ord=[redacted]&b=2'],
      ['user%5Bpassword%5D=hunt2', 'user%5Bpassword%5D=[redacted]'],
      ['na%6De=hunt2', 'na%6De=hunt2'],
    ]) {
      const input = entryInput({ status: 400, request: { headers: {}, body } });
      const line = buildEntry(input, 6, 0, 65536, new Interner()).line.toString('utf8');
      const detail = JSON.parse(line.slice(line.indexOf('\t') + 1)) as { request: { body: unknown } };
      expect([body, detail.request.body]).toEqual([body, kept]);
    }
  });

  it('reads a URL only in the headers that carry one, its path and query both', () => {
    const token = `scimdesk_${'c'.repeat(20)}_${'d'.repeat(22)}`;
    const headers = {
      referer: `https://idp.example/app/${token.replace(/_/g, '%5F')}/x?lang=en`,
      'x-retry-reason': 'why?code=upstream-busy',
      'content-disposition': 'attachment; filename="export?key=users.csv"',
    };
    const input = entryInput({
      status: 503,
      request: { headers },
      response: { headers: {}, body: JSON.stringify({ detail: 'upstream-busy' }) },
    });
    const line = buildEntry(input, 8, 0, 65536, new Interner()).line.toString('utf8');
    const detail = JSON.parse(line.slice(line.indexOf('\t') + 1)) as {
      request: { headers: Record<string, string> };
      response: { body: unknown };
    };
    expect(detail.request.headers).toEqual({ ...headers, referer: `https://idp.example/app/${R}/x?lang=en` });
    expect(detail.response.body).toEqual({ detail: 'upstream-busy' });
  });

  it("keeps a body's size when a password's digits spell it", () => {
    const body = JSON.stringify({ userName: 'a', password: '123456' });
    const input = entryInput({ status: 201, request: { headers: {}, body, bytes: 123456 } });
    const line = buildEntry(input, 4, 0, 65536, new Interner()).line.toString('utf8');
    const detail = JSON.parse(line.slice(line.indexOf('\t') + 1)) as { request: { body: unknown; bytes: unknown } };
    expect(detail.request).toMatchObject({ body: { userName: 'a', password: R }, bytes: 123456 });
  });

  it('leaves no first characters of a secret where a body was cut', () => {
    const secret = 'upstream-credential-0123456789';
    const entryOf = (body: string) =>
      JSON.parse(
        buildEntry(
          entryInput({ request: { headers: { 'x-upstream-bearer': secret }, body } }),
          1,
          0,
          64,
          new Interner(),
        )
          .line.toString('utf8')
          .split('\t')[1] ?? '',
      ) as { request: { body: string; truncated: boolean } };
    // The limit (64 bytes) falls 20 characters into the echoed credential.
    const echoed = entryOf(`${'x'.repeat(44)}${secret} and more`).request;
    expect(echoed).toMatchObject({ truncated: true, body: `${'x'.repeat(44)}${R}` });
    // A SCIM token cut before it has the shape the scrub knows.
    const token = `scimdesk_${'Q'.repeat(43)}`;
    expect(entryOf(`${'y'.repeat(50)}${token}`).request.body).toBe(`${'y'.repeat(50)}${R}`);
    // Text that merely ends like nothing secret is kept as cut.
    expect(entryOf('z'.repeat(100)).request.body).toBe('z'.repeat(64));
  });

  it('finds the start of a secret at any cut, for secrets that repeat themselves too', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b'), minLength: 6, maxLength: 24 }),
        fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 12 }),
        fc.nat(),
        (secret, before, at) => {
          const secrets = new SecretSet();
          secrets.add(secret);
          const cut = `${before}${secret.slice(0, at % secret.length)}`;
          const out = withoutCutSecret(cut, secrets);
          // The longest end of the cut text that starts the secret, found by trying each length; the
          // whole secret too (a cut text of a repeating secret can end with all of it).
          let fragment = 0;
          for (let n = 1; n <= secret.length && n <= cut.length; n++)
            if (secret.startsWith(cut.slice(-n))) fragment = n;
          expect(out).toBe(fragment >= 4 ? `${cut.slice(0, cut.length - fragment)}${R}` : cut);
        },
      ),
    );
  });

  it('finds a credential shape cut at the end as the shape rule reads it, reading the text once', () => {
    // The rule, as a regular expression: quadratic over a long run, fine over these short texts.
    const shape = /(?:scimdesk_[A-Za-z0-9_-]*|(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2})$/;
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('scimdesk_', 'eyJ', 'a', '.', '-', '_', ' ', 'Z', '9'), { maxLength: 14 }),
        (pieces) => {
          const text = pieces.join('');
          const at = shape.exec(text)?.index;
          const expected = at !== undefined && text.length - at >= 4 ? `${text.slice(0, at)}${R}` : text;
          expect(withoutCutSecret(text, new SecretSet())).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
    // 7,000 starts of a token in one run: the regular expression took 1.5 s over it.
    expect(withoutCutSecret(`${'scimdesk_'.repeat(7000)}x`, new SecretSet())).toBe(R);
  });

  it('keeps no SCIM token or JWT in clear wherever a client put it', () => {
    const scimToken = `scimdesk_${'b'.repeat(43)}`;
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl';
    const input = {
      method: 'POST',
      path: `/scim/v2/${scimToken}/Users`,
      query: `${scimToken}&x=Bearer+${jwt}&authorization=Bearer%20${scimToken}&filter=userName%20eq%20%22a%22`,
      tenant_id: 't1',
      token: null,
      source: 'idp' as const,
      status: 401,
      duration_ms: 1,
      request: {
        headers: { authentication: `Bearer ${scimToken}`, 'x-foo': jwt, 'user-agent': 'curl/8' },
        body: JSON.stringify({ userName: 'a', nickName: `Bearer ${jwt}`, title: scimToken }),
      },
      response: { headers: {}, body: JSON.stringify({ detail: `No such resource /scim/v2/${scimToken}/Users` }) },
      error: { message: `token ${scimToken} is not known` },
      started_at: 0,
    };
    const line = buildEntry(input, 7, 0, 65536, new Interner()).line.toString('utf8');
    expect(line).not.toContain(scimToken);
    expect(line).not.toContain(jwt);
    const [head, detail] = [line.slice(0, line.indexOf('\t')), line.slice(line.indexOf('\t') + 1, -1)];
    expect(JSON.parse(head)).toMatchObject({
      path: `/scim/v2/${R}/Users`,
      query: `${R}&x=Bearer+${R}&authorization=${R}&filter=userName%20eq%20%22a%22`,
    });
    const parsed = JSON.parse(detail) as { request: { headers: unknown; body: unknown }; error: unknown };
    expect(parsed.request.headers).toEqual({ authentication: R, 'x-foo': R, 'user-agent': 'curl/8' });
    expect(parsed.request.body).toEqual({ userName: 'a', nickName: `Bearer ${R}`, title: R });
    expect(parsed.error).toEqual({ message: `token ${R} is not known` });
  });

  it('keeps no SCIM token in clear in a path that percent-encodes some of its characters', () => {
    const scimToken = `scimdesk_${'c'.repeat(20)}_${'d'.repeat(22)}`;
    const encoded = scimToken.replace(/_/g, '%5F').replace(/c/, '%63');
    const input = {
      method: 'GET',
      path: `/scim/v2/Users/${encoded}`,
      query: '',
      tenant_id: 't1',
      token: null,
      source: 'idp' as const,
      status: 404,
      duration_ms: 1,
      request: { headers: {} },
      response: {
        headers: {},
        body: JSON.stringify({ detail: `User ${scimToken} not found; no SCIM endpoint at /scim/v2/Users/${encoded}.` }),
      },
      error: { message: `No SCIM endpoint at /scim/v2/Users/${encoded}.` },
      started_at: 0,
    };
    const line = buildEntry(input, 9, 0, 65536, new Interner()).line.toString('utf8');
    expect(line).not.toContain(encoded);
    expect(line).not.toContain(scimToken);
    expect(JSON.parse(line.slice(0, line.indexOf('\t')))).toMatchObject({ path: `/scim/v2/Users/${R}` });
    // Other encoded segments are kept as sent.
    const plain = buildEntry({ ...input, path: '/scim/v2/Users/a%20b' }, 10, 0, 65536, new Interner());
    expect(plain.line.toString('utf8')).toContain('"path":"/scim/v2/Users/a%20b"');
  });

  it("keeps a token's public prefix and words that only start like a credential", () => {
    const input = {
      method: 'GET',
      path: '/api/v1/admin/scim-tokens/',
      query: 'q=scimdesk_Ab12Cd',
      tenant_id: null,
      token: null,
      source: 'console' as const,
      status: 200,
      duration_ms: 1,
      request: { headers: {}, body: null },
      response: { headers: {}, body: JSON.stringify({ token_prefix: 'scimdesk_Ab12Cd', note: 'monkeyJ.a.b' }) },
      started_at: 0,
    };
    const line = buildEntry(input, 8, 0, 65536, new Interner()).line.toString('utf8');
    expect(line).toContain('q=scimdesk_Ab12Cd');
    expect(line).toContain('"token_prefix":"scimdesk_Ab12Cd"');
    expect(line).toContain('monkeyJ.a.b');
  });

  it('keeps the bodies of a Bulk of 1,000 users with passwords, every password scrubbed wherever it is echoed', () => {
    const passwords = Array.from({ length: 1000 }, (_, i) => `Pw-${i}-${(i * 7919).toString(36)}x`);
    const Operations = passwords.map((password, i) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `u${i}`,
      data: { userName: `user${i}@example.com`, password },
    }));
    const failed = { status: '400', response: { detail: `password ${passwords[999]!} is too weak` } };
    const input = entryInput({
      path: '/scim/v2/Bulk',
      status: 200,
      request: { headers: {}, body: JSON.stringify({ Operations }) },
      response: { headers: {}, body: JSON.stringify({ Operations: [failed] }) },
      error: { message: `echo ${passwords[500]!}`, code: 'invalidValue' },
    });
    const line = buildEntry(input, 1, 0, 1 << 20, new Interner()).line.toString('utf8');
    const detail = JSON.parse(line.slice(line.indexOf('\t') + 1)) as {
      request: { body: { Operations: { data: { userName: string; password: string } }[] } };
      response: { body: { Operations: { response: { detail: string } }[] } };
      error: { message: string };
    };
    expect(detail.request.body.Operations).toHaveLength(1000);
    expect(detail.request.body.Operations[3]!.data).toEqual({ userName: 'user3@example.com', password: R });
    expect(detail.response.body.Operations[0]!.response.detail).toBe(`password ${R} is too weak`);
    expect(detail.error.message).toBe(`echo ${R}`);
    for (const password of passwords) expect(line).not.toContain(password);
  });

  it('counts a secret at its JSON-escaped length, the longer automaton it builds', () => {
    const secrets = new SecretSet();
    // 1,000 control characters are 6,000 once escaped (\u0001 each).
    for (let i = 0; i < 6; i++) secrets.add(`${'\u0001'.repeat(1000)}${i}`);
    expect(secrets.overflowed).toBe(true);
    const plain = new SecretSet();
    for (let i = 0; i < 6; i++) plain.add(`${'x'.repeat(1000)}${i}`);
    expect(plain.overflowed).toBe(false);
  });

  it('withholds the bodies of a request with more secrets than it can scrub, cheaply', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => `secret-${String(i).padStart(6, '0')}`);
    const body = JSON.stringify({ userName: 'x', password: many, echo: many.slice(0, 1000) });
    const input = {
      method: 'POST',
      path: '/scim/v2/Users',
      query: 'token=query-secret-1',
      tenant_id: 't1',
      token: null,
      source: 'idp' as const,
      status: 400,
      duration_ms: 1,
      request: { headers: { authorization: 'Bearer header-secret-1' }, body },
      response: { headers: {}, body: JSON.stringify({ detail: `echo ${many[5]!}` }) },
      error: { message: `echo ${many[7]!}`, code: 'invalidValue' },
      started_at: 0,
    };
    const started = performance.now();
    const line = buildEntry(input, 1, 0, 65536, new Interner()).line.toString('utf8');
    expect(performance.now() - started).toBeLessThan(5_000); // a guard against a hang, not a benchmark
    const [head, detail] = [line.slice(0, line.indexOf('\t')), line.slice(line.indexOf('\t') + 1, -1)];
    expect(JSON.parse(head)).toMatchObject({ query: `token=${R}` });
    const parsed = JSON.parse(detail) as { request: { body: unknown; headers: unknown }; response: { body: unknown } };
    expect(parsed.request.body).toBe(
      `${R}: the request holds more secret text than the log scrubs (${MAX_SECRET_UNITS} characters)`,
    );
    expect(parsed.response.body).toBe(parsed.request.body);
    expect(parsed.request.headers).toEqual({ authorization: `Bearer ${R}` });
    expect(line).not.toMatch(/secret-0|header-secret|query-secret/);
  });

  it('always leaves JSON that parses, with no secret left in any value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), (value, picks) => {
        const json = JSON.stringify(value);
        if (json === undefined || json.length < 6) return;
        // Secrets cut from the serialization itself: they straddle quotes, escapes and numbers.
        const secrets = new SecretSet();
        for (const pick of picks) {
          const start = pick % (json.length - 5);
          secrets.add(json.slice(start, start + 6 + (pick % 4)));
        }
        const out = scrubJsonSecrets(json, secrets);
        const parsed: unknown = JSON.parse(out);
        const leaves: string[] = [];
        const walk = (v: unknown): void => {
          if (typeof v === 'string' || typeof v === 'number') leaves.push(String(v));
          else if (v && typeof v === 'object') {
            for (const [key, child] of Object.entries(v)) {
              leaves.push(key);
              walk(child);
            }
          }
        };
        walk(parsed);
        for (const leaf of leaves) for (const secret of secrets.values) expect(leaf).not.toContain(secret);
      }),
      { numRuns: 500 },
    );
  });
});
