import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compatFlags } from '@shared/scim/compat-flags';
import { SCIM_URN } from '@shared/scim/urns';
import {
  checkBulkPayloadSize,
  isMalformed,
  parseBulkRequest,
  planBulk,
  resolveBulkIds,
  startBulk,
  type BulkOperation,
  type BulkOutcome,
  type BulkRequest,
  type BulkResponseBody,
  type BulkStep,
} from '../../../src-main/scim/bulk';
import { CompatContext } from '../../../src-main/scim/compat';
import { ScimError } from '../../../src-main/scim/errors';
import { registry } from './helpers';
import { expectRefusedBy, scimErrorOf } from './patch-helpers';

const BASE = 'https://idp.example/scim/v2';

const fixture = JSON.parse(readFileSync(resolve('test/fixtures/rfc/rfc7644-3.7-bulk.json'), 'utf8')) as {
  requests: Record<string, unknown>;
};

const readRequest = (body: unknown, profile: Parameters<typeof compatFlags>[0] = 'compatible', extra = {}) =>
  parseBulkRequest(body, {
    resourceTypes: registry.resourceTypes,
    compat: new CompatContext(compatFlags(profile)),
    ...extra,
  });

/** A request whose operations can all be read; the first that cannot is thrown, with its error. */
const parse = (...args: Parameters<typeof readRequest>) => {
  const request = readRequest(...args);
  const unreadable = request.operations.find(isMalformed);
  if (unreadable) throw unreadable.error;
  return { ...request, operations: request.operations as BulkOperation[] };
};

const bulk = (ops: unknown[], extra: Record<string, unknown> = {}) => ({
  schemas: [SCIM_URN.bulkRequest],
  Operations: ops,
  ...extra,
});

const postUser = (bulkId: string, data: Record<string, unknown> = {}) => ({
  method: 'POST',
  path: '/Users',
  bulkId,
  data: { userName: bulkId, ...data },
});

/** The loop the HTTP layer writes; `execute` plays the services (ids are "id-<n>"). */
async function execute(
  request: BulkRequest,
  service: (step: BulkStep, n: number) => BulkOutcome | Promise<BulkOutcome>,
): Promise<{ body: BulkResponseBody; seen: BulkStep[] }> {
  const run = startBulk(planBulk(request), { baseUrl: BASE });
  const seen: BulkStep[] = [];
  for (const step of run.steps()) {
    seen.push(step);
    try {
      run.succeed(step, await service(step, seen.length));
    } catch (e) {
      run.fail(step, e);
    }
  }
  return { body: run.response(), seen };
}

const created = (step: BulkStep, n: number): BulkOutcome =>
  step.method === 'POST'
    ? { status: 201, id: `id-${n}`, location: `https://x/scim/v2${step.endpoint}/id-${n}`, version: `W/"${n}"` }
    : step.method === 'DELETE'
      ? { status: 204 }
      : { status: 200, version: `W/"${n}"` };

