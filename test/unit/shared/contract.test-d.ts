import { describe, expectTypeOf, it } from 'vitest';
import type { AdminClient, AdminHandlers, AdminInput, AdminOutput } from '@shared/contract';
import type { AdminOperationName } from '@shared/contract-ops';

describe('admin contract types', () => {
  it('demands exactly one handler per operation', () => {
    expectTypeOf<keyof AdminHandlers>().toEqualTypeOf<AdminOperationName>();
    // @ts-expect-error a handler object without listTenants does not compile
    const missing: AdminHandlers = {};
    void missing;
  });

  it('types the client from the table', () => {
    expectTypeOf<AdminClient['listTenants']>().parameter(0).toEqualTypeOf<AdminInput<'listTenants'>>();
    expectTypeOf<AdminOutput<'listTenants'>['items'][number]['delete_mode']>().toEqualTypeOf<'delete' | 'deactivate'>();
  });

  it('lets the client omit defaulted paging fields', () => {
    expectTypeOf<Record<string, never>>().toExtend<AdminInput<'listTenants'>>();
  });
});
