import { describe, expect, it } from 'vitest';
import { ScimError } from '../../../src-main/scim/errors';

describe('ScimError', () => {
  it('renders an RFC 7644 §3.12 body with the status as a string', () => {
    expect(ScimError.badRequest('invalidFilter', 'bad filter at 3').toBody()).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '400',
      scimType: 'invalidFilter',
      detail: 'bad filter at 3',
    });
    expect(ScimError.notFound('gone').toBody()).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '404',
      detail: 'gone',
    });
  });

  it('pairs uniqueness with 409 only', () => {
    expect(ScimError.conflict('taken').status).toBe(409);
    expect(() => new ScimError(404, 'x', 'uniqueness')).toThrow(/requires status 409/);
    expect(() => new ScimError(400, 'x', 'sensitive')).toThrow(/requires status 403/);
  });

  it('refuses statuses that are not error statuses', () => {
    expect(() => new ScimError(200 as never, 'ok')).toThrow(/not an RFC 7644 error status/);
  });
});
