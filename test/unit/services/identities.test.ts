import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, connect, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentityService, type ScimRequestContext } from '../../../src-main/services/identities/identity-service';
import { coreSchemaRegistry } from '@shared/scim/registry';
import { membershipsOf } from '../../../src-main/services/identities/present';
import { compatFlags } from '@shared/scim/compat-flags';
import { CompatContext } from '../../../src-main/scim/compat';
import { createPasswordHasher } from '../../../src-main/services/password-hasher';
import { serviceHarness, type ServiceHarness } from './harness';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const BASE = 'http://127.0.0.1:8585/scim/v2';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let h: ServiceHarness;
let ctx: ScimRequestContext;
beforeEach(async () => {
  h = await serviceHarness();
  const tenant = await h.services.tenants.create({ name: 'Acme' });
  ctx = { tenantId: tenant.id, baseUrl: BASE };
});
afterEach(() => h.close());

const ids = () => h.services.identities;
/** A version without the digest of derived values it carries when it has any: `W/"3.…"` → `W/"3"`. */
const revision = (tag: string) => tag.replace(/^(W\/"\d+)\.[0-9a-f]{12}"$/, '$1"');
/** Creates and replaces through the service, answering the representation. */
const create = async (...args: Parameters<IdentityService['create']>) => (await ids().create(...args)).resource;
const replace = async (...args: Parameters<IdentityService['replace']>) => (await ids().replace(...args)).resource;
const user = (userName: string, extra: Record<string, unknown> = {}) =>
  create('User', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, ...extra }, ctx);

