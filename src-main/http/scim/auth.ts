import type { Context, Next } from 'koa';
import type { ScimToken } from '@shared/scim-token';
import { looksLikeAdminToken, type AdminTokens } from '../../auth/admin-tokens';
import { ScimError } from '../../scim/errors';
import type { ScimRequestContext } from '../../services/identities/identity-service';
import type { ScimTokenService } from '../../services/scim-tokens';
import type { DurableStore } from '../../store/durable-store';
import {
  authorizationProblem,
  bearerToken,
  QUOTED_TOKEN,
  quotedBearer,
  REFUSED_ADMIN_TOKEN,
  repeatedAuthorization,
  REPEATED_AUTHORIZATION,
  repeatedAuthorizationValue,
  tokenMeantIn,
} from '../admin-auth';
import { keepRefusedBody, noteAnnouncedSize } from '../json-body';
import { publicOrigin } from '../public-origin';

/** Who is calling and for which tenant; set on ctx.state.scim by the auth middleware. */
export interface ScimCaller extends ScimRequestContext {
  /** `console`: the admin token browsing through the tenant path; `idp`: a SCIM token. */
  source: 'idp' | 'console';
  token?: ScimToken;
}

export interface ScimState {
  scim?: ScimCaller;
  /** The request's id, given by the capture middleware: the request log and the history both name it. */
  requestId?: string;
  /** Why a credential was refused, for the request log. */
  authRefusal?: string;
}

export interface ScimAuthDeps {
  adminTokens: AdminTokens;
  scimTokens: ScimTokenService;
  store: DurableStore;
}

/**
 * DESIGN.md §3: on the tenant path the token must belong to that tenant (another tenant's token
 * gets 404, revealing nothing); the admin token opens tenant paths as console traffic and is refused
 * with 403 on `/scim/v2`, where the tenant would have to come from the token. Missing or bad
 * credentials are 401 with `WWW-Authenticate: Bearer` (set by the error middleware).
 */
/**
 * Throws a refused credential's error, with the body the request carried kept for the request log
 * first: an IdP whose token is wrong, expired or revoked is debugged by what it tried to provision,
 * and its entry showed no body and 0 bytes. A request without an Authorization header (what any web
 * page can send) keeps only its announced size: reading it costs what the refusal saves.
 */
async function refuse(ctx: Context, error: ScimError): Promise<never> {
  if (ctx.req.headers.authorization !== undefined) await keepRefusedBody(ctx);
  else noteAnnouncedSize(ctx);
  throw error;
}

