import { benchUser } from './store';

/** The benchmark user (issue #6: ~330 bytes, shaped like what Entra ID or Okta send) as a SCIM body. */
export function scimUserBody(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { id: _id, ...rest } = benchUser(n);
  return { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...rest, ...extra };
}

/** Runs `task(i)` for i in [0, count) with `concurrency` in flight; resolves with the elapsed ms. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return performance.now() - started;
}