describe('users', () => {
  it('creates a user with meta, defaults and location', async () => {
    const created = await user('bjensen@example.com', { emails: [{ value: 'bjensen@example.com', type: 'work' }] });
    expect(created).toMatchObject({
      userName: 'bjensen@example.com',
      active: true,
      emails: [{ value: 'bjensen@example.com', type: 'work', primary: false }],
      meta: {
        resourceType: 'User',
        created: '2026-01-01T09:00:00.000Z',
        lastModified: '2026-01-01T09:00:00.000Z',
        version: 'W/"1"',
        location: `${BASE}/Users/${created.id}`,
      },
    });
    expect(ids().get('User', String(created.id), ctx)).toEqual(created);
  });

  it('keeps userName unique per tenant, ignoring case', async () => {
    await user('Alice@Example.com');
    await expect(user('alice@example.COM')).rejects.toMatchObject({ status: 409, scimType: 'uniqueness' });
    // Lower-casing alone turns a word's last Σ into ς, so these were two users.
    await user('ΟΔΟΣ@example.com');
    await expect(user('οδοσ@example.com')).rejects.toMatchObject({ status: 409, scimType: 'uniqueness' });
    const other = await h.services.tenants.create({ name: 'Other' });
    await expect(
      create('User', { userName: 'alice@example.com' }, { ...ctx, tenantId: other.id }),
    ).resolves.toMatchObject({ userName: 'alice@example.com' });
  });

  it('lets two users whose names an earlier rule told apart be written again, and refuses a third', async () => {
    const upper = await user('ΟΔΟΣ@x.com');
    const lower = await user('lower@x.com', { externalId: 'e-1' });
    // Stored as a build before the final-Σ folding took it: two users, then, now one name.
    await h.store.write(ctx.tenantId, (tx) => tx.merge('users', String(lower.id), { userName: 'οδοσ@x.com' }));
    const deactivate = { Operations: [{ op: 'replace', path: 'active', value: false }] };
    await expect(ids().patch('User', String(upper.id), deactivate, ctx)).resolves.toBeDefined();
    await expect(
      replace('User', String(lower.id), { userName: 'οδοσ@x.com', externalId: 'e-1', title: 'restated' }, ctx),
    ).resolves.toMatchObject({ title: 'restated' });
    const third = await user('third@x.com');
    const rename = { Operations: [{ op: 'replace', path: 'userName', value: 'οδοσ@X.COM' }] };
    await expect(ids().patch('User', String(third.id), rename, ctx)).rejects.toMatchObject({ status: 409 });
  });

  it('lets exactly one of many parallel creates of the same userName win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => user(i % 2 ? 'RACE@x.com' : 'race@x.com')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.status),
    ).toEqual(Array(11).fill(409));
  });

  it('keeps externalId unique per resource type when present', async () => {
    await user('a@x.com', { externalId: 'ext-1' });
    await expect(user('b@x.com', { externalId: 'ext-1' })).rejects.toMatchObject({ status: 409 });
    await expect(user('c@x.com')).resolves.toBeDefined();
    await expect(create('Group', { displayName: 'G', externalId: 'ext-1' }, ctx)).resolves.toBeDefined();
  });

  it('refuses a PATCH that grows a user past 1 MiB, and lets one that does not through', async () => {
    const email = (i: number) => ({ value: `${'x'.repeat(100_000)}${i}@example.com`, type: 'other' });
    const grown = await user('grown@example.com', { emails: [0, 1, 2, 3, 4, 5, 6, 7, 8].map(email) });
    const id = String(grown.id);
    const add = (from: number) => ({
      Operations: [{ op: 'add', path: 'emails', value: [from, from + 1].map(email) }],
    });
    await expect(ids().patch('User', id, add(9), ctx)).rejects.toMatchObject({
      status: 400,
      scimType: 'invalidValue',
      message: expect.stringMatching(/^This PATCH would make the User 1,1\d\d,\d{3} bytes, over the 1,048,576 bytes/),
    });
    expect(ids().get('User', id, ctx).emails).toHaveLength(9);

    // A user over the limit already (a Bulk operation may carry 4 MiB) can still be deactivated,
    // not grown.
    const big = await user('big@example.com', { emails: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(email) });
    const deactivate = { Operations: [{ op: 'replace', path: 'active', value: false }] };
    await expect(ids().patch('User', String(big.id), deactivate, ctx)).resolves.toBeDefined();
    expect(ids().get('User', String(big.id), ctx).active).toBe(false);
    await expect(ids().patch('User', String(big.id), add(20), ctx)).rejects.toMatchObject({
      message: expect.stringContaining('(it is 1,1'),
    });
  });

  it('counts an empty externalId as none: many users may send ""', async () => {
    await user('empty-1@x.com', { externalId: '' });
    await expect(user('empty-2@x.com', { externalId: '' })).resolves.toBeDefined();
  });

  it('refuses invalid bodies with invalidValue, saying where', async () => {
    await expect(create('User', { name: { givenName: 'x' } }, ctx)).rejects.toMatchObject({
      status: 400,
      scimType: 'invalidValue',
      message: expect.stringContaining('userName'),
    });
    await expect(create('User', [], ctx)).rejects.toMatchObject({ status: 400, scimType: 'invalidSyntax' });
  });

  it('refuses a blank userName or group displayName on create, PUT and PATCH', async () => {
    const refused = { status: 400, scimType: 'invalidValue' };
    for (const blank of ['', '   ', '\u200b', ' \ufeff ']) {
      await expect(user(blank)).rejects.toMatchObject({ ...refused, message: expect.stringContaining('userName') });
      await expect(create('Group', { displayName: blank }, ctx)).rejects.toMatchObject(refused);
    }
    const alice = await user('alice@x.com');
    await expect(replace('User', String(alice.id), { userName: ' ' }, ctx)).rejects.toMatchObject(refused);
    const patch = { Operations: [{ op: 'replace', path: 'userName', value: '\t ' }] };
    await expect(ids().patch('User', String(alice.id), patch, ctx)).rejects.toMatchObject(refused);
    expect(ids().get('User', String(alice.id), ctx).userName).toBe('alice@x.com');
  });

  it('refuses control characters and unpaired surrogates in a userName or group displayName', async () => {
    const refused = { status: 400, scimType: 'invalidValue', message: expect.stringContaining('control characters') };
    for (const bad of ['alice\u0000@x.com', 'alice\t@x.com', 'line\nbreak', 'c1\u0085', 'lone\ud800', '\udc00x']) {
      await expect(user(bad)).rejects.toMatchObject(refused);
      await expect(create('Group', { displayName: bad }, ctx)).rejects.toMatchObject(refused);
    }
    const alice = await user('ctl-alice@x.com');
    await expect(replace('User', String(alice.id), { userName: 'ctl\u001b[31m' }, ctx)).rejects.toMatchObject(refused);
    const patch = { Operations: [{ op: 'replace', path: 'userName', value: 'ctl\u0007bell' }] };
    await expect(ids().patch('User', String(alice.id), patch, ctx)).rejects.toMatchObject(refused);
    expect(ids().get('User', String(alice.id), ctx).userName).toBe('ctl-alice@x.com');
    // Printable text outside ASCII, paired surrogates and joiners inside a name stay welcome.
    for (const good of ['zoë@x.com', '😀@x.com', 'می\u200cخواهم']) await expect(user(good)).resolves.toBeDefined();
  });

  it('refuses a userName or group displayName too long for any filter to find, and finds the longest it takes', async () => {
    const refused = {
      status: 400,
      scimType: 'invalidValue',
      message: expect.stringContaining('4,000 a filter can name'),
    };
    await expect(user('a'.repeat(4001))).rejects.toMatchObject(refused);
    await expect(create('Group', { displayName: 'g'.repeat(4001) }, ctx)).rejects.toMatchObject(refused);
    const alice = await user('long-alice@x.com');
    const patch = { Operations: [{ op: 'replace', path: 'userName', value: 'b'.repeat(5000) }] };
    await expect(ids().patch('User', String(alice.id), patch, ctx)).rejects.toMatchObject(refused);
    // A longer name stored before the limit, kept as it is, is no reason to refuse a write.
    const old = await user('old-long@x.com');
    const stored = 'c'.repeat(4500);
    await h.store.write(ctx.tenantId, (tx) => tx.merge('users', String(old.id), { userName: stored }));
    await expect(replace('User', String(old.id), { userName: stored, title: 'kept' }, ctx)).resolves.toBeDefined();
    const restate = { Operations: [{ op: 'replace', value: { userName: stored, active: false } }] };
    await expect(ids().patch('User', String(old.id), restate, ctx)).resolves.toBeDefined();
    await expect(replace('User', String(old.id), { userName: `${stored}d` }, ctx)).rejects.toMatchObject(refused);
    // The longest, every character escaped in the filter, is still found.
    const longest = '"'.repeat(4000);
    await user(longest);
    const filter = `userName eq "${longest.replaceAll('"', '\\"')}"`;
    expect(ids().list('User', { filter }, ctx).totalResults).toBe(1);
  });

  it('takes a binary value only as base64 (a certificate as it is pasted, wrapped or not)', async () => {
    const refused = { status: 400, scimType: 'invalidValue' };
    await expect(user('cert-a@x.com', { x509Certificates: [{ value: 'A' }] })).rejects.toMatchObject(refused);
    const pem = Buffer.from('a certificate, say')
      .toString('base64')
      .replace(/(.{8})/g, '$1\r\n');
    const made = await user('cert-b@x.com', { x509Certificates: [{ value: pem }] });
    const patch = { Operations: [{ op: 'add', path: 'x509Certificates', value: [{ value: 'TUl' }] }] };
    await expect(ids().patch('User', String(made.id), patch, ctx)).rejects.toMatchObject(refused);
    expect(ids().get('User', String(made.id), ctx).x509Certificates).toEqual([expect.objectContaining({ value: pem })]);
  });

  it('lets the event loop turn between two lists that may hold it long; a short lookup goes at once', async () => {
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => user(`turn-${i}@x.com`)));
    // Past the creates' millisecond, which a list would wait out first (see readFence).
    h.clock.advance(10);
    const order: string[] = [];
    // A request that comes in while a list runs: bytes on a socket, read at the loop's next poll.
    const server = createServer((socket) => socket.once('data', () => order.push('served between')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    const run = async (name: string, filter: string) => {
      await ids().listTurn(['User'], { filter }, ctx);
      order.push(name);
      ids().list('User', { filter }, ctx);
      if (name === 'scan') client.write('GET');
    };
    const terms = ['a', 'b', 'c', 'd', 'e'].map((letter) => `title co "${letter}"`).join(' or ');
    await Promise.all([
      run('scan', 'displayName co "zz"'),
      // An index narrows it, but each candidate is tested against five more terms: as long as a scan.
      run('narrowed', `userName sw "turn-" and (${terms})`),
      run('lookup', 'userName eq "turn-1@x.com"'),
    ]);
    client.destroy();
    server.close();
    expect(order).toEqual(['lookup', 'scan', 'served between', 'narrowed']);
  });

  it('hashes passwords, never returns them, never stores them in clear', async () => {
    const created = await user('secret@x.com', { password: 'Tr0ub4dor&3-unique' });
    expect(created).not.toHaveProperty('password');
    expect(JSON.stringify(ids().get('User', String(created.id), ctx))).not.toContain('Tr0ub4dor');
    await h.store.checkpoint(true);
    expect(await h.diskText()).not.toContain('Tr0ub4dor&3-unique');
  });

  it('refuses a malformed attributes parameter on a write before writing anything', async () => {
    const bad = { attributes: 'name..x' };
    await expect(create('User', { userName: 'projection-first@x.com' }, ctx, bad)).rejects.toMatchObject({
      status: 400,
    });
    expect(ids().list('User', { filter: 'userName eq "projection-first@x.com"' }, ctx).totalResults).toBe(0);
    const bob = await user('projection-bob@x.com', { displayName: 'Bob' });
    const put = { userName: 'projection-bob@x.com', displayName: 'Changed' };
    await expect(replace('User', String(bob.id), put, ctx, {}, bad)).rejects.toMatchObject({ status: 400 });
    const patch = { Operations: [{ op: 'replace', path: 'title', value: 'Patched' }] };
    await expect(ids().patch('User', String(bob.id), patch, ctx, {}, bad)).rejects.toMatchObject({ status: 400 });
    expect(ids().get('User', String(bob.id), ctx)).toMatchObject({ displayName: 'Bob', meta: { version: 'W/"1"' } });
    expect(ids().get('User', String(bob.id), ctx)).not.toHaveProperty('title');
  });

  it('removes a password on PATCH remove, or a null value where nulls are absent values', async () => {
    const storedHash = (id: unknown) => h.store.tenant(ctx.tenantId)?.get('users', String(id))?.passwordHash;
    const removing = async (op: Record<string, unknown>) => {
      const created = await user(`pw-${String(op.op)}-${String(op.value)}@x.com`, { password: 'pw-to-remove-1' });
      expect(storedHash(created.id)).toMatch(/^\$scrypt\$/);
      const patched = await ids().patch('User', String(created.id), { Operations: [op] }, ctx);
      expect(patched.report.changes).toEqual([{ attribute: 'password', multiValued: false, redacted: true }]);
      expect(patched.version).toBe('W/"2"');
      expect(storedHash(created.id)).toBeUndefined();
    };
    await removing({ op: 'remove', path: 'password' });
    await removing({ op: 'replace', path: 'password', value: null });
    // Without a password, removing it changes nothing.
    const plain = await user('pw-none@x.com');
    const unchanged = await ids().patch(
      'User',
      String(plain.id),
      { Operations: [{ op: 'remove', path: 'password' }] },
      ctx,
    );
    expect(unchanged.version).toBe('W/"1"');
  });

  it('keeps the version and the hash when a PUT or PATCH gives the password the user already has', async () => {
    const storedHash = (id: string) => h.store.tenant(ctx.tenantId)?.get('users', id)?.passwordHash;
    const created = await user('pw-sync@x.com', { displayName: 'Sync', password: 'pw-sync-1' });
    const id = String(created.id);
    const hash = storedHash(id);
    // Okta with password sync sends the password on every push: a restating PUT changes nothing.
    const pushed = { userName: 'pw-sync@x.com', displayName: 'Sync', password: 'pw-sync-1' };
    for (let i = 0; i < 2; i++) expect((await replace('User', id, pushed, ctx)).meta).toEqual(created.meta);
    const same = { op: 'replace', path: 'password', value: 'pw-sync-1' };
    expect((await ids().patch('User', id, { Operations: [same] }, ctx)).report.changed).toEqual([]);
    expect(storedHash(id)).toBe(hash);
    // With another change beside it, the password is not named as changed.
    const titled = await ids().patch('User', id, { Operations: [same, { op: 'add', path: 'title', value: 'T' }] }, ctx);
    expect(titled.report.changed).toEqual(['title']);
    expect(storedHash(id)).toBe(hash);
    // Another password is a change, with a new hash.
    const changed = await replace('User', id, { ...pushed, title: 'T', password: 'pw-sync-2' }, ctx);
    expect(changed.meta).toMatchObject({ version: 'W/"3"' });
    expect(storedHash(id)).not.toBe(hash);
  });

  it('reads a password in either normal form as one, and refuses a lone surrogate half', async () => {
    const storedHash = (id: string) => h.store.tenant(ctx.tenantId)?.get('users', id)?.passwordHash;
    const nfc = 'Café-päss-w0rd'.normalize('NFC');
    const created = await user('nfc@x.com', { password: nfc });
    const id = String(created.id);
    const hash = storedHash(id);
    const restated = await replace('User', id, { userName: 'nfc@x.com', password: nfc.normalize('NFD') }, ctx);
    expect(restated.meta).toEqual(created.meta);
    expect(storedHash(id)).toBe(hash);
    // A hash made before passwords were prepared (of the NFD text as it came) still matches it.
    const nfd = nfc.normalize('NFD');
    const older = createPasswordHasher({ params: { N: 2 ** 10, r: 8, p: 1, keyLength: 32 }, workers: 1 });
    const oldHash = await older.hash(nfd);
    await older.close();
    await h.store.write(ctx.tenantId, (tx) => tx.merge('users', id, { passwordHash: oldHash }));
    const before = ids().read('User', id, ctx).version;
    await replace('User', id, { userName: 'nfc@x.com', password: nfd }, ctx);
    expect(ids().read('User', id, ctx).version).toBe(before);
    expect(storedHash(id)).toBe(oldHash);
    // Each lone half was hashed as U+FFFD: two different passwords were one.
    await expect(replace('User', id, { userName: 'nfc@x.com', password: '\ud800-lone' }, ctx)).rejects.toMatchObject({
      status: 400,
      scimType: 'invalidValue',
    });
  });

  it('leaves the body it was given as it was (a caller may send it again)', async () => {
    const body = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'same@x.com', password: 'pw-1' };
    const before = structuredClone(body);
    await create('User', body, ctx);
    expect(body).toEqual(before);
  });

  it("keeps a created user's password hash out of its history, with or without a password", async () => {
    const withPassword = await user('hashed@x.com', { password: 'Tr0ub4dor&3-unique' });
    const without = await user('plain@x.com', { title: 'Engineer' });
    const hash = h.store.tenant(ctx.tenantId)?.get('users', String(withPassword.id))?.passwordHash;
    expect(typeof hash).toBe('string');
    await new Promise((resolve) => setImmediate(resolve)); // the history records right after the answer
    const version = (id: unknown) => h.services.history.version(ctx.tenantId, 'User', String(id), 1);
    expect((await version(withPassword.id))?.resource).not.toHaveProperty('passwordHash');
    expect((await version(without.id))?.resource).toMatchObject({ userName: 'plain@x.com', title: 'Engineer' });
    await h.services.history.flush();
    const names = await readdir(join(h.dir, 'history'));
    const text = (await Promise.all(names.map((name) => readFile(join(h.dir, 'history', name), 'utf8')))).join('');
    expect(text).toContain('plain@x.com');
    expect(text).not.toContain(String(hash));
    expect(text).not.toContain('passwordHash');
  });

  it('replaces on PUT: absent attributes cleared, created and password kept, version bumped', async () => {
    const created = await user('put@x.com', { displayName: 'Before', title: 'Engineer', password: 'pw-put-1' });
    h.clock.advance(60_000);
    const replaced = await replace('User', String(created.id), { userName: 'put@x.com', displayName: 'After' }, ctx);
    expect(replaced).toMatchObject({ displayName: 'After', active: true });
    expect(replaced).not.toHaveProperty('title');
    expect(replaced.meta).toMatchObject({
      created: '2026-01-01T09:00:00.000Z',
      lastModified: '2026-01-01T09:01:00.000Z',
      version: 'W/"2"',
    });
    const stored = h.store.tenant(ctx.tenantId)!.get('users', String(created.id))!;
    expect(stored.passwordHash).toMatch(/^\$scrypt\$/);
  });

  it('gives every revision a later lastModified than the one before, in one millisecond or after the clock stepped back', async () => {
    const created = await user('time@x.com');
    const id = String(created.id);
    const lastModified = (resource: { meta?: unknown }) => (resource.meta as { lastModified: string }).lastModified;
    const rename = async (displayName: string) =>
      lastModified(
        (
          await ids().patch(
            'User',
            id,
            { Operations: [{ op: 'replace', path: 'displayName', value: displayName }] },
            ctx,
          )
        ).resource,
      );
    // The harness's clock stands still unless advanced: three writes in one millisecond.
    const times = [lastModified(created)];
    for (const name of ['a', 'b']) times.push(await rename(name));
    h.clock.advance(-3_600_000); // NTP steps the clock back an hour
    times.push(await rename('c'));
    expect(times).toEqual([
      '2026-01-01T09:00:00.000Z',
      '2026-01-01T09:00:00.001Z',
      '2026-01-01T09:00:00.002Z',
      '2026-01-01T09:00:00.003Z',
    ]);
    // An IdP that saw the second revision finds the later ones.
    const since = await ids().list('User', { filter: 'meta.lastModified gt "2026-01-01T09:00:00.001Z"' }, ctx);
    expect(since.totalResults).toBe(1);
    // A resource created after the step is not dated before what this server stamped already, nor
    // at the newest time the list just answered (see the next test).
    expect((await user('later@x.com')).meta).toMatchObject({ created: '2026-01-01T09:00:00.004Z' });
    // The history dates each version as its lastModified does.
    await new Promise((resolve) => setImmediate(resolve)); // the history records right after the answer
    const timeline = h.services.history.timeline(ctx.tenantId, 'User', id, { page: 1, per_page: 5 });
    expect(timeline.items.map((item) => item.time)).toEqual([...times].reverse());
  });

  it('dates a write after a list later than anything the list answered, so a delta sync finds it', async () => {
    const lastModified = (resource: { meta?: unknown }) => (resource.meta as { lastModified: string }).lastModified;
    // The harness's clock stands still: every write below falls in one millisecond.
    const first = lastModified(await user('sync-1@x.com'));
    expect(lastModified(await user('sync-2@x.com'))).toBe(first);
    const seen = await ids().list('User', { filter: `meta.lastModified ge "${first}"` }, ctx);
    const newest = seen.Resources.map(lastModified).sort().at(-1)!;
    const created = await user('sync-3@x.com');
    expect(lastModified(created) > newest).toBe(true);
    const next = await ids().list('User', { filter: `meta.lastModified gt "${newest}"` }, ctx);
    expect(next.Resources.map((resource) => resource.userName)).toEqual(['sync-3@x.com']);
  });

  it('honours If-Match on PUT and DELETE', async () => {
    const created = await user('etag@x.com');
    const id = String(created.id);
    await expect(replace('User', id, { userName: 'etag@x.com' }, ctx, { ifMatch: 'W/"7"' })).rejects.toMatchObject({
      status: 412,
    });
    await expect(
      replace('User', id, { userName: 'etag@x.com', title: 'changed' }, ctx, { ifMatch: 'W/"1"' }),
    ).resolves.toBeDefined();
    await expect(ids().delete('User', id, ctx, { ifMatch: '"1"' })).rejects.toMatchObject({ status: 412 });
    await expect(ids().delete('User', id, ctx, { ifMatch: '*' })).resolves.toEqual({});
  });

  it('answers 404 for unknown ids', async () => {
    expect(() => ids().get('User', 'nope', ctx)).toThrow(expect.objectContaining({ status: 404 }));
    await expect(ids().delete('User', 'nope', ctx)).rejects.toMatchObject({ status: 404 });
  });

  it('deactivates instead of deleting when the tenant says so', async () => {
    await h.services.tenants.update(ctx.tenantId, { delete_mode: 'deactivate' });
    const created = await user('keep@x.com');
    await ids().delete('User', String(created.id), ctx);
    expect(ids().get('User', String(created.id), ctx)).toMatchObject({ active: false, meta: { version: 'W/"2"' } });
  });

  it('keeps one delete_mode for the whole of a request, changed meanwhile or not (a Bulk of DELETEs)', async () => {
    const made = await Promise.all(['a', 'b', 'c', 'd'].map((name) => user(`${name}@mode.test`)));
    const request = { ...ctx };
    // As the Bulk route does: the request's flags are read before its steps, each step a copy.
    ids().compatOf(request);
    for (const [i, one] of made.entries()) {
      await h.services.tenants.update(ctx.tenantId, { delete_mode: i % 2 ? 'deactivate' : 'delete' });
      await ids().delete('User', String(one.id), { ...request });
    }
    for (const one of made) expect(() => ids().get('User', String(one.id), ctx)).toThrow(/not found/);
  });

  it('keeps an enterprise extension and lists it in schemas', async () => {
    const created = await user('ent@x.com', { [ENTERPRISE]: { department: 'R&D', manager: { value: 'm1' } } });
    expect(created.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE]);
    expect(created[ENTERPRISE]).toMatchObject({ department: 'R&D', manager: { value: 'm1' } });
  });
});