export function scimAuth(deps: ScimAuthDeps) {
  return async function authenticateScim(ctx: Context, next: Next): Promise<void> {
    const pathTenant = (ctx.params as { tenantId?: string }).tenantId;
    const secret = bearerToken(ctx);
    const state = ctx.state as ScimState;
    if (!secret) {
      const repeated = repeatedAuthorization(ctx);
      const problem = repeated ? undefined : authorizationProblem(ctx.get('Authorization'));
      state.authRefusal = repeated ? 'repeated' : problem ? 'malformed' : 'missing';
      return refuse(ctx, ScimError.unauthorized(repeated ? REPEATED_AUTHORIZATION : problem));
    }
    const base = `${publicOrigin(ctx)}${pathTenant ? `/api/v1/tenants/${encodeURIComponent(pathTenant)}` : ''}/scim/v2`;

    if (looksLikeAdminToken(secret)) {
      const check = await deps.adminTokens.verify(secret);
      if (!check.ok) {
        state.authRefusal = `admin token ${check.reason}`;
        return refuse(ctx, ScimError.unauthorized(REFUSED_ADMIN_TOKEN[check.reason]));
      }
      if (!pathTenant) {
        throw ScimError.forbidden(
          'An admin token has no tenant: use /api/v1/tenants/{tenant_id}/scim/v2, or a SCIM token of the tenant.',
        );
      }
      if (!deps.store.getTenant(pathTenant)) throw ScimError.notFound(`Tenant ${pathTenant} not found.`);
      state.scim = {
        tenantId: pathTenant,
        baseUrl: base,
        source: 'console',
        // Signed out or expired meanwhile, it stops a Bulk request or an export as a revoked SCIM
        // token does: "for good" was true of new requests only.
        stillAuthorized: () => {
          const refusal = deps.adminTokens.refusalNow(check);
          if (refusal) {
            throw ScimError.unauthorized(
              `The admin token ${refusal === 'expired' ? 'expired' : 'was signed out'} while this request ran.`,
            );
          }
        },
        actor: 'console',
        requestId: state.requestId,
        ignored: [],
      };
      return next();
    }

    const check = deps.scimTokens.authenticate(secret, pathTenant);
    if (!check.ok) {
      state.authRefusal = check.reason;
      if (check.reason === 'wrong_tenant') return refuse(ctx, ScimError.notFound(`Tenant ${pathTenant} not found.`));
      return refuse(
        ctx,
        ScimError.unauthorized(
          check.reason === 'expired'
            ? 'The SCIM token has expired.'
            : check.reason === 'revoked'
              ? 'The SCIM token has been revoked.'
              : quotedBearer(ctx.get('Authorization')) !== undefined
                ? QUOTED_TOKEN
                : 'The bearer token is not a valid SCIM token.',
        ),
      );
    }
    const { tenantId, token } = check;
    state.scim = {
      tenantId,
      baseUrl: base,
      source: 'idp',
      token,
      stillAuthorized: () => {
        const refusal = deps.scimTokens.refusalNow(tenantId, token.id);
        if (refusal === 'tenant deleted') {
          throw ScimError.unauthorized(`Tenant ${tenantId} was deleted while this request ran, with its SCIM tokens.`);
        }
        if (refusal) throw ScimError.unauthorized(`The SCIM token was ${refusal} while this request ran.`);
      },
      // With its id: names repeat and change, and the request that would tell the token apart
      // leaves the log under its cap long before the history forgets the version.
      actor: `token "${check.token.name}" (${check.token.id})`,
      requestId: state.requestId,
      ignored: [],
    };
    return next();
  };
}

/** Who a SCIM request's credential names, for the request log (see `presumedCaller`). */
export interface PresumedCaller {
  source: 'idp' | 'console';
  tenantId?: string;
  token?: ScimToken;
}

/**
 * Who sent a SCIM request that has no caller on ctx.state.scim, for the request log only: the
 * authentication refused it (a revoked, expired or other tenant's token, an admin token on
 * `/scim/v2`) or never ran (discovery, an unknown path, a 405). Such an entry had no tenant and no
 * token, so a tenant's log showed nothing of its IdP failing with a revoked token or a wrong base
 * URL. A SCIM token names its tenant; the admin token (signed by this server, even if expired) is
 * the console's. Never throws: logging cannot fail a request.
 */
export function presumedCaller(deps: Pick<ScimAuthDeps, 'adminTokens' | 'scimTokens'>) {
  return async function presume(ctx: Context): Promise<PresumedCaller | undefined> {
    // A token in a malformed header still names its tenant, whose log should show the IdP's mistake:
    // in quotes, after a second "Bearer", or in a header a proxy repeated as it was.
    const header = repeatedAuthorization(ctx) ? repeatedAuthorizationValue(ctx) : ctx.get('Authorization');
    const secret = header === undefined ? undefined : tokenMeantIn(header);
    if (!secret) return undefined;
    try {
      if (looksLikeAdminToken(secret)) {
        const check = await deps.adminTokens.verify(secret);
        return check.ok || check.reason === 'expired' ? { source: 'console' } : undefined;
      }
      const token = deps.scimTokens.identify(secret);
      return token ? { source: 'idp', tenantId: token.tenant_id, token } : undefined;
    } catch {
      return undefined;
    }
  };
}
