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
  'payload_too_large',
  'unsupported_media_type',
  'internal',
  'unavailable',
] as const;
export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[number];

/** One field-level problem, in the FastAPI shape seed 004 uses: `{ loc, msg, type }`. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

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
