import type { Page, PageQuery } from '@shared/paging';
import { paginate } from '@shared/paging';
import type { Tenant } from '@shared/tenant';
import type { Store } from '../store/store';

export interface TenantService {
  list(query: PageQuery): Page<Tenant>;
}

export function createTenantService(store: Store): TenantService {
  return {
    list(query) {
      // Oldest first, id as tie-break, so paging is stable across calls.
      const ordered = [...store.data.tenants].sort(
        (a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id),
      );
      return paginate(ordered, query);
    },
  };
}
