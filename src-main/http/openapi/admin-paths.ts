import { adminContract, type AdminOperation } from '@shared/contract';
import { ADMIN_OPERATION_NAMES } from '@shared/contract-ops';
import { ADMIN_ERROR_CODES, ADMIN_ERROR_STATUS, type AdminErrorCode } from '@shared/errors';
import { RequestLogStreamFilter } from '@shared/request-log';
import { ADMIN_BASE_PATH, SessionRequest, SessionResponse } from '@shared/session';
import { propertiesOf, withoutProperties, zodJsonSchema } from './json-schema';
import {
  ref,
  type HttpMethodLower,
  type JsonSchema,
  type Operation,
  type Parameter,
  type PathItem,
  type Reference,
  type ResponseObject,
} from './types';

/**
 * Tags group operations in the viewer and name its deep links (`/docs#/admin-tenants`). An admin
 * operation's tag comes from the first segment of its contract path, so a new row lands in a group
 * without an edit here; these descriptions are only for the groups known today.
 */
const ADMIN_TAG_DESCRIPTIONS: Record<string, string> = {
  'admin-session': 'How the headless console trades its one-time login code for an admin token.',
  'admin-tenants': 'Tenants and their settings.',
  'admin-scim-tokens': 'The bearer tokens identity providers use on the SCIM API.',
  'admin-request-logs': 'Captured SCIM and admin traffic, and its live stream.',
  'admin-history': 'Versions of users and groups.',
  'admin-compat-flags': 'Compatibility flags and the profiles that turn them on.',
};

/** The tags used by `paths`, in order of first use, with their descriptions. */
export function adminTags(paths: Record<string, PathItem>): { name: string; description: string }[] {
  const names = new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((op) => op.tags)));
  return [...names].map((name) => ({ name, description: ADMIN_TAG_DESCRIPTIONS[name] ?? '' }));
}

const ERROR_DESCRIPTIONS: Record<AdminErrorCode, string> = {
  validation_failed: 'The input is not valid.',
  unauthorized: 'No admin token, or one that is expired or not valid.',
  forbidden: 'A SCIM token was sent to the admin API, which takes admin tokens only.',
  not_found: 'The resource (or the tenant it belongs to) does not exist.',
  conflict: 'The change would break a uniqueness rule (e.g. two tenants with one name).',
  method_not_allowed: 'The path exists but not with this method.',
  not_implemented: 'The server answers this HTTP method on no path (e.g. PROPFIND).',
  payload_too_large: 'The request body is over 1 MiB.',
  unsupported_media_type: 'The request body is neither `application/json` nor `application/scim+json`.',
  internal: 'An unexpected failure; the detail is in the server log.',
  unavailable:
    'The server cannot do it now: it is shutting down, its data folder can no longer be written (a full or read-only disk), or the request log is down.',
  bad_request: 'The HTTP request itself is malformed (no Host header, broken framing).',
  request_timeout: 'The request headers or body took too long to arrive.',
  expectation_failed: 'An `Expect` header other than `100-continue`.',
};

/** Response components for the admin errors, named `Admin_<code>`. */
export function adminErrorComponents(): {
  schemas: Record<string, JsonSchema>;
  responses: Record<string, ResponseObject>;
} {
  const schemas: Record<string, JsonSchema> = {
    AdminError: {
      type: 'object',
      description: 'Seed 004: every admin error except field validation.',
      properties: {
        detail: { type: 'string', description: 'What went wrong, for people.' },
        code: { type: 'string', enum: [...ADMIN_ERROR_CODES], description: 'What went wrong, for programs.' },
      },
      required: ['detail', 'code'],
    },
    AdminValidationError: {
      type: 'object',
      description: 'Seed 004 (the FastAPI shape): one entry per invalid field.',
      properties: {
        detail: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              loc: {
                type: 'array',
                items: { type: ['string', 'integer'] },
                description: 'Where the field is: ["body"|"query"|"path"|"header", name, ...].',
              },
              msg: { type: 'string' },
              type: { type: 'string' },
            },
            required: ['loc', 'msg', 'type'],
          },
        },
      },
      required: ['detail'],
    },
  };
  const responses: Record<string, ResponseObject> = {};
  for (const code of ADMIN_ERROR_CODES) {
    const schema =
      code === 'validation_failed'
        ? { anyOf: [ref('schemas', 'AdminValidationError'), ref('schemas', 'AdminError')] }
        : ref('schemas', 'AdminError');
    const response: ResponseObject = {
      description: ERROR_DESCRIPTIONS[code],
      content: { 'application/json': { schema } },
    };
    if (code === 'unauthorized') {
      response.headers = {
        'WWW-Authenticate': {
          description:
            'Bearer realm="scimdesk-admin"; with error="invalid_token" when the token presented was refused (RFC 6750 §3.1)',
          schema: { type: 'string' },
        },
      };
    }
    responses[`Admin_${code}`] = response;
  }
  return { schemas, responses };
}