describe('groups and memberships', () => {
  it('derives a user’s groups and the members’ display, type and $ref', async () => {
    const alice = await user('alice@x.com', { displayName: 'Alice' });
    const bob = await user('bob@x.com');
    const group = await create(
      'Group',
      { displayName: 'Admins', members: [{ value: alice.id }, { value: bob.id }] },
      ctx,
    );
    expect(group.members).toEqual([
      { value: alice.id, $ref: `${BASE}/Users/${alice.id}`, type: 'User', display: 'Alice' },
      { value: bob.id, $ref: `${BASE}/Users/${bob.id}`, type: 'User', display: 'bob@x.com' },
    ]);
    expect(ids().get('User', String(alice.id), ctx).groups).toEqual([
      { value: group.id, $ref: `${BASE}/Groups/${group.id}`, display: 'Admins', type: 'direct' },
    ]);
    // Filters see the values as answered, derived ones included; an export matches as a list does.
    const found = (kind: 'User' | 'Group', filter: string) => {
      const listed = ids()
        .list(kind, { filter }, ctx)
        .Resources.map((r) => r.id);
      const exported = [...ids().exportResources(kind, { filter }, ctx)].map((r) => r.id);
      expect([...exported].sort()).toEqual([...listed].sort());
      return listed;
    };
    expect(found('Group', 'members.display eq "alice"')).toEqual([group.id]);
    expect(found('Group', 'members[display sw "bob" and type eq "User"]')).toEqual([group.id]);
    expect(found('Group', `members.$ref ew "/Users/${String(bob.id)}"`)).toEqual([group.id]);
    expect(found('Group', 'members.display eq "carol"')).toEqual([]);
    expect(found('Group', `meta.location sw "${BASE}/Groups/"`)).toEqual([group.id]);
    expect(found('User', 'groups.display eq "admins"').sort()).toEqual([alice.id, bob.id].sort());
    expect(found('User', 'not (groups[display eq "Admins"])')).not.toContain(alice.id);
  });

  it('gives a group answered without its members the version of the whole, and a new one when a member is renamed', async () => {
    const alice = await user('alice-v@x.com', { displayName: 'Alice' });
    const group = await create('Group', { displayName: 'Versioned', members: [{ value: alice.id }] }, ctx);
    const id = String(group.id);
    const version = (projection = {}) => (ids().get('Group', id, ctx, projection).meta as { version: string }).version;
    const whole = version();
    const without = ids().get('Group', id, ctx, { excludedAttributes: 'members' });
    expect(without).not.toHaveProperty('members');
    expect((without.meta as { version: string }).version).toBe(whole);
    await ids().patch(
      'User',
      String(alice.id),
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Alicia' }],
      },
      ctx,
    );
    // Asked without members first, so a remembered version would be the one answered.
    const renamed = (ids().get('Group', id, ctx, { excludedAttributes: 'members' }).meta as { version: string })
      .version;
    expect(renamed).not.toBe(whole);
    expect(version()).toBe(renamed);
    expect(ids().get('Group', id, ctx).members).toMatchObject([{ display: 'Alicia' }]);
  });

  it('tells each group its walk through nested groups visits, for the list budget to count', async () => {
    const member = await user('nested@x.com');
    let below = await create('Group', { displayName: 'Level 0', members: [{ value: member.id }] }, ctx);
    for (let level = 1; level < 5; level++) {
      below = await create('Group', { displayName: `Level ${level}`, members: [{ value: below.id }] }, ctx);
    }
    let steps = 0;
    const groups = membershipsOf(h.store.tenant(ctx.tenantId)!, String(member.id), () => steps++);
    expect(groups.map((g) => g.type)).toEqual(['direct', 'indirect', 'indirect', 'indirect', 'indirect']);
    expect(steps).toBe(5);
  });

  it('reads the real type of a member added earlier in the same PATCH, not the one its client said', async () => {
    const alice = await user('typed-alice@x.com');
    const team = await create('Group', { displayName: 'Typed team' }, ctx);
    const group = await create('Group', { displayName: 'Typed' }, ctx);
    const patchOf = (...Operations: unknown[]) => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations,
    });
    await ids().patch(
      'Group',
      String(group.id),
      patchOf(
        { op: 'add', path: 'members', value: [{ value: alice.id }, { value: team.id, type: 'User' }] },
        { op: 'remove', path: 'members[type eq "User"]' },
      ),
      ctx,
    );
    // Alice (a user) went; the team, which its client called a user, is a group and stays.
    expect(ids().get('Group', String(group.id), ctx).members).toEqual([
      expect.objectContaining({ value: team.id, type: 'Group' }),
    ]);
  });

  it('gives a group whose members changed by PATCH the digest of a group made with those members at once', async () => {
    const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((n) => user(`${n}-digest@x.com`)));
    const patchMembers = (id: string, op: string, value: unknown, path = 'members') =>
      ids().patch(
        'Group',
        id,
        { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op, path, value }] },
        ctx,
      );
    const digest = (id: string) =>
      (ids().get('Group', id, ctx, { excludedAttributes: 'members' }).meta as { version: string }).version.split(
        '.',
      )[1];
    const changed = String(
      (await create('Group', { displayName: 'Changed', members: [{ value: a!.id }, { value: b!.id }] }, ctx)).id,
    );
    digest(changed); // remembered, so that what follows is worked out from the changes
    await patchMembers(changed, 'add', [{ value: c!.id }, { value: d!.id }]);
    await patchMembers(changed, 'remove', undefined, `members[value eq "${String(b!.id)}"]`);
    const atOnce = String(
      (
        await create(
          'Group',
          { displayName: 'At once', members: [{ value: d!.id }, { value: a!.id }, { value: c!.id }] },
          ctx,
        )
      ).id,
    );
    expect(digest(changed)).toBe(digest(atOnce));
    // A member renamed: both move, and still agree.
    const before = digest(changed);
    await ids().patch(
      'User',
      String(a!.id),
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Ann' }],
      },
      ctx,
    );
    expect(digest(changed)).not.toBe(before);
    expect(digest(changed)).toBe(digest(atOnce));
  });

  it('refuses members that are not in the tenant', async () => {
    await expect(create('Group', { displayName: 'G', members: [{ value: 'ghost' }] }, ctx)).rejects.toMatchObject({
      status: 400,
      scimType: 'invalidValue',
    });
  });

  it('removes a deleted user from every group, each group getting a new version and a history entry', async () => {
    const alice = await user('alice@x.com');
    const bob = await user('bob@x.com');
    const g1 = await create('Group', { displayName: 'G1', members: [{ value: alice.id }, { value: bob.id }] }, ctx);
    const g2 = await create('Group', { displayName: 'G2', members: [{ value: alice.id }] }, ctx);
    const untouched = await create('Group', { displayName: 'G3', members: [{ value: bob.id }] }, ctx);
    await ids().delete('User', String(alice.id), ctx);
    expect(ids().get('Group', String(g1.id), ctx)).toMatchObject({
      members: [{ value: bob.id }],
      meta: { version: expect.stringMatching(/^W\/"2\.[0-9a-f]{12}"$/) },
    });
    expect(ids().get('Group', String(g2.id), ctx).members ?? []).toEqual([]);
    expect(ids().read('Group', String(g2.id), ctx).version).toBe('W/"2"');
    expect(revision(ids().read('Group', String(untouched.id), ctx).version)).toBe('W/"1"');
    await new Promise((resolve) => setImmediate(resolve)); // the history records right after the answer
    const timeline = h.services.history.timeline(ctx.tenantId, 'Group', String(g1.id), { page: 1, per_page: 5 });
    expect(timeline.items.map((item) => [item.version, item.kind, item.attributes])).toEqual([
      [2, 'change', ['members']],
      [1, 'create', expect.any(Array)],
    ]);
    const { changes } = (await h.services.history.diff(ctx.tenantId, 'Group', String(g1.id), 1, 2))!;
    expect(changes.filter((change) => change.path[0] === 'members')).not.toEqual([]);
    expect(
      JSON.stringify((await h.services.history.version(ctx.tenantId, 'Group', String(g1.id), 2))?.resource),
    ).not.toContain(String(alice.id));
    // A group left with no members is kept in its history as stored, where an empty list is no
    // list (RFC 7643 §2.5); its answer says `members: []` (DESIGN.md §3: included unless excluded).
    const emptied = await h.services.history.version(ctx.tenantId, 'Group', String(g2.id), 2);
    expect(emptied?.resource).not.toHaveProperty('members');
    expect(ids().get('Group', String(g2.id), ctx)).toHaveProperty('members', []);
  });

  it("refuses a PATCH that changes a member's $ref, which the server makes, and accepts it restated", async () => {
    const alice = await user('ref-alice@x.com');
    const group = await create('Group', { displayName: 'Refs', members: [{ value: alice.id }] }, ctx);
    const path = `members[value eq "${String(alice.id)}"].$ref`;
    const patchRef = (value: string) =>
      ids().patch('Group', String(group.id), { Operations: [{ op: 'add', path, value }] }, ctx);
    await expect(patchRef('https://elsewhere.example/Users/x')).rejects.toMatchObject({
      status: 400,
      scimType: 'mutability',
    });
    const same = await patchRef(`${BASE}/Users/${String(alice.id)}`);
    expect(revision(same.version)).toBe('W/"1"');
    // The same member as read on the other base path: another URL, the same resource.
    const otherBase = await patchRef(`https://x.example/api/v1/tenants/t/scim/v2/Users/${String(alice.id)}`);
    expect(revision(otherBase.version)).toBe('W/"1"');
  });

  it("lets a Bulk circle's own follow-up write through where the tenant requires If-Match", async () => {
    const strictCtx = (): ScimRequestContext => ({
      ...ctx,
      compat: new CompatContext(compatFlags('compatible', { requireIfMatch: true })),
    });
    const alice = await user('follow-up@x.com');
    const group = await create('Group', { displayName: 'Circle' }, ctx);
    const add = { Operations: [{ op: 'add', path: 'members', value: [{ value: alice.id }] }] };
    await expect(ids().patch('Group', String(group.id), add, strictCtx())).rejects.toMatchObject({ status: 412 });
    const linked = await ids().patch('Group', String(group.id), add, strictCtx(), { followUp: true });
    expect(linked.resource).toMatchObject({ members: [{ value: alice.id }] });
  });

  it('refuses a manager that is a group, and keeps one not provisioned yet', async () => {
    const group = await create('Group', { displayName: 'Not a manager' }, ctx);
    await expect(
      user('mgr-group@x.com', { [ENTERPRISE]: { manager: { value: String(group.id) } } }),
    ).rejects.toMatchObject({ status: 400, scimType: 'invalidValue', message: expect.stringContaining('is a group') });
    const later = await user('mgr-later@x.com', { [ENTERPRISE]: { manager: { value: 'not-provisioned-yet' } } });
    expect(later[ENTERPRISE]).toMatchObject({ manager: { value: 'not-provisioned-yet' } });
    const patch = { Operations: [{ op: 'replace', path: `${ENTERPRISE}:manager.value`, value: String(group.id) }] };
    await expect(ids().patch('User', String(later.id), patch, ctx)).rejects.toMatchObject({ status: 400 });
  });

  it('keeps every value a PATCH replace gives, as POST does: a work and a home email of one address stay two', async () => {
    const created = await user('two-emails@x.com', {
      emails: [
        { value: 'same@x.com', type: 'work' },
        { value: 'SAME@x.com', type: 'home', primary: true },
      ],
      addresses: [{ locality: 'Oslo' }, { locality: 'Oslo' }],
    });
    expect(created.emails).toHaveLength(2);
    for (const operation of [
      { op: 'replace', path: 'emails', value: created.emails },
      { op: 'Replace', value: { emails: created.emails, addresses: created.addresses } },
    ]) {
      const patched = await ids().patch('User', String(created.id), { Operations: [operation] }, ctx);
      expect(patched.resource).toEqual(created);
    }
  });

  it('changes nothing on an add of values already there, when two of them share an address', async () => {
    const created = await user('add-same@x.com', {
      emails: [
        { value: 'same@x.com', type: 'work' },
        { value: 'SAME@x.com', type: 'home', primary: true },
      ],
    });
    for (const operation of [
      { op: 'add', path: 'emails', value: created.emails },
      { op: 'add', value: { emails: [...(created.emails as unknown[])].reverse() } },
    ]) {
      const patched = await ids().patch('User', String(created.id), { Operations: [operation] }, ctx);
      expect(patched.resource).toEqual(created);
    }
    const retyped = { op: 'add', path: 'emails', value: [{ value: 'same@x.com', type: 'other' }] };
    const patched = await ids().patch('User', String(created.id), { Operations: [retyped] }, ctx);
    // Of another type, it is another value of that address (as POST keeps them), not a retyping.
    expect(patched.resource.emails).toEqual([
      { value: 'same@x.com', type: 'work', primary: false },
      { value: 'SAME@x.com', type: 'home', primary: true },
      { value: 'same@x.com', type: 'other', primary: false },
    ]);
  });

  it('keeps no blank manager or empty extension, so that a PATCH restating what GET shows changes nothing', async () => {
    const blank = await user('blank-mgr@x.com', {
      name: { givenName: '' },
      [ENTERPRISE]: { costCenter: 'c', manager: { value: '' } },
    });
    expect(blank.name).toBeUndefined();
    expect(blank[ENTERPRISE]).toEqual({ costCenter: 'c' });
    const emptied = await replace(
      'User',
      String(blank.id),
      { userName: 'blank-mgr@x.com', [ENTERPRISE]: { department: '' } },
      ctx,
    );
    expect(emptied[ENTERPRISE]).toBeUndefined();
    expect(emptied.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:User']);
    const shown = await user('shown-mgr@x.com', { [ENTERPRISE]: { costCenter: 'c', manager: ' ' } });
    const restate = { Operations: [{ op: 'replace', path: ENTERPRISE, value: shown[ENTERPRISE] }] };
    const patched = await ids().patch('User', String(shown.id), restate, ctx);
    expect(patched.resource).toEqual(shown);
  });

  it('refuses a member given without a value, saying a value is needed', async () => {
    await expect(
      create('Group', { displayName: 'Ref only', members: [{ $ref: `${BASE}/Users/x` }] }, ctx),
    ).rejects.toMatchObject({
      status: 400,
      scimType: 'invalidValue',
      message: expect.stringContaining('needs a "value"'),
    });
  });

  it('keeps the version of a group whose members a PATCH or PUT restates', async () => {
    const alice = await user('alice@x.com');
    const bob = await user('bob@x.com');
    const group = await create(
      'Group',
      { displayName: 'Devs', members: [{ value: alice.id }, { value: bob.id }] },
      ctx,
    );
    const gid = String(group.id);
    const patchGroup = (...ops: unknown[]) =>
      ids().patch('Group', gid, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: ops }, ctx);
    // The members as the client knows them: without the `type` the server stores.
    const same = [{ value: bob.id }, { value: alice.id }];
    await patchGroup({ op: 'replace', path: 'members', value: same });
    await patchGroup({ op: 'replace', value: { members: same } });
    await patchGroup({ op: 'add', path: 'members', value: [{ value: alice.id }] });
    expect(revision(ids().read('Group', gid, ctx).version)).toBe('W/"1"');
    // A real change still makes a version; restating it afterwards does not.
    await patchGroup({ op: 'replace', path: 'members', value: [{ value: bob.id }] });
    expect(revision(ids().read('Group', gid, ctx).version)).toBe('W/"2"');
    expect(ids().get('Group', gid, ctx).members).toEqual([expect.objectContaining({ value: bob.id })]);
    // Emptied by PATCH, then PUT back without members, as Okta's push does.
    await patchGroup({ op: 'remove', path: 'members' });
    expect(ids().read('Group', gid, ctx).version).toBe('W/"3"');
    await replace('Group', gid, { displayName: 'Devs' }, ctx);
    expect(ids().read('Group', gid, ctx).version).toBe('W/"3"');
    await new Promise((resolve) => setImmediate(resolve)); // the history records right after the answer
    const timeline = h.services.history.timeline(ctx.tenantId, 'Group', gid, { page: 1, per_page: 10 });
    expect(timeline.items.map((item) => item.version)).toEqual([3, 2, 1]);
  });

  it('derives a manager’s $ref and displayName when the manager is a user here', async () => {
    const boss = await user('boss@x.com', { displayName: 'The Boss' });
    const employee = await user('emp@x.com', { [ENTERPRISE]: { manager: { value: boss.id } } });
    expect(employee[ENTERPRISE]).toEqual({
      manager: { value: boss.id, $ref: `${BASE}/Users/${String(boss.id)}`, displayName: 'The Boss' },
    });
    await replace('User', String(boss.id), { userName: 'boss@x.com', displayName: 'Chief' }, ctx);
    expect(ids().get('User', String(employee.id), ctx)[ENTERPRISE]).toMatchObject({
      manager: { displayName: 'Chief' },
    });
    const filter = `${ENTERPRISE}:manager.displayName eq "chief"`;
    expect(
      ids()
        .list('User', { filter }, ctx)
        .Resources.map((r) => r.id),
    ).toEqual([employee.id]);
    const elsewhere = await user('remote@x.com', { [ENTERPRISE]: { manager: { value: 'not-provisioned-yet' } } });
    expect(elsewhere[ENTERPRISE]).toEqual({ manager: { value: 'not-provisioned-yet' } });
  });

  it('ignores a user’s groups given on write (readOnly)', async () => {
    const created = await user('ro@x.com', { groups: [{ value: 'g-fake' }] });
    expect(created).not.toHaveProperty('groups');
  });
});

