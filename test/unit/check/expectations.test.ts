import { describe, expect, it } from 'vitest';
import { evaluate, isPresent, matchSubset, valueAt } from '../../../src-main/check/expectations';
import { buildPath, fillJson, MissingVariable } from '../../../src-main/check/templates';
import type { Exchange } from '../../../src-main/check/types';

const exchange = (status: number, body?: unknown, headers: Record<string, string> = {}): Exchange => ({
  request: { method: 'GET', url: 'http://x/scim/v2/Users', headers: {} },
  response: { status, headers, ...(body === undefined ? {} : { body }) },
  durationMs: 1,
});

describe('matchSubset', () => {
  it('matches objects by subset, attribute names without case (RFC 7643 §2.1)', () => {
    expect(
      matchSubset({ userName: 'a', name: { givenName: 'b' } }, { USERNAME: 'a', name: { givenName: 'b', x: 1 } }, ''),
    ).toEqual([]);
  });

  it('matches multi-valued attributes in any order', () => {
    expect(matchSubset({ members: [{ value: '2' }] }, { members: [{ value: '1' }, { value: '2' }] }, '')).toEqual([]);
  });

  it('names what differs', () => {
    expect(matchSubset({ active: false, name: { familyName: 'x' } }, { active: 'False', name: {} }, '')).toEqual([
      'active: expected false, got "False"',
      'name.familyName is missing (expected "x")',
    ]);
    expect(matchSubset({ members: [{ value: '9' }] }, { members: [{ value: '1' }] }, '')[0]).toMatch(
      /^members: no element matches \{"value":"9"\}/,
    );
  });
});

describe('valueAt and isPresent', () => {
  it('reads dotted paths, array indexes and extension URNs that contain dots', () => {
    const urn = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const body = { Resources: [{ id: 'u1' }], [urn]: { manager: { value: 'm' } } };
    expect(valueAt(body, 'Resources.0.id')).toBe('u1');
    expect(valueAt(body, `${urn}.manager.value`)).toBe('m');
    expect(valueAt(body, 'missing.path')).toBeUndefined();
  });

  it('treats null and [] as unassigned (RFC 7643 §2.5)', () => {
    expect([undefined, null, []].map(isPresent)).toEqual([false, false, false]);
    expect([0, '', [1]].map(isPresent)).toEqual([true, true, true]);
  });
});

describe('evaluate', () => {
  it('reports a wrong status alone, with the server detail', () => {
    const findings = evaluate({ status: 201, body: 'resource' }, 'required', exchange(409, { detail: 'taken' }), {});
    expect(findings).toEqual([{ level: 'required', message: 'status 409, expected 201 (detail: taken)' }]);
  });

  it('marks a server detail cut at 200 characters with an ellipsis, and leaves one of 200 whole', () => {
    const long = 'x'.repeat(199) + 'yz';
    const [cut] = evaluate({ status: 201 }, 'required', exchange(400, { detail: long }), {});
    expect(cut!.message).toBe(`status 400, expected 201 (detail: ${'x'.repeat(199)}y…)`);
    const exact = 'x'.repeat(200);
    const [whole] = evaluate({ status: 201 }, 'required', exchange(400, { detail: exact }), {});
    expect(whole!.message).toBe(`status 400, expected 201 (detail: ${exact})`);
  });

  it('does not cut an emoji in half where the detail is cut', () => {
    const long = `${'x'.repeat(199)}😀 and more`;
    const [cut] = evaluate({ status: 201 }, 'required', exchange(400, { detail: long }), {});
    expect(cut!.message).toBe(`status 400, expected 201 (detail: ${'x'.repeat(199)}…)`);
  });

  it('checks shape, headers, absent attributes and custom checks at the given level', () => {
    const findings = evaluate(
      {
        status: 200,
        body: 'list',
        headers: ['location'],
        absent: ['password'],
        checks: [{ level: 'recommended', describe: 'custom', test: () => 'nope' }],
      },
      'required',
      exchange(200, { Resources: [], password: 'x' }),
      {},
    );
    expect(findings.map((f) => [f.level, f.message.split(':')[0]])).toEqual([
      ['required', 'the location header is missing'],
      ['required', 'the body is not a SCIM list'],
      ['required', 'password is returned but should not be'],
      ['recommended', 'custom'],
    ]);
  });

  it('turns a request that got no answer into a finding', () => {
    const failed: Exchange = { request: exchange(0).request, error: 'ECONNREFUSED', durationMs: 1 };
    expect(evaluate({ status: 200 }, 'required', failed, {})).toEqual([
      { level: 'required', message: 'no response: ECONNREFUSED' },
    ]);
  });

  it('fills templates in the expected body', () => {
    expect(
      evaluate({ status: 200, match: { id: '{{userId}}' } }, 'required', exchange(200, { id: 'u1' }), { userId: 'u1' }),
    ).toEqual([]);
  });
});

describe('templates', () => {
  it('encodes path variables and query values with %20', () => {
    expect(
      buildPath('/Users/{{id}}', { filter: 'userName eq "{{name}}"', count: '1' }, { id: 'a/b', name: 'x y+z' }),
    ).toBe('/Users/a%2Fb?filter=userName%20eq%20%22x%20y%2Bz%22&count=1');
  });

  it('refuses a variable no step captured', () => {
    expect(() => fillJson({ value: '{{missing}}' }, {})).toThrow(MissingVariable);
  });
});
