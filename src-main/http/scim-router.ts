import Router from '@koa/router';
import { SCIM_CONTENT_TYPE } from '@shared/scim/urns';
import { serviceProviderConfig, type ServerCapabilities } from '../scim/service-provider-config';
import { TOKEN_SCIM_BASE } from './areas';

export interface ScimRouterDeps {
  capabilities: ServerCapabilities;
}

/**
 * SCIM endpoints. Discovery documents describe the server, not a tenant, so they are answered
 * without credentials (RFC 7644 §4 leaves this to the service provider); everything that touches a
 * tenant's resources requires a token.
 */
export function createScimRouter(deps: ScimRouterDeps): Router {
  const router = new Router({ prefix: TOKEN_SCIM_BASE, strict: false });
  router.get('/ServiceProviderConfig', (ctx) => {
    ctx.type = `${SCIM_CONTENT_TYPE}; charset=utf-8`;
    ctx.body = serviceProviderConfig(
      deps.capabilities,
      `${ctx.protocol}://${ctx.host}${TOKEN_SCIM_BASE}/ServiceProviderConfig`,
    );
  });
  return router;
}