describe('lists', () => {
  it('filters, sorts, pages and projects', async () => {
    for (const name of ['carol', 'alice', 'bob', 'dave']) {
      await user(`${name}@x.com`, { displayName: name.toUpperCase(), active: name !== 'dave' });
      h.clock.advance(1000);
    }
    const page = ids().list(
      'User',
      { filter: 'active eq true', sortBy: 'userName', startIndex: 2, count: 2, attributes: 'userName' },
      ctx,
    );
    expect(page).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 2 });
    expect(page.Resources.map((r) => r.userName)).toEqual(['bob@x.com', 'carol@x.com']);
    expect(page.Resources[0]).not.toHaveProperty('displayName');

    const byName = ids().list('User', { filter: 'userName eq "ALICE@x.com"' }, ctx);
    expect(byName.Resources.map((r) => r.userName)).toEqual(['alice@x.com']);
    expect(ids().list('User', { count: 0 }, ctx)).toMatchObject({ totalResults: 4, itemsPerPage: 0, Resources: [] });
    // Without sortBy: creation order, stable.
    expect(
      ids()
        .list('User', {}, ctx)
        .Resources.map((r) => r.userName),
    ).toEqual(['carol@x.com', 'alice@x.com', 'bob@x.com', 'dave@x.com']);
  });

  it('refuses a bad sortBy or sortOrder whatever count asks for, at the root too', async () => {
    await user('alice@x.com');
    for (const count of [0, 5]) {
      expect(() => ids().list('User', { sortBy: 'nosuch', count }, ctx)).toThrow(/sortBy names an unknown attribute/);
      expect(() => ids().list('User', { filter: 'userName pr', sortBy: 'nosuch', count }, ctx)).toThrow(
        /sortBy names an unknown attribute/,
      );
      expect(() => ids().list('User', { sortBy: 'name', count }, ctx)).toThrow(/is complex/);
      expect(() => ids().list('User', { sortOrder: 'sideways', count }, ctx)).toThrow(/sortOrder must be/);
      expect(() => ids().search(['User', 'Group'], { sortBy: 'shoeSize', count }, ctx)).toThrow(
        /sortBy names an unknown attribute 'shoeSize'/,
      );
    }
    // What one type has is a fine sortBy at the root; count=0 still answers the total.
    expect(ids().search(['User', 'Group'], { sortBy: 'userName', count: 0 }, ctx)).toMatchObject({
      totalResults: 1,
      Resources: [],
    });
  });

  it('echoes a startIndex beyond the safe integers as the largest one, with an empty page', async () => {
    await user('alice@x.com');
    for (const filter of [undefined, 'userName pr']) {
      const page = ids().list('User', { filter, startIndex: 1e30 }, ctx);
      expect(page).toMatchObject({ totalResults: 1, startIndex: Number.MAX_SAFE_INTEGER, itemsPerPage: 0 });
      expect(JSON.stringify(page)).toContain(`"startIndex":${Number.MAX_SAFE_INTEGER}`);
    }
  });

  it('filters on derived group membership', async () => {
    const alice = await user('alice@x.com');
    await user('bob@x.com');
    const group = await create('Group', { displayName: 'Ops', members: [{ value: alice.id }] }, ctx);
    const members = ids().list('User', { filter: `groups.value eq "${group.id}"` }, ctx);
    expect(members.Resources.map((r) => r.userName)).toEqual(['alice@x.com']);
    const groups = ids().list('Group', { filter: `members[value eq "${alice.id}"]` }, ctx);
    expect(groups.totalResults).toBe(1);
  });

  it.each([
    ['in created order', {}],
    ['filtered', { filter: 'displayName pr' }],
  ])('answers a page (%s) read when it was asked for, however late it is pulled', async (_, query) => {
    const alice = await user('alice@x.com', { displayName: 'Alice' });
    const bob = await user('bob@x.com', { displayName: 'Bob' });
    const ops = await create('Group', { displayName: 'Ops', members: [{ value: alice.id }, { value: bob.id }] }, ctx);
    const page = ids().page(['Group'], query, ctx);
    expect(page).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    // Changed and deleted after the page was asked for, before it is sent (a streamed page).
    h.clock.advance(1000);
    await replace('Group', String(ops.id), { displayName: 'Ops renamed', members: [{ value: alice.id }] }, ctx);
    const rename = { op: 'replace', path: 'displayName', value: 'Alicia' };
    await ids().patch('User', String(alice.id), { schemas: [PATCH_OP], Operations: [rename] }, ctx);
    await ids().delete('User', String(bob.id), ctx);
    const sent = [...page.resources];
    // The group as stored when the page was read (its newest lastModified fences later writes);
    // what is derived when read is read as it is now, and a member deleted since is left out.
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      displayName: 'Ops',
      meta: { lastModified: (ops.meta as { lastModified: string }).lastModified },
    });
    expect(sent[0]!.members).toEqual([
      { value: alice.id, display: 'Alicia', type: 'User', $ref: `${BASE}/Users/${String(alice.id)}` },
    ]);
  });

  it('stops a page whose tenant was deleted before its resources were pulled', async () => {
    await user('alice@x.com');
    const page = ids().page(['User'], {}, ctx);
    await h.services.tenants.delete(ctx.tenantId);
    expect(() => [...page.resources]).toThrow(expect.objectContaining({ status: 404 }));
  });

  it('rejects a bad filter with invalidFilter', () => {
    expect(() => ids().list('User', { filter: 'userName eq' }, ctx)).toThrow(
      expect.objectContaining({ status: 400, scimType: 'invalidFilter' }),
    );
  });

  it('says a list past its budget spent it on its sortBy, and counts without sorting for count=0', async () => {
    const members: { value: string }[] = [];
    for (let i = 0; i < 1_100; i++) members.push({ value: String((await user(`budget${i}@x.com`)).id) });
    // Each user's `groups`, worked out when read, is what sortBy=groups.display sorts by.
    await create('Group', { displayName: 'Everyone', members }, ctx);
    // No time to spare: the first look at the clock refuses what derives values for each user.
    const hasher = createPasswordHasher({ params: { N: 2 ** 10, r: 8, p: 1, keyLength: 32 }, workers: 1 });
    const { registry, clock, store } = { registry: coreSchemaRegistry(), clock: h.clock, store: h.store };
    const spent = new IdentityService({ store, registry, hasher, clock, listBudgetMs: -1 });
    const sorted = () => spent.list('User', { sortBy: 'groups.display', count: 10 }, ctx);
    // Not "Matching the filter took…" of a request that has no filter.
    expect(sorted).toThrow(expect.objectContaining({ status: 400, scimType: 'tooMany' }));
    expect(sorted).toThrow(/^Working out sortBy=groups\.display for every resource took more than/);
    // Ordering nothing, it works nothing out: the total alone.
    expect(spent.list('User', { sortBy: 'groups.display', count: 0 }, ctx).totalResults).toBe(1_100);
    await hasher.close();
  });
});