/**
 * What any request can be answered, whatever its operation: the listener's refusals (no Host, a
 * request too slow to arrive, an `Expect` it does not meet) and the server's own failures.
 */
const ANY_REQUEST_ERRORS: readonly AdminErrorCode[] = [
  'bad_request',
  'request_timeout',
  'expectation_failed',
  'internal',
  'unavailable',
];

function errorResponses(codes: readonly AdminErrorCode[]): Record<string, Reference> {
  const out: Record<string, Reference> = {};
  for (const code of [...codes, ...ANY_REQUEST_ERRORS]) {
    out[String(ADMIN_ERROR_STATUS[code])] = ref('responses', `Admin_${code}`);
  }
  return out;
}

/** A request body as both media types the admin API reads it in. */
function jsonBody(schema: JsonSchema): Record<string, { schema: JsonSchema }> {
  return { 'application/json': { schema }, 'application/scim+json': { schema } };
}

/**
 * A body may repeat a path parameter (a PATCH of `/tenants/{id}` with the tenant's `id`), as a
 * client that sends back what it read does; another value is refused (admin-router.ts).
 */
function withPathEcho(schema: JsonSchema, params: readonly string[]): JsonSchema {
  if (params.length === 0) return schema;
  const properties = { ...((schema.properties ?? {}) as Record<string, JsonSchema>) };
  for (const param of params) {
    properties[param] = {
      type: 'string',
      description: `The path's \`${param}\` again, which may be sent; any other value is refused (422).`,
    };
  }
  return { ...schema, properties };
}