describe('BulkRequest validation (RFC 7644 §3.7)', () => {
  it('parses the RFC example, collecting bulkId references', () => {
    const req = parse(fixture.requests['bulkIdReference']);
    expect(req.operations.map((o) => [o.method, o.resourceType, o.bulkId, o.references])).toEqual([
      ['POST', 'User', 'qwerty', []],
      ['POST', 'Group', 'ytrewq', ['qwerty']],
    ]);
    const mixed = parse(fixture.requests['mixed']);
    expect(mixed.failOnErrors).toBe(1);
    expect(mixed.operations[1]).toMatchObject({
      id: 'b7c14771-226c-4d05-8860-134711653041',
      version: 'W/"3694e05e9dff591"',
    });
    expect(mixed.operations[3]).not.toHaveProperty('data');
  });
  it.each([
    ['a body that is not an object', 'x', 'invalidSyntax'],
    ['no Operations', { schemas: [SCIM_URN.bulkRequest] }, 'invalidSyntax'],
    ['an unknown method', bulk([{ method: 'HEAD', path: '/Users/1' }]), 'invalidSyntax'],
    ['POST without bulkId', bulk([{ method: 'POST', path: '/Users', data: { userName: 'a' } }]), 'invalidSyntax'],
    ['POST to a resource', bulk([{ method: 'POST', path: '/Users/1', bulkId: 'a', data: {} }]), 'invalidSyntax'],
    ['PUT to a collection', bulk([{ method: 'PUT', path: '/Users', data: {} }]), 'invalidSyntax'],
    ['PATCH without data', bulk([{ method: 'PATCH', path: '/Users/1' }]), 'invalidSyntax'],
    ['no path', bulk([{ method: 'DELETE' }]), 'invalidSyntax'],
    ['an unknown endpoint', bulk([{ method: 'DELETE', path: '/Widgets/1' }]), 'invalidValue'],
    ['a path with a query', bulk([{ method: 'GET', path: '/Users?filter=x' }]), 'invalidValue'],
    ['duplicate bulkIds', bulk([postUser('a'), postUser('a')]), 'invalidValue'],
    ['failOnErrors 0', bulk([postUser('a')], { failOnErrors: 0 }), 'invalidValue'],
    ['failOnErrors not a number', bulk([postUser('a')], { failOnErrors: '1' }), 'invalidValue'],
    [
      'data nested absurdly deep',
      bulk([postUser('a', { x: JSON.parse('['.repeat(100) + ']'.repeat(100)) as unknown })]),
      'invalidSyntax',
    ],
  ])('%s → 400 %s', (_, body, scimType) => {
    const e = scimErrorOf(() => parse(body));
    expect([e.status, e.scimType]).toEqual([400, scimType]);
  });
  it.each([
    ['/Users?filter=userName eq "a"', /with a query/],
    ['/Users/1#x', /with a query/],
    ['/Users/1/members', /an endpoint and one id/],
    ['/Widgets/1', /one of \/Users, \/Groups/],
  ])('says what is wrong with the path %s', (path, message) => {
    expect(scimErrorOf(() => parse(bulk([{ method: 'GET', path }]))).message).toMatch(message);
  });
  it('GET is accepted (seed 003), on a resource', () => {
    expect(parse(bulk([{ method: 'GET', path: '/Users/abc' }])).operations[0]).toMatchObject({
      method: 'GET',
      id: 'abc',
    });
  });
  it('schemas and method case follow the flags', () => {
    const noSchemas = { Operations: [{ method: 'delete', path: '/Users/1' }] };
    expect(parse(noSchemas).operations[0]?.method).toBe('DELETE');
    expectRefusedBy(() => parse(noSchemas, 'strict'), 'patchEnvelopeLenient', 'invalidSyntax');
    expectRefusedBy(() => parse(bulk([{ method: 'delete', path: '/Users/1' }]), 'strict'), 'opCaseInsensitive');
  });
  it('reads every member of the request and its operations under any spelling, or refuses it by name in strict', () => {
    const spelled = bulk(
      [
        { Method: 'DELETE', PATH: '/Users/1', Version: 'W/"7"' },
        { method: 'POST', BulkId: 'u', Data: { userName: 'u' }, path: '/Users' },
      ],
      { FailOnErrors: 1 },
    );
    const read = parse(spelled);
    expect(read.failOnErrors).toBe(1);
    expect(read.operations[0]).toMatchObject({ method: 'DELETE', id: '1', version: 'W/"7"' });
    expect(read.operations[1]).toMatchObject({ bulkId: 'u', data: { userName: 'u' } });
    const refusal = expectRefusedBy(() => parse(spelled, 'strict'), 'patchEnvelopeLenient', 'invalidSyntax');
    expect(refusal.message).toContain('spells "failOnErrors" as "FailOnErrors"');
    expect(
      scimErrorOf(() => parse(bulk([{ method: 'DELETE', path: '/Users/1', version: 'W/"1"', Version: 'W/"2"' }])))
        .message,
    ).toContain('gives "version" twice, as "version" and "Version"');
  });
  it("leaves a user's read-only groups alone: no reference there orders or refuses anything (RFC 7643 §4.1.2)", async () => {
    const request = parse(
      bulk([
        postUser('u', {
          Groups: [{ value: 'bulkId:g' }, { value: 'bulkId:nowhere' }],
          [`${SCIM_URN.user}:groups`]: [{ value: 'bulkId:g' }],
        }),
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'G', members: [{ value: 'bulkId:u' }] } },
      ]),
    );
    expect(request.operations.map((op) => op.references)).toEqual([[], ['u']]);
    const { body, seen } = await execute(request, created);
    expect(body.Operations.map((op) => op.status)).toEqual(['201', '201']);
    // Passed on as sent, for the service to ignore as it ignores them in a single POST.
    expect(seen[0]?.data).toMatchObject({ Groups: [{ value: 'bulkId:g' }, { value: 'bulkId:nowhere' }] });
    expect(seen[1]?.data).toMatchObject({ members: [{ value: 'id-1' }] });
  });
  it('gives an operation that cannot be read the location its path names, except a POST (RFC 7644 §3.7.3)', async () => {
    const { body } = await execute(
      readRequest(
        bulk([
          postUser('a'),
          { method: 'PATCH', path: '/Users/u%201' },
          { method: 'DELETE', path: '/Groups/g1', version: 1 },
          { method: 'PATCH', path: '/Users/bulkId:a' },
          { method: 'POST', path: '/Users/u1', bulkId: 'b', data: {} },
          { method: 'DELETE', path: '/Widgets/w1' },
        ]),
      ),
      created,
    );
    expect(body.Operations.map((op) => [op.status, op.location])).toEqual([
      ['201', 'https://x/scim/v2/Users/id-1'],
      ['400', `${BASE}/Users/u%201`],
      ['400', `${BASE}/Groups/g1`],
      ['400', `${BASE}/Users/id-1`],
      ['400', undefined],
      ['400', undefined],
    ]);
  });
  it('fails an operation that cannot be read alone, and runs the rest (RFC 7644 §3.7.3)', async () => {
    const request = readRequest(
      bulk([
        postUser('a'),
        { method: 'POST', path: '/Widgets', bulkId: 'w', data: {} },
        { method: 'DELETE', path: '/Users/bulkId:w' },
        { path: '/Users/x' },
        'not an operation',
        { method: 'DELETE', path: '/Users/y' },
      ]),
    );
    const { body, seen } = await execute(request, created);
    expect(seen.map((step) => [step.method, step.operation.index])).toEqual([
      ['POST', 0],
      ['DELETE', 5],
    ]);
    expect(body.Operations.map((op) => [op.method, op.bulkId, op.status])).toEqual([
      ['POST', 'a', '201'],
      ['POST', 'w', '400'],
      ['DELETE', undefined, '409'],
      [undefined, undefined, '400'],
      [undefined, undefined, '400'],
      ['DELETE', undefined, '204'],
    ]);
    expect(body.Operations[1]?.response).toMatchObject({
      scimType: 'invalidValue',
      detail: expect.stringContaining('/Widgets'),
    });
    expect(body.Operations[2]?.response).toMatchObject({
      detail: 'Operation 3 refers to bulkId "w", whose operation 2 could not be read.',
    });
    expect(body.Operations[3]?.response).toMatchObject({ detail: expect.stringContaining('needs a "method"') });
    // A bulkId that is itself what is wrong is no duplicate of another.
    const empty = readRequest(
      bulk([
        { method: 'POST', path: '/Users', bulkId: '', data: {} },
        { method: 'POST', path: '/Users', bulkId: '', data: {} },
      ]),
    );
    expect(empty.operations.map((op) => isMalformed(op))).toEqual([true, true]);
    // Counted as errors like any other: failOnErrors 1 stops at the first.
    const stopped = await execute(
      readRequest(bulk([{ path: '/Users/x' }, postUser('b')], { failOnErrors: 1 })),
      created,
    );
    expect(stopped.seen).toEqual([]);
    expect(stopped.body.Operations).toHaveLength(1);
  });
  it("refuses another request's message in any profile: a PatchOp sent to /Bulk", () => {
    const patchOp = { schemas: [SCIM_URN.patchOp], Operations: [] };
    expect(scimErrorOf(() => parse(patchOp, 'compatible'))).toMatchObject({
      status: 400,
      scimType: 'invalidSyntax',
      message: expect.stringContaining(`lists ${SCIM_URN.patchOp}`),
    });
    // A misspelt message URN is not another request's: the lenient envelope forgives it.
    const misspelt = { schemas: [`${SCIM_URN.bulkRequest}s`], Operations: [] };
    expect(parse(misspelt, 'compatible').operations).toEqual([]);
  });
});

