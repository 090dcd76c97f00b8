import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partsText } from '../../../src-main/http/scim/streamed-page';
import type { ProjectedResource } from '../../../src-main/scim/projection';

const text = (resource: ProjectedResource, slices?: unknown[][]) =>
  [...partsText({ resource, ...(slices ? { members: slices } : {}) }, {}, () => undefined)].join('');

describe('a resource sent in parts', () => {
  it('is the text JSON.stringify gives the whole resource, members before meta', () => {
    const member = fc.record({ value: fc.string(), display: fc.option(fc.string(), { nil: undefined }) });
    fc.assert(
      fc.property(
        fc.record(
          {
            schemas: fc.constant(['urn:ietf:params:scim:schemas:core:2.0:Group']),
            id: fc.uuid(),
            displayName: fc.string(),
            meta: fc.record({ resourceType: fc.constant('Group'), version: fc.string() }),
          },
          { requiredKeys: [] },
        ),
        fc.array(fc.array(member, { minLength: 1, maxLength: 4 }), { maxLength: 4 }),
        (resource, slices) => {
          const { meta, ...rest } = resource;
          const members = slices.flat();
          // As the projection builds it: members among the attributes, meta last, an empty list left out.
          const whole = { ...rest, ...(members.length > 0 ? { members } : {}), ...(meta ? { meta } : {}) };
          expect(text(resource as ProjectedResource, slices)).toBe(JSON.stringify(whole));
        },
      ),
    );
  });

  it('leaves members out when every one went while it was sent, as a group without members reads', () => {
    const resource = { schemas: ['s'], id: 'g', displayName: 'Gone', meta: { version: 'W/"2"' } };
    expect(text(resource, [])).toBe(JSON.stringify(resource));
    expect(text(resource)).toBe(JSON.stringify(resource));
  });
});
