import { SCIM_URN } from '@shared/scim/urns';

/** RFC 7644 §3.12, Table 9: every scimType and the one status it may travel with. */
const SCIM_TYPE_STATUS = {
  invalidFilter: 400,
  tooMany: 400,
  uniqueness: 409,
  mutability: 400,
  invalidSyntax: 400,
  invalidPath: 400,
  noTarget: 400,
  invalidValue: 400,
  invalidVers: 400,
  sensitive: 403,
} as const;
export type ScimType = keyof typeof SCIM_TYPE_STATUS;

/**
 * The statuses RFC 7644 §3.12 lists for error responses, plus two that HTTP requires where the RFC
 * is silent: 405 for a wrong method on a known path, and 503 (with Retry-After) for a server that is
 * busy for a moment, so that clients that retry (IdPs, `scimdesk seed`) do.
 */
const ERROR_STATUSES = [307, 308, 400, 401, 403, 404, 405, 409, 412, 413, 500, 501, 503] as const;
export type ScimErrorStatus = (typeof ERROR_STATUSES)[number];

export interface ScimErrorBody {
  schemas: [typeof SCIM_URN.error];
  status: string;
  scimType?: ScimType;
  detail?: string;
}

/**
 * The one error type of the SCIM surface. Construction refuses impossible pairs (a 404 with
 * `uniqueness`), so an error body can never contradict RFC 7644 §3.12. 405 is not in the RFC's table
 * but is what HTTP requires for a wrong method on a known path.
 */
export class ScimError extends Error {
  override readonly name = 'ScimError';
  /** Seconds a client should wait before trying again (503), sent as Retry-After. */
  retryAfterSeconds: number | undefined;

  constructor(
    readonly status: ScimErrorStatus,
    detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
    if (!(ERROR_STATUSES as readonly number[]).includes(status)) {
      throw new TypeError(`ScimError: ${status} is not an RFC 7644 error status`);
    }
    if (scimType !== undefined && SCIM_TYPE_STATUS[scimType] !== status) {
      throw new TypeError(`ScimError: scimType ${scimType} requires status ${SCIM_TYPE_STATUS[scimType]}`);
    }
  }

  static badRequest(scimType: Exclude<ScimType, 'uniqueness' | 'sensitive'>, detail: string): ScimError {
    return new ScimError(400, detail, scimType);
  }
  static unauthorized(detail = 'Authentication required: send a bearer token.'): ScimError {
    return new ScimError(401, detail);
  }
  static forbidden(detail: string): ScimError {
    return new ScimError(403, detail);
  }
  static notFound(detail: string): ScimError {
    return new ScimError(404, detail);
  }
  static conflict(detail: string): ScimError {
    return new ScimError(409, detail, 'uniqueness');
  }
  static internal(): ScimError {
    return new ScimError(500, 'Internal server error.');
  }
  static busy(detail: string, retryAfterSeconds: number): ScimError {
    const error = new ScimError(503, detail);
    error.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
    return error;
  }

  toBody(): ScimErrorBody {
    const body: ScimErrorBody = { schemas: [SCIM_URN.error], status: String(this.status) };
    if (this.scimType) body.scimType = this.scimType;
    body.detail = this.message;
    return body;
  }
}
