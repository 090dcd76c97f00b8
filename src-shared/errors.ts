import { z } from 'zod';

/**
 * The closed set of admin error codes. Services throw them, HTTP maps them to a status, IPC sends
 * them as data, and the renderer's client turns both back into one AdminError.
 */
export const ADMIN_ERROR_CODES = [
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'method_not_allowed',
  'not_implemented',
  'payload_too_large',
  'unsupported_media_type',
  'internal',
  'unavailable',
  'bad_request',
  'request_timeout',
  'expectation_failed',
] as const;
export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[number];

/** The HTTP status each admin error code is answered with (and read back from, by the client). */
export const ADMIN_ERROR_STATUS: Readonly<Record<AdminErrorCode, number>> = {
  validation_failed: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  method_not_allowed: 405,
  not_implemented: 501,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
  unavailable: 503,
  bad_request: 400,
  request_timeout: 408,
  expectation_failed: 417,
};

const CODE_BY_STATUS = new Map<number, AdminErrorCode>(
  Object.entries(ADMIN_ERROR_STATUS).map(([code, status]) => [status, code as AdminErrorCode]),
);

/** The admin error code an HTTP status stands for, if any. */
export function adminErrorCodeFor(status: number): AdminErrorCode | undefined {
  return CODE_BY_STATUS.get(status);
}

/** One field-level problem, in the FastAPI shape seed 004 uses: `{ loc, msg, type }`. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/**
 * An admin error body as the renderer reads it off the wire (seed 004's two shapes). Read without
 * it, an issue whose `loc` was no list threw, and the console said the server was unreachable.
 */
export const AdminErrorBody = z.looseObject({
  detail: z
    .union([
      z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() })),
      z.string(),
    ])
    .optional(),
  // A code of another type (a proxy's number) is no reason to drop the message that came with it.
  code: z.string().optional().catch(undefined),
});

export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    readonly code: AdminErrorCode,
    message: string,
    readonly issues: ValidationIssue[] = [],
  ) {
    super(message);
  }

  toData(): AdminErrorData {
    return this.issues.length > 0
      ? { code: this.code, message: this.message, issues: this.issues }
      : { code: this.code, message: this.message };
  }
}

export interface AdminErrorData {
  code: AdminErrorCode;
  message: string;
  issues?: ValidationIssue[];
}

/** What crosses IPC: errors travel as data, since a thrown Error loses all but its message there. */
export type AdminResult<T> = { ok: true; data: T } | { ok: false; error: AdminErrorData };

export function isAdminErrorCode(value: unknown): value is AdminErrorCode {
  return typeof value === 'string' && (ADMIN_ERROR_CODES as readonly string[]).includes(value);
}