describe('members a BulkRequest does not define', () => {
  it('are refused under strictSchemaValidation: in the request whole, in an operation for it alone', () => {
    expectRefusedBy(
      () => readRequest(bulk([postUser('a')], { failOnError: 1 }), 'strict'),
      'strictSchemaValidation',
      'invalidSyntax',
    );
    const request = readRequest(bulk([{ ...postUser('a'), versoin: 'W/"1"' }, postUser('b')]), 'strict');
    expect(request.operations.map((op) => isMalformed(op))).toEqual([true, false]);
    expect(scimErrorOf(() => parse(bulk([{ ...postUser('a'), versoin: 'W/"1"' }]), 'strict')).message).toContain(
      'Bulk operation 1 has "versoin"',
    );
    // Elsewhere ignored, as before.
    expect(parse(bulk([{ ...postUser('a'), versoin: 'W/"1"' }], { extra: 1 })).operations).toHaveLength(1);
  });
});

describe('limits (RFC 7644 §3.7.4): 413', () => {
  it('maxOperations', () => {
    const ops = Array.from({ length: 1001 }, (_, i) => ({ method: 'DELETE', path: `/Users/${i}` }));
    expect(parse(bulk(ops.slice(0, 1000))).operations).toHaveLength(1000);
    const e = scimErrorOf(() => parse(bulk(ops)));
    expect(e.status).toBe(413);
    expect(e.message).toContain('maxOperations (1000)');
    expect(
      scimErrorOf(() =>
        parse(bulk(ops.slice(0, 3)), 'compatible', { limits: { maxOperations: 2, maxPayloadSize: 100 } }),
      ).status,
    ).toBe(413);
  });
  it('maxPayloadSize (4 MiB by default), checked before parsing and by parseBulkRequest', () => {
    expect(() => checkBulkPayloadSize(4 * 1024 * 1024)).not.toThrow();
    const e = scimErrorOf(() => checkBulkPayloadSize(4 * 1024 * 1024 + 1));
    expect(e.status).toBe(413);
    expect(e.message).toContain('maxPayloadSize (4194304)');
    expect(scimErrorOf(() => parse(bulk([postUser('a')]), 'compatible', { payloadBytes: 5e6 })).status).toBe(413);
    expect(e.toBody()).toEqual({ schemas: [SCIM_URN.error], status: '413', detail: e.message });
  });
});

