import type { AdminHandlers } from '@shared/contract';
import type { Services } from './index';

/** The admin contract's operations, mapped onto the services. HTTP and IPC both call these. */
export function createAdminHandlers(services: Pick<Services, 'tenants'>): AdminHandlers {
  return {
    listTenants: async (input) => services.tenants.list(input),
  };
}