/** `/tenants/:id` → `/tenants/{id}`, and the parameter names in order. */
export function openApiPath(koaPath: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = koaPath.replace(/:([A-Za-z0-9_]+)/g, (_match, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

function tagOf(path: string): string {
  if (path.includes('/history/')) return 'admin-history';
  return `admin-${path.split('/')[1] ?? 'other'}`;
}

function contractOperation(
  name: string,
  row: AdminOperation,
  schemas: Record<string, JsonSchema>,
): { path: string; method: HttpMethodLower; operation: Operation } {
  const { path, params } = openApiPath(row.path);
  const input = zodJsonSchema(row.input, 'input', schemas, `${name}Input`) ?? { type: 'object' };
  const output = zodJsonSchema(row.output, 'output', schemas, `${name}Output`);
  const fields = propertiesOf(input);
  const fromQuery = row.method === 'GET' || row.method === 'DELETE';

  const parameters: Parameter[] = params.map((param) => ({
    name: param,
    in: 'path',
    required: true,
    schema: fields.find((f) => f.name === param)?.schema ?? { type: 'string' },
  }));
  if (fromQuery) {
    for (const field of fields.filter((f) => !params.includes(f.name))) {
      parameters.push({ name: field.name, in: 'query', required: field.required, schema: field.schema });
    }
  }

  const errors: AdminErrorCode[] = ['unauthorized', 'forbidden', ...row.errors];
  if (!fromQuery) errors.push('validation_failed', 'payload_too_large', 'unsupported_media_type');
  else if (fields.length > 0) errors.push('validation_failed');

  const success: ResponseObject =
    output === undefined
      ? { description: 'Done; no content.' }
      : { description: 'Success.', content: { 'application/json': { schema: output } } };

  const operation: Operation = {
    operationId: name,
    summary: row.summary,
    tags: [tagOf(row.path)],
    parameters,
    responses: { [String(row.status)]: success, ...errorResponses(errors) },
    security: [{ bearerAdmin: [] }],
  };
  if (!fromQuery) {
    operation.requestBody = {
      required: true,
      content: jsonBody(withPathEcho(withoutProperties(input, params), params)),
    };
  }
  if (parameters.length === 0) delete operation.parameters;
  return { path: `${ADMIN_BASE_PATH}${path}`, method: row.method.toLowerCase() as HttpMethodLower, operation };
}

/** The admin routes that are not rows of the contract table (see admin-router.ts). */
function extraOperations(schemas: Record<string, JsonSchema>): Record<string, PathItem> {
  return {
    [`${ADMIN_BASE_PATH}/session`]: {
      post: {
        operationId: 'createSession',
        summary: 'Trade the one-time console login code for an admin token.',
        description:
          '`scimdesk serve` prints a console URL with `#code=...`: a code valid 10 minutes, usable once. ' +
          'The token it buys is kept in memory by the console. Neither body is kept in the request log.',
        tags: ['admin-session'],
        requestBody: {
          required: true,
          content: jsonBody(zodJsonSchema(SessionRequest, 'input', schemas, 'SessionRequest') ?? {}),
        },
        responses: {
          '200': {
            description: 'A new admin token and when it expires.',
            content: {
              'application/json': {
                schema: zodJsonSchema(SessionResponse, 'output', schemas, 'SessionResponse') ?? {},
              },
            },
          },
          ...errorResponses(['unauthorized', 'validation_failed', 'payload_too_large', 'unsupported_media_type']),
        },
        security: [],
      },
      delete: {
        operationId: 'endSession',
        summary: 'Sign out: end the admin token that asks, for good.',
        description:
          'The token is refused from then on, on the admin API and the SCIM paths, across restarts ' +
          '(the server keeps signed-out token ids in `admin-signouts.json` until they would have expired). ' +
          'Its live log streams end with an `expired` event. Other admin tokens go on working.',
        tags: ['admin-session'],
        responses: {
          '204': { description: 'Signed out.' },
          ...errorResponses(['unauthorized', 'forbidden']),
        },
        security: [{ bearerAdmin: [] }],
      },
    },
    [`${ADMIN_BASE_PATH}/request-logs/stream`]: {
      get: {
        operationId: 'streamRequestLogs',
        summary: 'New request-log entries as Server-Sent Events.',
        description:
          'Read it with `fetch` and the `Authorization` header (no credential ever goes in a URL). Each ' +
          "event's `id` is the entry's sequence number: resume with `Last-Event-ID` (or `after`) and " +
          'nothing is lost or repeated. Events: `entry` (data: a request-log entry as JSON) and `gap` ' +
          '(data: `{"missed": n}`, entries dropped before they could be sent), and `expired` (data: ' +
          '`{"detail": …}`), after which the stream ends: the admin token that opened it has expired or ' +
          'was signed out; and `tenant_deleted` (data: `{"tenant_id": …}`) on a stream that follows ' +
          'that tenant: it was deleted, and the stream goes on with what is still sent to its URL. ' +
          'Comments keep the connection alive every 15 s. It narrows by the filters of GET /request-logs ' +
          'that one entry can answer; a `gap` still counts every entry in its scope that is gone, ' +
          'matching or not.',
        tags: ['admin-request-logs'],
        parameters: [
          {
            name: 'Last-Event-ID',
            in: 'header',
            required: false,
            description: 'The last sequence number seen; the stream resumes after it.',
            schema: { type: 'string', pattern: '^\\d{1,15}$' },
          },
          {
            name: 'after',
            in: 'query',
            required: false,
            description: 'Same as Last-Event-ID, for clients that cannot set headers.',
            schema: { type: 'string', pattern: '^\\d{1,15}$' },
          },
          // The list's filters that one entry can answer, from the same schema the stream parses with.
          ...propertiesOf(zodJsonSchema(RequestLogStreamFilter, 'input', schemas, 'streamRequestLogsInput')).map(
            (field): Parameter => ({
              name: field.name,
              in: 'query',
              required: false,
              schema: field.schema,
              ...(field.name === 'tenant_id'
                ? {
                    description:
                      "Only this tenant's entries; a `gap` then counts only this tenant's entries that are gone.",
                  }
                : {}),
            }),
          ),
        ],
        responses: {
          '200': {
            description: 'An endless event stream.',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...errorResponses(['unauthorized', 'forbidden', 'not_found', 'validation_failed']),
        },
        security: [{ bearerAdmin: [] }],
      },
    },
  };
}

/** Every admin operation: one per contract row, plus the session exchange and the live stream. */
export function adminPaths(schemas: Record<string, JsonSchema>): Record<string, PathItem> {
  const paths = extraOperations(schemas);
  for (const name of ADMIN_OPERATION_NAMES) {
    const { path, method, operation } = contractOperation(name, adminContract[name], schemas);
    const item = (paths[path] ??= {});
    item[method] = operation;
  }
  return paths;
}