describe('export', () => {
  it('sends a resource changed during the export only if it still matches the filter, as it is now', async () => {
    const made = [];
    for (const name of ['a', 'b', 'c']) made.push(await user(`${name}@example.com`, { title: 'before' }));
    const ordered = made.map((u) => String(u.id)).sort();
    const stream = ids().exportResources('User', { filter: 'active eq true' }, ctx);
    expect(stream.next().value).toMatchObject({ id: ordered[0] });
    // While the export runs: the last one is deactivated, the second retitled.
    const patch = (id: string, path: string, value: unknown) =>
      ids().patch(
        'User',
        id,
        { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path, value }] },
        ctx,
      );
    await patch(ordered[2]!, 'active', false);
    await patch(ordered[1]!, 'title', 'after');
    const rest = [...stream];
    expect(rest.map((u) => [u.id, u.title])).toEqual([[ordered[1], 'after']]);
  });

  it('stops when the token it runs under is revoked', async () => {
    for (const name of ['a', 'b', 'c']) await user(`${name}@example.com`);
    let revoked = false;
    const stream = ids().exportResources(
      'User',
      {},
      {
        ...ctx,
        stillAuthorized: () => {
          if (revoked)
            throw Object.assign(new Error('The SCIM token was revoked while this request ran.'), { status: 401 });
        },
      },
    );
    expect(stream.next().done).toBe(false);
    revoked = true;
    expect(() => stream.next()).toThrow(/revoked/);
  });
});

describe('writes made together (a Bulk circle)', () => {
  it('stops hashing their passwords once the token is refused, and writes nothing', async () => {
    let checks = 0;
    const revokedAfterFirst: ScimRequestContext = {
      ...ctx,
      stillAuthorized: () => {
        if (++checks > 1)
          throw Object.assign(new Error('The SCIM token was revoked while this request ran.'), { status: 401 });
      },
    };
    const creates = new Map(
      [0, 1, 2].map((n) => [
        n,
        { kind: 'User' as const, body: { userName: `together-${n}@x.com`, password: `Pw-${n}-secret!` } },
      ]),
    );
    let worked = false;
    await expect(
      ids().writeTogether(revokedAfterFirst, creates, () => {
        worked = true;
      }),
    ).rejects.toThrow(/revoked/);
    expect(worked).toBe(false);
    expect(checks).toBe(2);
    expect(ids().list('User', { filter: 'userName sw "together-"' }, ctx).totalResults).toBe(0);
  });
});
