import type { Page, PageQuery } from '@shared/paging';
import { paginate } from '@shared/paging';
import type { Tenant } from '@shared/tenant';
import type { DurableStore } from '../store/durable-store';

export interface TenantService {
  list(query: PageQuery): Page<Tenant>;
}

export function createTenantService(store: DurableStore): TenantService {
  return {
    list(query) {
      // Oldest first, id as tie-break, so paging is stable across calls.
      const ordered = store
        .listTenants()
        .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
      return paginate(ordered, query);
    },
  };
}
