import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { circlesOf } from '../../../src-main/scim/bulk/circles';

/** The circles by definition: nodes that reach each other, and a node with an edge to itself. */
function circlesByReachability(dependsOn: number[][]): number[][] {
  const n = dependsOn.length;
  const reach = dependsOn.map((edges, i) => Array.from({ length: n }, (_, j) => edges.includes(j) || i === j));
  for (let k = 0; k < n; k++)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (reach[i]![k] && reach[k]![j]) reach[i]![j] = true;
  const seen = new Set<number>();
  const circles: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (seen.has(i)) continue;
    const component = Array.from({ length: n }, (_, j) => j).filter((j) => reach[i]![j] && reach[j]![i]);
    for (const j of component) seen.add(j);
    if (component.length > 1 || dependsOn[i]!.includes(i)) circles.push(component);
  }
  return circles;
}

const sorted = (circles: number[][]) => circles.map((c) => c.join(',')).sort();

describe('circlesOf (strongly connected components of the bulkId graph)', () => {
  it('finds exactly the sets of operations that reach each other, and self-references', () => {
    const graphs = fc
      .integer({ min: 1, max: 12 })
      .chain((n) =>
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 4 }), { minLength: n, maxLength: n }),
      );
    fc.assert(
      fc.property(graphs, (dependsOn) => {
        const circles = circlesOf(dependsOn);
        for (const circle of circles) expect(circle).toEqual([...circle].sort((a, b) => a - b));
        expect(sorted(circles)).toEqual(sorted(circlesByReachability(dependsOn)));
      }),
      { numRuns: 500 },
    );
  });
  it('walks a chain of 100,000 operations without recursing', () => {
    const chain = Array.from({ length: 100_000 }, (_, i) => [(i + 1) % 100_000]);
    expect(circlesOf(chain)).toHaveLength(1);
    expect(circlesOf(chain)[0]).toHaveLength(100_000);
  });
});
