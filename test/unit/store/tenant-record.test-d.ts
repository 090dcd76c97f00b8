import { expectTypeOf, test } from 'vitest';
import type { z } from 'zod';
import type { Tenant } from '@shared/tenant';
import type { TenantRecord } from '../../../src-main/store/documents';

// The store repeats the tenant shape (it cannot import @shared in tsx children); keep them in step.
test('TenantRecord and the shared Tenant are assignable both ways', () => {
  // What the store holds is what the shared schema reads (defaults fill the optional settings).
  expectTypeOf<TenantRecord>().toExtend<z.input<typeof Tenant>>();
  expectTypeOf<Tenant>().toExtend<TenantRecord>();
});
