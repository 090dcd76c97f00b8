import type { AdminHandlers } from '@shared/contract';
import type { TenantService } from './tenants';

export interface Services {
  tenants: TenantService;
}

/** The admin contract's operations, mapped onto the services. HTTP and IPC both call these. */
export function createAdminHandlers(services: Services): AdminHandlers {
  return {
    listTenants: async (input) => services.tenants.list(input),
  };
}