describe('planning and bulkId resolution', () => {
  it('runs the RFC example, resolving the member reference', async () => {
    const { body, seen } = await execute(parse(fixture.requests['bulkIdReference']), created);
    expect(seen[1]?.data).toEqual({
      schemas: [SCIM_URN.group],
      displayName: 'Tour Guides',
      members: [{ type: 'User', value: 'id-1' }],
    });
    expect(body).toEqual({
      schemas: [SCIM_URN.bulkResponse],
      Operations: [
        { method: 'POST', bulkId: 'qwerty', version: 'W/"1"', location: 'https://x/scim/v2/Users/id-1', status: '201' },
        {
          method: 'POST',
          bulkId: 'ytrewq',
          version: 'W/"2"',
          location: 'https://x/scim/v2/Groups/id-2',
          status: '201',
        },
      ],
    });
  });
  it('orders forward references after their definition, keeping request order otherwise', () => {
    const req = parse(
      bulk([
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'G', members: [{ value: 'bulkId:u2' }] } },
        { method: 'DELETE', path: '/Users/x' },
        postUser('u1'),
        postUser('u2', { [SCIM_URN.enterpriseUser]: { manager: { value: 'bulkId:u1' } } }),
      ]),
    );
    expect(planBulk(req).order.map((o) => o.index)).toEqual([1, 2, 3, 0]);
  });
  it('holds later writes to the same resource back with the one that waits for a POST (RFC 7644 §3.7: same result)', () => {
    const patchGroup = (value: string, op = 'add') => ({
      method: 'PATCH',
      path: '/Groups/g1',
      data: { schemas: [SCIM_URN.patchOp], Operations: [{ op, path: 'members', value: [{ value }] }] },
    });
    const group = parse(bulk([patchGroup('bulkId:u', 'replace'), patchGroup('x'), postUser('u')]));
    expect(planBulk(group).order.map((o) => o.index)).toEqual([2, 0, 1]);
    const nickName = parse(
      bulk([
        {
          method: 'PUT',
          path: '/Users/e',
          data: { userName: 'e', [SCIM_URN.enterpriseUser]: { manager: 'bulkId:u' } },
        },
        {
          method: 'PATCH',
          path: '/Users/e',
          data: { schemas: [SCIM_URN.patchOp], Operations: [{ op: 'replace', path: 'nickName', value: 'after' }] },
        },
        postUser('u'),
      ]),
    );
    expect(planBulk(nickName).order.map((o) => o.index)).toEqual([2, 0, 1]);
    // A POST never runs ahead of what was written before it: here a DELETE that frees its userName.
    const recreate = parse(
      bulk([
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'G', members: [{ value: 'bulkId:u' }] } },
        { method: 'DELETE', path: '/Users/alice' },
        postUser('u', { userName: 'alice' }),
      ]),
    );
    expect(planBulk(recreate).order.map((o) => o.index)).toEqual([1, 2, 0]);
  });
  it('resolves references nested anywhere, in paths, and inside PATCH filters', async () => {
    const req = parse(
      bulk([
        postUser('boss'),
        postUser('u', {
          [SCIM_URN.enterpriseUser]: { manager: { value: 'bulkId:boss' } },
          emails: [{ value: 'x@y', display: 'bulkId:boss' }],
        }),
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'G' } },
        {
          method: 'PATCH',
          path: '/Groups/bulkId:g',
          data: {
            schemas: [SCIM_URN.patchOp],
            Operations: [
              { op: 'add', path: 'members', value: [{ value: 'bulkId:u' }, { value: 'bulkId:boss' }] },
              { op: 'remove', path: 'members[value eq "bulkId:boss"]' },
            ],
          },
        },
        { method: 'GET', path: '/Users/bulkId:u' },
      ]),
    );
    expect([...(req.operations[3]?.references ?? [])].sort()).toEqual(['boss', 'g', 'u']);
    const { seen, body } = await execute(req, (step, n) =>
      step.method === 'GET' ? { status: 200, response: { id: step.id } } : created(step, n),
    );
    expect(seen[1]?.data).toMatchObject({
      [SCIM_URN.enterpriseUser]: { manager: { value: 'id-1' } },
      emails: [{ display: 'id-1' }],
    });
    expect(seen[3]).toMatchObject({ method: 'PATCH', id: 'id-3' });
    expect(seen[3]?.data).toEqual({
      schemas: [SCIM_URN.patchOp],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: 'id-2' }, { value: 'id-1' }] },
        { op: 'remove', path: 'members[value eq "id-1"]' },
      ],
    });
    expect(body.Operations[4]).toEqual({
      method: 'GET',
      location: `${BASE}/Users/id-2`,
      status: '200',
      response: { id: 'id-2' },
    });
  });
  it('resolves the RFC 7644 §3.7.1 circle: both groups created, then the first linked to the second', async () => {
    const req = parse(
      bulk([
        ...(fixture.requests['circular'] as { Operations: unknown[] }).Operations,
        { method: 'DELETE', path: '/Users/z' },
      ]),
    );
    expect(planBulk(req).refused.size).toBe(0);
    const { body, seen } = await execute(req, created);
    expect(seen.map((s) => [s.role, s.method, s.id])).toEqual([
      ['operation', 'POST', undefined],
      ['operation', 'POST', undefined],
      ['link', 'PATCH', 'id-1'],
      ['operation', 'DELETE', 'z'],
    ]);
    expect(seen[0]?.data).toEqual({ schemas: [SCIM_URN.group], displayName: 'Group A', members: [] });
    expect(seen[1]?.data).toEqual({
      schemas: [SCIM_URN.group],
      displayName: 'Group B',
      members: [{ type: 'Group', value: 'id-1' }],
    });
    expect(seen[2]).toMatchObject({
      data: {
        schemas: [SCIM_URN.patchOp],
        Operations: [{ op: 'add', path: 'members', value: [{ type: 'Group', value: 'id-2' }] }],
      },
    });
    // Not held to the POST's version: another client's write to the new group must not undo the circle.
    expect(seen[2]).not.toHaveProperty('version');
    expect(body.Operations).toEqual([
      // The first group's version is the one its link made.
      { method: 'POST', bulkId: 'qwerty', status: '201', version: 'W/"3"', location: 'https://x/scim/v2/Groups/id-1' },
      { method: 'POST', bulkId: 'ytrewq', status: '201', version: 'W/"2"', location: 'https://x/scim/v2/Groups/id-2' },
      { method: 'DELETE', status: '204', location: `${BASE}/Users/z` },
    ]);
  });
  it("untangles users that are each other's manager, and runs what waits on the circle after it", async () => {
    const manager = (ref: string) => ({ [SCIM_URN.enterpriseUser]: { department: 'R&D', manager: { value: ref } } });
    const req = parse(
      bulk([
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'G', members: [{ value: 'bulkId:a' }] } },
        postUser('a', manager('bulkId:b')),
        postUser('b', manager('bulkId:a')),
      ]),
    );
    expect(planBulk(req).order.map((o) => o.index)).toEqual([1, 2, 0]);
    const { body, seen } = await execute(req, created);
    expect(seen.map((s) => [s.role, s.method, s.operation.bulkId])).toEqual([
      ['operation', 'POST', 'a'],
      ['operation', 'POST', 'b'],
      ['link', 'PATCH', 'a'],
      ['operation', 'POST', 'g'],
    ]);
    expect(seen[0]?.data).toEqual({ userName: 'a', [SCIM_URN.enterpriseUser]: { department: 'R&D' } });
    expect(seen[1]?.data).toEqual({ userName: 'b', ...manager('id-1') });
    expect(seen[2]?.data).toEqual({
      schemas: [SCIM_URN.patchOp],
      Operations: [{ op: 'add', path: `${SCIM_URN.enterpriseUser}:manager`, value: { value: 'id-2' } }],
    });
    expect(seen[3]?.data).toEqual({ displayName: 'G', members: [{ value: 'id-1' }] });
    expect(body.Operations.map((o) => [o.bulkId, o.status])).toEqual([
      ['g', '201'],
      ['a', '201'],
      ['b', '201'],
    ]);
  });
  it('untangles a circle whose references come in the lenient forms: a bare manager id, a lone member object', async () => {
    const req = parse(
      bulk([
        postUser('a', { [SCIM_URN.enterpriseUser]: { manager: 'bulkId:b' } }),
        postUser('b', { [SCIM_URN.enterpriseUser]: { manager: [{ value: 'bulkId:a' }] } }),
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'G', members: { value: 'bulkId:h' } } },
        { method: 'POST', path: '/Groups', bulkId: 'h', data: { displayName: 'H', members: { value: 'bulkId:g' } } },
      ]),
    );
    expect(planBulk(req).refused.size).toBe(0);
    const { body, seen } = await execute(req, created);
    expect(seen.map((s) => [s.role, s.method, s.operation.bulkId])).toEqual([
      ['operation', 'POST', 'a'],
      ['operation', 'POST', 'b'],
      ['link', 'PATCH', 'a'],
      ['operation', 'POST', 'g'],
      ['operation', 'POST', 'h'],
      ['link', 'PATCH', 'g'],
    ]);
    expect(seen[0]?.data).toEqual({ userName: 'a', [SCIM_URN.enterpriseUser]: {} });
    // The link carries the manager in the form it came in, read by the same compatibility flags.
    expect(seen[2]?.data).toEqual({
      schemas: [SCIM_URN.patchOp],
      Operations: [{ op: 'add', path: `${SCIM_URN.enterpriseUser}:manager`, value: 'id-2' }],
    });
    expect(seen[3]?.data).toEqual({ displayName: 'G', members: [] });
    expect(seen[4]?.data).toEqual({ displayName: 'H', members: { value: 'id-4' } });
    expect(seen[5]?.data).toEqual({
      schemas: [SCIM_URN.patchOp],
      Operations: [{ op: 'add', path: 'members', value: { value: 'id-5' } }],
    });
    expect(body.Operations.map((o) => o.status)).toEqual(['201', '201', '201', '201']);
  });
  it('fails every member of a circle whose writes were not saved, and what waits on it', async () => {
    const req = parse(
      bulk([
        ...(fixture.requests['circular'] as { Operations: unknown[] }).Operations,
        { method: 'PATCH', path: '/Groups/bulkId:qwerty', data: { schemas: [SCIM_URN.patchOp], Operations: [] } },
      ]),
    );
    const run = startBulk(planBulk(req), { baseUrl: BASE });
    const steps = run.steps();
    const circle = run.plan.circles.get(0)!;
    let n = 0;
    let next = steps.next();
    // The circle's steps, as its transaction runs them; then its transaction fails as it is saved.
    while (!next.done && run.plan.circles.get(next.value.operation.index) === circle) {
      run.succeed(next.value, created(next.value, ++n));
      next = steps.next();
    }
    run.failCircle(circle, new ScimError(503, 'The change could not be saved.'));
    expect(next.done).toBe(false);
    run.fail(next.value as BulkStep, ScimError.notFound('Group id-1 not found.'));
    expect(steps.next().done).toBe(true);
    expect(run.response().Operations.map((op) => op.status)).toEqual(['503', '503', '404']);
    expect(run.failures()).toHaveLength(3);
  });

  it('takes back what a circle created when one of its POSTs fails; what waits on it fails too', async () => {
    const req = parse(
      bulk([
        { method: 'POST', path: '/Groups', bulkId: 'a', data: { displayName: 'A', members: [{ value: 'bulkId:b' }] } },
        { method: 'POST', path: '/Groups', bulkId: 'b', data: { displayName: 'B', members: [{ value: 'bulkId:a' }] } },
        { method: 'PATCH', path: '/Groups/bulkId:a', data: { schemas: [SCIM_URN.patchOp], Operations: [] } },
        postUser('after'),
      ]),
    );
    const { body, seen } = await execute(req, (step, n) => {
      if (step.operation.bulkId === 'b') throw ScimError.conflict('displayName "B" is taken');
      return created(step, n);
    });
    expect(seen.map((s) => [s.role, s.method, s.id])).toEqual([
      ['operation', 'POST', undefined],
      ['operation', 'POST', undefined],
      ['undo', 'DELETE', 'id-1'],
      ['operation', 'POST', undefined],
    ]);
    expect(body.Operations.map((o) => o.status)).toEqual(['409', '409', '409', '201']);
    const details = body.Operations.map((o) => (o.response as { detail?: string } | undefined)?.detail);
    expect(details[0]).toBe(
      'Operation 1 is part of a circular bulkId reference with operation 2, which failed; nothing the circle created was kept.',
    );
    expect(body.Operations[1]?.response).toMatchObject({ scimType: 'uniqueness', detail: 'displayName "B" is taken' });
    expect(details[2]).toMatch(/bulkId "a", which could not be resolved: operation 1 that defines it failed/);
    expect(body.Operations[0]).not.toHaveProperty('location');
  });
  it('fails an operation whose value is a bare "bulkId:" instead of storing it as a reference', async () => {
    const manager = { [SCIM_URN.enterpriseUser]: { manager: { value: 'bulkId:' } } };
    const req = parse(
      bulk([
        postUser('u', manager),
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'G', members: [{ value: 'bulkId:' }] } },
        postUser('fine', { nickName: 'says bulkId: in passing' }),
      ]),
    );
    const { body, seen } = await execute(req, created);
    expect(body.Operations.map((o) => o.status)).toEqual(['409', '409', '201']);
    expect(body.Operations[0]?.response).toMatchObject({
      detail: 'Operation 1 refers to "bulkId:" with no bulkId after it.',
    });
    expect(seen).toHaveLength(1);
  });
  it('takes back the whole circle when a link fails, and names a resource it could not remove', async () => {
    const req = parse(bulk((fixture.requests['circular'] as { Operations: unknown[] }).Operations));
    const { body, seen } = await execute(req, (step, n) => {
      if (step.role === 'link') throw ScimError.badRequest('invalidValue', 'The group is full.');
      if (step.role === 'undo' && step.id === 'id-2') throw ScimError.notFound('Group id-2 was deleted meanwhile.');
      return created(step, n);
    });
    expect(seen.map((s) => [s.role, s.id])).toEqual([
      ['operation', undefined],
      ['operation', undefined],
      ['link', 'id-1'],
      ['undo', 'id-2'],
      ['undo', 'id-1'],
    ]);
    expect(body.Operations[0]?.response).toMatchObject({
      status: '400',
      scimType: 'invalidValue',
      detail:
        'Operation 1 was created, but adding the references it waited for in its circular bulkId reference ' +
        'failed: The group is full. It was removed again, with the rest of the circle.',
    });
    expect(body.Operations[1]?.response).toMatchObject({
      status: '409',
      detail:
        'Operation 2 is part of a circular bulkId reference with operation 1, which failed; nothing the circle ' +
        'created was kept. Its resource https://x/scim/v2/Groups/id-2 could not be removed: Group id-2 was deleted meanwhile.',
    });
  });
  it('runs nothing of a circle one of whose members is refused', async () => {
    const req = parse(
      bulk([
        { method: 'POST', path: '/Groups', bulkId: 'a', data: { displayName: 'A', members: [{ value: 'bulkId:b' }] } },
        {
          method: 'POST',
          path: '/Groups',
          bulkId: 'b',
          data: { displayName: 'B', members: [{ value: 'bulkId:a' }, { value: 'bulkId:nope' }] },
        },
      ]),
    );
    const { body, seen } = await execute(req, created);
    expect(seen).toEqual([]);
    expect((body.Operations[1]?.response as { detail: string }).detail).toMatch(/"nope", which no POST/);
    expect((body.Operations[0]?.response as { detail: string }).detail).toMatch(/with operation 2, which failed/);
  });
  it('keeps a circle going when failOnErrors is reached inside it, so it is still taken back', async () => {
    const req = parse(
      bulk([...(fixture.requests['circular'] as { Operations: unknown[] }).Operations, postUser('x')], {
        failOnErrors: 1,
      }),
    );
    const { body, seen } = await execute(req, (step, n) => {
      if (step.role === 'link') throw ScimError.badRequest('invalidValue', 'no');
      return created(step, n);
    });
    expect(seen.map((s) => s.role)).toEqual(['operation', 'operation', 'link', 'undo', 'undo']);
    expect(body.Operations.map((o) => o.status)).toEqual(['400', '409']);
  });
  it('refuses a circle it cannot untangle, each refusal naming only what its operation waits on', () => {
    const long = 'x'.repeat(1800);
    // A bulkId in externalId or a member's display cannot be added by a later PATCH of members.
    const cycle = Array.from({ length: 1000 }, (_, i) => ({
      method: 'POST',
      path: '/Groups',
      bulkId: `${long}${i}`,
      data: { displayName: `cy${i}`, externalId: `bulkId:${long}${(i + 1) % 1000}` },
    }));
    const plan = planBulk(
      parse(
        bulk([
          ...cycle,
          postUser('a', { displayName: 'bulkId:b' }),
          postUser('b', { displayName: 'bulkId:a' }),
          {
            method: 'POST',
            path: '/Groups',
            bulkId: 'c',
            data: { displayName: 'C', members: [{ value: 'bulkId:d' }] },
          },
          {
            method: 'POST',
            path: '/Groups',
            bulkId: 'd',
            data: { displayName: 'D', members: [{ value: 'x', display: 'bulkId:c' }, { value: 'bulkId:c' }] },
          },
        ]),
        'compatible',
        { limits: { maxOperations: 1004, maxPayloadSize: 8 * 1024 * 1024 } },
      ),
    );
    expect(plan.refused.size).toBe(1002);
    expect(plan.circles.size).toBe(2);
    for (const error of plan.refused.values()) {
      expect(error.status).toBe(409);
      expect(error.message.length).toBeLessThan(400);
    }
    expect(plan.refused.get(0)?.message).toMatch(
      /^Operation 1 refers to itself or to a later POST of its circular bulkId reference other than through a Group's members/,
    );
    expect(plan.refused.get(1)?.message).toMatch(
      /^Operation 2 waits on bulkId "x{64}…", part of a circular bulkId reference that cannot be run: operation 1 is refused\.$/,
    );
    // Two circles are not mixed up: each operation names its own.
    expect(plan.refused.get(1000)?.message).toMatch(/^Operation 1001 refers to itself or to a later POST/);
    expect(plan.refused.get(1001)?.message).toMatch(/waits on bulkId "a",.*operation 1001 is refused/);
    // Only d's forward reference in c's circle is c itself, from d backwards: c defers d; d's display is backward.
    expect(plan.circles.get(1002)?.deferrals.has(1002)).toBe(true);
  });
  it('a self-reference is a circle of one; an undefined bulkId is refused', () => {
    const plan = planBulk(
      parse(
        bulk([
          postUser('me', { displayName: 'bulkId:me' }),
          { method: 'DELETE', path: '/Users/bulkId:nope' },
          {
            method: 'POST',
            path: '/Groups',
            bulkId: 'g',
            data: { displayName: 'G', members: [{ value: 'bulkId:g' }] },
          },
        ]),
      ),
    );
    expect(plan.refused.get(0)?.message).toMatch(/circle cannot be untangled/);
    expect(plan.refused.get(1)?.message).toMatch(/"nope", which no POST/);
    // A group naming itself as a member could never be linked: refused before anything is written.
    expect(plan.refused.get(2)).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(plan.refused.get(2)?.message).toBe('Operation 3: a group cannot be a member of itself.');
    expect(plan.circles.size).toBe(0);
  });
  it('runs a circle where its last member sits, after what the request puts between its members', () => {
    const plan = planBulk(
      parse(
        bulk([
          {
            method: 'POST',
            path: '/Groups',
            bulkId: 'g1',
            data: { displayName: '1', members: [{ value: 'bulkId:g2' }] },
          },
          { method: 'DELETE', path: '/Users/x' },
          {
            method: 'POST',
            path: '/Groups',
            bulkId: 'g2',
            data: { displayName: '2', members: [{ value: 'bulkId:g1' }, { value: 'x' }] },
          },
          { method: 'PATCH', path: '/Groups/bulkId:g1', data: { schemas: [SCIM_URN.patchOp], Operations: [] } },
        ]),
      ),
    );
    expect(plan.order.map((o) => o.index)).toEqual([1, 0, 2, 3]);
  });
  it('an operation whose referent failed is reported, not run', async () => {
    const req = parse(
      bulk([
        postUser('a'),
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'G', members: [{ value: 'bulkId:a' }] } },
      ]),
    );
    const { body, seen } = await execute(req, (step, n) => {
      if (step.operation.bulkId === 'a') throw ScimError.conflict('userName "a" is taken');
      return created(step, n);
    });
    expect(seen).toHaveLength(1);
    expect(body.Operations.map((o) => o.status)).toEqual(['409', '409']);
    expect(body.Operations[0]?.response).toMatchObject({ scimType: 'uniqueness' });
    expect((body.Operations[1]?.response as { detail: string }).detail).toMatch(/operation 1 that defines it failed/);
  });
});

