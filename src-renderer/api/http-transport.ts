import { adminContract } from '@shared/contract';
import {
  AdminErrorBody,
  adminErrorCodeFor,
  isAdminErrorCode,
  type AdminErrorData,
  type AdminResult,
  type ValidationIssue,
} from '@shared/errors';
import { ADMIN_BASE_PATH } from '@shared/session';
import { noAnswer, withinAnswerTime } from './answer-time';
import type { AdminTransport } from './transport';

export interface HttpTransportOptions {
  /** Origin of the server, '' for the page's own. */
  baseUrl?: string;
  getToken: () => string | undefined;
  fetch?: typeof fetch;
}

/** The admin operations over HTTP, built from each row's method and path. */
export function createHttpTransport(options: HttpTransportOptions): AdminTransport {
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  return {
    async call(op, input) {
      const operation = adminContract[op];
      const { path, rest } = fillPath(operation.path, (input ?? {}) as Record<string, unknown>);
      const hasBody = operation.method !== 'GET' && operation.method !== 'DELETE';
      const query = hasBody ? '' : toQuery(rest);
      const headers: Record<string, string> = { Accept: 'application/json' };
      const token = options.getToken();
      if (token) headers.Authorization = `Bearer ${token}`;
      if (hasBody) headers['Content-Type'] = 'application/json';
      try {
        const response = await doFetch(
          `${options.baseUrl ?? ''}${ADMIN_BASE_PATH}${path}${query}`,
          withinAnswerTime({ method: operation.method, headers, body: hasBody ? JSON.stringify(rest) : undefined }),
        );
        // The body too comes within the time: a server can send its headers and stop.
        return await readResult(response);
      } catch (error) {
        return unavailable(noAnswer(error));
      }
    },
  };
}

function fillPath(template: string, input: Record<string, unknown>) {
  const rest = { ...input };
  const path = template.replace(/:(\w+)/g, (_, name: string) => {
    const value = rest[name];
    delete rest[name];
    return encodeURIComponent(String(value ?? ''));
  });
  return { path, rest };
}

function toQuery(fields: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function readResult(response: Response): Promise<AdminResult<unknown>> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    body = undefined;
  }
  if (response.ok) return { ok: true, data: body };
  return { ok: false, error: errorFromBody(response.status, body) };
}

/**
 * Seed 004's two error shapes: `{detail: [{loc,msg,type}]}` and `{detail: "…", code}`. Also read by
 * the login-code exchange, which is outside the contract but answers in the same shapes.
 */
export function errorFromBody(status: number, body: unknown): AdminErrorData {
  const read = AdminErrorBody.safeParse(body);
  const { detail, code } = read.success ? read.data : {};
  if (Array.isArray(detail)) {
    const issues: ValidationIssue[] = detail;
    const first = issues[0];
    const message = first ? `${first.loc.join('.')}: ${first.msg}` : 'The request is not valid.';
    return { code: 'validation_failed' as const, message, issues };
  }
  return {
    code: isAdminErrorCode(code)
      ? code
      : (adminErrorCodeFor(status) ?? (status >= 500 ? 'internal' : 'validation_failed')),
    message: typeof detail === 'string' ? detail : `The server answered ${status}.`,
  };
}

function unavailable(message: string): AdminResult<unknown> {
  return { ok: false, error: { code: 'unavailable', message } };
}
