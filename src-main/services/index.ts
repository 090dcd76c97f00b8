import { coreSchemaRegistry, type SchemaRegistry } from '@shared/scim/registry';
import type { Clock } from '../clock';
import type { DurableStore } from '../store/durable-store';
import { IdentityService } from './identities/identity-service';
import { createPasswordHasher, type PasswordHasher, type PasswordHasherOptions } from './password-hasher';
import { ScimTokenService } from './scim-tokens';
import { createTenantService, type TenantService } from './tenants';

export interface Services {
  tenants: TenantService;
  identities: IdentityService;
  scimTokens: ScimTokenService;
  registry: SchemaRegistry;
  /** Flushes what services hold in memory (token last-use times) and stops their workers. */
  close(): Promise<void>;
}

export interface ServicesOptions {
  store: DurableStore;
  clock: Clock;
  hasher?: PasswordHasherOptions;
}

export function createServices({ store, clock, hasher: hasherOptions }: ServicesOptions): Services {
  const registry = coreSchemaRegistry();
  const hasher: PasswordHasher = createPasswordHasher(hasherOptions);
  const scimTokens = new ScimTokenService(store, clock);
  return {
    tenants: createTenantService(store, clock),
    identities: new IdentityService({ store, registry, hasher, clock }),
    scimTokens,
    registry,
    async close() {
      await scimTokens.close();
      await hasher.close();
    },
  };
}