describe('failOnErrors (RFC 7644 §3.7.3)', () => {
  it('reads null as no limit where nulls are absent values, and refuses it naming the flag in strict', () => {
    expect(parse(bulk([postUser('a')], { failOnErrors: null }))).not.toHaveProperty('failOnErrors');
    expectRefusedBy(() => parse(bulk([postUser('a')], { failOnErrors: null }), 'strict'), 'nullAsAbsent');
  });
  const ops = [
    { method: 'DELETE', path: '/Users/a' },
    { method: 'DELETE', path: '/Users/missing1' },
    { method: 'DELETE', path: '/Users/b' },
    { method: 'DELETE', path: '/Users/missing2' },
    { method: 'DELETE', path: '/Users/c' },
  ];
  const service = (step: BulkStep) => {
    if (step.id?.startsWith('missing')) throw ScimError.notFound(`No user ${step.id}.`);
    return { status: 204 };
  };
  it.each([
    [undefined, ['204', '404', '204', '404', '204']],
    [1, ['204', '404']],
    [2, ['204', '404', '204', '404']],
    [3, ['204', '404', '204', '404', '204']],
  ])('failOnErrors %s', async (failOnErrors, statuses) => {
    const { body } = await execute(parse(bulk(ops, failOnErrors === undefined ? {} : { failOnErrors })), service);
    expect(body.Operations.map((o) => o.status)).toEqual(statuses);
  });
  it('every result but a POST failure has a location (RFC 7644 §3.7.3), failures and DELETEs included', async () => {
    const { body } = await execute(
      parse(
        bulk([
          postUser('u'),
          { method: 'PUT', path: '/Users/bulkId:u', version: 'W/"9"', data: { userName: 'u' } },
          { method: 'DELETE', path: '/Users/bulkId:u' },
          { method: 'DELETE', path: '/Users/a b' },
          { method: 'PATCH', path: '/Groups/bulkId:nope', data: { Operations: [] } },
          postUser('taken'),
        ]),
      ),
      (step, n) => {
        if (step.method === 'PUT') throw new ScimError(412, 'stale');
        if (step.operation.bulkId === 'taken') throw ScimError.conflict('taken');
        if (step.id === 'a b') throw ScimError.notFound('No user "a b".');
        return step.method === 'POST'
          ? { status: 201, id: `id-${n}`, location: `${BASE}/Users/id-${n}` }
          : { status: 204 };
      },
    );
    expect(body.Operations.map((o) => [o.method, o.status, o.location])).toEqual([
      ['POST', '201', `${BASE}/Users/id-1`],
      ['PUT', '412', `${BASE}/Users/id-1`],
      ['DELETE', '204', `${BASE}/Users/id-1`],
      ['DELETE', '404', `${BASE}/Users/a%20b`],
      // No resource has a location for a bulkId no POST defined, nor for a failed POST.
      ['PATCH', '409', undefined],
      ['POST', '409', undefined],
    ]);
  });
  it('refused operations count as errors; unexpected errors become 500 without detail', async () => {
    const req = parse(
      bulk(
        [
          { method: 'DELETE', path: '/Users/bulkId:nope' },
          { method: 'DELETE', path: '/Users/a' },
        ],
        { failOnErrors: 1 },
      ),
    );
    expect((await execute(req, service)).body.Operations).toHaveLength(1);
    const boom = await execute(parse(bulk([{ method: 'DELETE', path: '/Users/a' }])), () => {
      throw new TypeError('secret internals');
    });
    expect(boom.body.Operations[0]).toEqual({
      method: 'DELETE',
      location: `${BASE}/Users/a`,
      status: '500',
      response: { schemas: [SCIM_URN.error], status: '500', detail: 'Internal server error.' },
    });
  });
  it('the loop must settle each step', () => {
    const run = startBulk(
      planBulk(
        parse(
          bulk([
            { method: 'DELETE', path: '/Users/a' },
            { method: 'DELETE', path: '/Users/b' },
          ]),
        ),
      ),
      { baseUrl: BASE },
    );
    const it = run.steps();
    it.next();
    expect(() => it.next()).toThrow(/neither/);
  });
});

