import { expectTypeOf, test } from 'vitest';
import type { Tenant } from '@shared/tenant';
import type { TenantRecord } from '../../../src-main/store/documents';

// The store repeats the tenant shape (it cannot import @shared in tsx children); keep them in step.
test('TenantRecord and the shared Tenant are assignable both ways', () => {
  expectTypeOf<TenantRecord>().toExtend<Tenant>();
  expectTypeOf<Tenant>().toExtend<TenantRecord>();
});
