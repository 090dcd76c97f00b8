import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compatFlags } from '@shared/scim/compat-flags';
import { SCIM_URN } from '@shared/scim/urns';
import { parseBulkRequest, planBulk } from '../../../src-main/scim/bulk';
import { CompatContext } from '../../../src-main/scim/compat';
import { registry } from './helpers';

/**
 * Random jobs of user POSTs (some naming another's bulkId as manager, forward or back, circles
 * included) and group PATCHes adding members by bulkId or by id, some naming no POST at all.
 */
const jobs = fc.integer({ min: 1, max: 10 }).chain((n) =>
  fc.array(
    fc.oneof(
      fc.record({
        kind: fc.constant('post' as const),
        manager: fc.option(fc.integer({ min: 0, max: n }), { nil: undefined }),
      }),
      fc.record({
        kind: fc.constant('patch' as const),
        group: fc.integer({ min: 0, max: 2 }),
        member: fc.option(fc.integer({ min: 0, max: n }), { nil: undefined }),
      }),
    ),
    { minLength: n, maxLength: n },
  ),
);

type Job = typeof jobs extends fc.Arbitrary<infer T> ? T : never;

function bodyOf(job: Job): unknown {
  return {
    schemas: [SCIM_URN.bulkRequest],
    Operations: job.map((op, i) =>
      op.kind === 'post'
        ? {
            method: 'POST',
            path: '/Users',
            bulkId: `b${i}`,
            data: {
              userName: `u${i}`,
              ...(op.manager === undefined
                ? {}
                : { [SCIM_URN.enterpriseUser]: { manager: { value: `bulkId:b${op.manager}` } } }),
            },
          }
        : {
            method: 'PATCH',
            path: `/Groups/g${op.group}`,
            data: {
              schemas: [SCIM_URN.patchOp],
              Operations: [
                {
                  op: 'add',
                  path: 'members',
                  value: [{ value: op.member === undefined ? 'x' : `bulkId:b${op.member}` }],
                },
              ],
            },
          },
    ),
  };
}

describe('planBulk order', () => {
  it('runs each operation once, definitions before their uses, writes to one resource in written order, and moves only what waits', () => {
    fc.assert(
      fc.property(jobs, (job) => {
        const plan = planBulk(
          parseBulkRequest(bodyOf(job), {
            resourceTypes: registry.resourceTypes,
            compat: new CompatContext(compatFlags('compatible')),
          }),
        );
        const order = plan.order.map((o) => o.index);
        expect([...order].sort((a, b) => a - b)).toEqual(job.map((_, i) => i));
        const at = new Map(order.map((index, position) => [index, position]));
        for (const op of plan.order) {
          if (plan.refused.has(op.index)) continue;
          const circle = plan.circles.get(op.index);
          for (const ref of op.references) {
            const definer = Number(ref.slice(1));
            if (circle?.members.some((m) => m.index === definer)) continue;
            expect(at.get(definer)).toBeLessThan(at.get(op.index)!);
          }
        }
        // Each group's PATCHes run in the order written.
        for (const group of [0, 1, 2]) {
          const onGroup = order.filter(
            (i) => job[i]!.kind === 'patch' && (job[i] as { group: number }).group === group,
          );
          expect(onGroup).toEqual([...onGroup].sort((a, b) => a - b));
        }
        // What runs after something written later waits: it names a later POST, or something it
        // runs after (a POST it names, an earlier PATCH of its group) waits.
        const waits: boolean[] = [];
        for (const [i, op] of job.entries()) {
          const named = op.kind === 'post' ? op.manager : op.member;
          const before: number[] = named === undefined || named >= job.length ? [] : [named];
          if (op.kind === 'patch') {
            const earlier = job.findLastIndex(
              (other, k) => k < i && other.kind === 'patch' && other.group === op.group,
            );
            if (earlier >= 0) before.push(earlier);
          }
          waits[i] = before.some((k) => k > i || waits[k] === true);
        }
        for (const [position, index] of order.entries()) {
          const overtaken = order.slice(0, position).some((earlier) => earlier > index);
          if (overtaken) expect(waits[index], `operation ${index}`).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