describe('resolveBulkIds', () => {
  it('replaces whole-string and quoted references, leaves the rest and the input alone', () => {
    const ids = new Map([['a', 'id-a']]);
    const input = JSON.parse(
      '{"x":["bulkId:a","bulkId:b","xbulkId:a"],"Operations":[{"path":"m[value eq \\"bulkId:a\\"]"}],"__proto__":{"v":"bulkId:a"}}',
    ) as Record<string, unknown>;
    const out = resolveBulkIds(input, ids, 'patchRequest') as Record<string, unknown>;
    expect(out['x']).toEqual(['id-a', 'bulkId:b', 'xbulkId:a']);
    expect(out['Operations']).toEqual([{ path: 'm[value eq "id-a"]' }]);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ v: 'id-a' });
    expect(input['x']).toEqual(['bulkId:a', 'bulkId:b', 'xbulkId:a']);
  });
  it('reads a quoted reference with escapes as the filter does: a bulkId with a quote resolves', () => {
    const req = parse(
      bulk([
        postUser('q"\\x'),
        {
          method: 'PATCH',
          path: '/Groups/g1',
          data: { Operations: [{ op: 'remove', path: 'members[value eq "bulkId:q\\"\\\\x"]' }] },
        },
      ]),
    );
    expect(req.operations[1]?.references).toEqual(['q"\\x']);
    const out = resolveBulkIds(req.operations[1]?.data, new Map([['q"\\x', 'id-q']]), 'patchRequest');
    expect(out).toMatchObject({ Operations: [{ path: 'members[value eq "id-q"]' }] });
  });
  it('finds references in whole literals only: an escaped quote inside another literal starts none', () => {
    const path = 'members[display eq "say \\"bulkId:x\\" hi" or value eq "bulkId:u"]';
    const req = parse(
      bulk([postUser('u'), { method: 'PATCH', path: '/Groups/g1', data: { Operations: [{ op: 'remove', path }] } }]),
    );
    expect(req.operations[1]?.references).toEqual(['u']);
    expect(
      resolveBulkIds(
        path,
        new Map([
          ['u', 'id-u'],
          ['x', 'id-x'],
        ]),
        'patchPath',
      ),
    ).toBe('members[display eq "say \\"bulkId:x\\" hi" or value eq "id-u"]');
  });

  it('leaves a user\'s own text quoting "bulkId:x" alone: quoted references count in a PATCH path only', async () => {
    const nickName = 'say "bulkId:x" now';
    const req = parse(
      bulk([
        postUser('x'),
        postUser('y', { nickName }),
        postUser('z', { nickName: 'he said "bulkId:nobody"' }),
        {
          method: 'PATCH',
          path: '/Users/u1',
          data: { Operations: [{ op: 'replace', path: 'nickName', value: 'quoting "bulkId:x"' }] },
        },
      ]),
    );
    expect(req.operations.map((op) => op.references)).toEqual([[], [], [], []]);
    const { seen, body } = await execute(req, created);
    expect(seen[1]?.data).toMatchObject({ nickName });
    expect(seen[3]?.data).toMatchObject({ Operations: [{ value: 'quoting "bulkId:x"' }] });
    expect(body.Operations.map((op) => op.status)).toEqual(['201', '201', '201', '200']);
  });

  it('ignores the data of a DELETE or GET, references included', async () => {
    const req = parse(
      bulk([
        { method: 'DELETE', path: '/Users/u1', data: { note: 'bulkId:nothing' } },
        { method: 'GET', path: '/Users/u2', data: 'bulkId:zzz' },
      ]),
    );
    expect(req.operations.map((op) => op.references)).toEqual([[], []]);
    const { body } = await execute(req, (step, n) =>
      step.method === 'GET' ? { status: 200, response: { id: step.id } } : created(step, n),
    );
    expect(body.Operations.map((op) => op.status)).toEqual(['204', '200']);
  });

  it('refuses a path naming an empty bulkId, and reads an empty version as none', () => {
    expect(scimErrorOf(() => parse(bulk([{ method: 'DELETE', path: '/Users/bulkId:' }])))).toMatchObject({
      status: 400,
      scimType: 'invalidValue',
    });
    const req = parse(bulk([{ method: 'DELETE', path: '/Users/u1', version: '' }]));
    expect(req.operations[0]?.version).toBeUndefined();
  });
});
