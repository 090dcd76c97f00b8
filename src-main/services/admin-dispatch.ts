import type { z } from 'zod';
import { adminContract } from '@shared/contract';
import type { AdminOperationName } from '@shared/contract-ops';
import type { AdminErrorData, AdminResult, ValidationIssue } from '@shared/errors';
import { AdminError } from '@shared/errors';
import type { AdminHandlers } from '@shared/contract';
import { dataDirProblemOf, isFolderWide } from '../data-dir';
import { StoreClosedError, StoreFailedError, StoreNoTenantError } from '../store/errors';

export type Logger = Pick<Console, 'error' | 'warn' | 'info'>;

/** Where a top-level input field came from, so that HTTP errors say `query`, `path` or `body`. */
export type LocateField = (field: string | number | undefined) => string[];

/** The names an object at `path` of the input takes, for "did you mean" (see `namesAt`). */
export type KnownNames = (path: readonly (string | number)[]) => readonly string[];

/**
 * @param known the names each object of the input takes, so that an unknown one close to one of
 *   them (`tenantId` for `tenant_id`, `requireIfmatch` in `compat_overrides`) is told which it
 *   probably meant.
 */
export function zodIssues(
  error: z.ZodError,
  locate: LocateField = () => [],
  known: KnownNames = () => [],
): ValidationIssue[] {
  return error.issues.flatMap((issue): ValidationIssue[] => {
    const path = issue.path.map(pathKey);
    // One issue per unknown field, located at that field, rather than one nameless one on the object.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const loc = [...locate(path.length > 0 ? path[0] : key), ...path, key];
        const meant = closestName(key, known(path));
        return {
          loc,
          msg:
            'Unknown field: this request takes no such field' +
            (meant === undefined ? ' (the reference at /docs lists its fields).' : `; did you mean ${meant}?`),
          type: issue.code,
        };
      });
    }
    return [
      { loc: [...locate(issue.path[0] as string | number | undefined), ...path], msg: issue.message, type: issue.code },
    ];
  });
}

/**
 * The known name an unknown one most likely misspells: the same once case, `_` and `-` are ignored
 * (`tenantId`, `per-page`), or one typo away (a letter wrong, missing, extra, or two swapped:
 * `stauts`) from a name of five letters or more, or sharing a word of five letters or more with it. Looser rules named unrelated parameters (`name`
 * "meant" `page`), and a query must stay open to a proxy's or browser's own. Written here because
 * it is a few lines; an edit-distance library would be the larger thing to keep.
 */
export function closestName(unknown: string, known: readonly string[]): string | undefined {
  const fold = (name: string) => name.toLowerCase().replace(/[_-]/g, '');
  const folded = fold(unknown);
  const same = known.find((name) => fold(name) === folded);
  if (same !== undefined) return same;
  if (folded.length < 4) return undefined;
  const typo = known.find((name) => fold(name).length >= 5 && oneTypoApart(folded, fold(name)));
  if (typo !== undefined) return typo;
  // A word of five letters or more in common: `tenant` for `tenant_id`, `status_code` for
  // `status`. Ignored, `tenant=…` streamed every tenant's traffic to a reader who thought it narrowed.
  const mine = new Set(wordsOf(unknown));
  return known.find((name) => wordsOf(name).some((word) => mine.has(word)));
}

/** The words of a parameter's name (`tenant_id`, `tenantName`, `per-page`) of five letters or more, lower-cased. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_-]+/)
    .filter((word) => word.length >= 5);
}

/** Whether b is a with one letter changed, added, removed, or two neighbours swapped. */
function oneTypoApart(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1 || a === b) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    const swapped = a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
    return swapped || a.slice(i + 1) === b.slice(i + 1);
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/**
 * The field names of the object at `path` in an input schema: an object's keys, or a record's when
 * they are an enum (`compat_overrides`' flag names). Walks zod's definitions (optional, default and
 * nullable wrappers included); anything else knows no names.
 */
export function namesAt(schema: z.ZodType, path: readonly (string | number)[]): readonly string[] {
  let at: ZodDef | undefined = unwrapped(schema.def as ZodDef);
  for (const key of path) {
    if (at?.type === 'object') at = unwrapped(at.shape?.[String(key)]?.def as ZodDef | undefined);
    else if (at?.type === 'record') at = unwrapped(at.valueType?.def as ZodDef | undefined);
    else return [];
  }
  if (at?.type === 'object') return Object.keys(at.shape ?? {});
  const keys = at?.type === 'record' ? unwrapped(at.keyType?.def as ZodDef | undefined) : undefined;
  return keys?.type === 'enum' ? Object.values(keys.entries ?? {}).map(String) : [];
}

/** The parts of a zod 4 definition `namesAt` reads. */
interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  entries?: Record<string, string | number>;
}

function unwrapped(def: ZodDef | undefined): ZodDef | undefined {
  while (def && (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) {
    def = def.innerType.def as ZodDef;
  }
  return def;
}

function pathKey(key: PropertyKey): string | number {
  return typeof key === 'number' ? key : String(key);
}

/**
 * A `__proto__` key (JSON.parse makes it an own key) is refused as any unknown field is: zod's
 * records skip it without an issue, so `{"compat_overrides": {"__proto__": …}}` was answered 200
 * and, replacing the overrides whole, silently cleared the tenant's `requireIfMatch` (admin probe).
 */
function refuseProtoKeys(input: unknown, locate: LocateField = () => []): void {
  const path = typeof input === 'object' && input !== null ? protoKeyPath(input, 0) : undefined;
  if (path === undefined) return;
  throw new AdminError('validation_failed', 'The request is not valid.', [
    {
      loc: [...locate(path[0] ?? '__proto__'), ...path, '__proto__'],
      msg: 'Unknown field: this request takes no such field (the reference at /docs lists its fields).',
      type: 'unrecognized_keys',
    },
  ]);
}

/**
 * The path of the first object holding an own `__proto__` key; admin inputs are a few levels deep.
 * Only objects are walked and the path is built on a hit: a 1 MiB body of numbers took 260 ms of
 * the event loop with a path for every value.
 */
function protoKeyPath(value: object, depth: number): (string | number)[] | undefined {
  if (Object.hasOwn(value, '__proto__')) return [];
  if (depth >= 8) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const inner: unknown = value[i];
      const found = typeof inner === 'object' && inner !== null ? protoKeyPath(inner, depth + 1) : undefined;
      if (found) return [i, ...found];
    }
    return undefined;
  }
  for (const [key, inner] of Object.entries(value)) {
    const found = typeof inner === 'object' && inner !== null ? protoKeyPath(inner, depth + 1) : undefined;
    if (found) return [key, ...found];
  }
  return undefined;
}

/**
 * Runs one admin operation: validate the raw input against the contract, call its handler, and
 * check the handler's answer against the declared output. Shared by HTTP and IPC so that both
 * transports apply the same rules.
 */
export async function dispatchAdminOperation(
  handlers: AdminHandlers,
  name: AdminOperationName,
  rawInput: unknown,
  locate?: LocateField,
): Promise<unknown> {
  const operation = adminContract[name];
  refuseProtoKeys(rawInput, locate);
  const parsed = operation.input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    throw new AdminError(
      'validation_failed',
      'The request is not valid.',
      zodIssues(parsed.error, locate, (path) => namesAt(operation.input, path)),
    );
  }
  const handler = handlers[name] as (input: unknown) => Promise<unknown>;
  const output = await handler(parsed.data);
  const checked = operation.output.safeParse(output);
  if (!checked.success) {
    // A handler that breaks its own contract is a bug on this side, never the caller's fault.
    throw new Error(`admin operation ${name} returned data outside its contract: ${checked.error.message}`);
  }
  return checked.data;
}

/** The data folder can no longer be written: say so plainly rather than as an anonymous 500. */
export const STORE_UNAVAILABLE =
  'The server can no longer write its data folder and is stopping; nothing acknowledged was lost. Restart scimdesk.';

export function isStoreDown(error: unknown): boolean {
  return error instanceof StoreFailedError || error instanceof StoreClosedError;
}

/** A store error as the admin error its caller is shown, over HTTP or IPC alike. */
export function storeErrorAsAdmin(error: unknown): AdminError | undefined {
  if (isStoreDown(error)) return new AdminError('unavailable', STORE_UNAVAILABLE);
  // A file kept beside the store (tenant-purges.json before a tenant's delete, admin-signouts.json
  // for a sign-out) met a full, read-only or forbidden folder: the owner's to fix, and no bug to
  // hide behind "Internal error". Their writers take back what they began when the write fails.
  if (isFolderWide(error)) {
    return new AdminError(
      'unavailable',
      `The server could not use its data folder: ${dataDirProblemOf(error)}. The request was not carried out; ` +
        'free space or fix the folder, then try again.',
    );
  }
  if (error instanceof StoreNoTenantError) return new AdminError('not_found', `Tenant ${error.tenantId} not found.`);
  return undefined;
}

/** Turns anything thrown by an operation into the error data both transports send. */
export function toAdminErrorData(error: unknown, log: Logger): AdminErrorData {
  const known = error instanceof AdminError ? error : storeErrorAsAdmin(error);
  if (known) return known.toData();
  log.error('admin operation failed:', error);
  return { code: 'internal', message: 'Internal error; details are in the server log.' };
}

export async function settleAdminOperation(
  handlers: AdminHandlers,
  name: AdminOperationName,
  rawInput: unknown,
  log: Logger,
): Promise<AdminResult<unknown>> {
  try {
    return { ok: true, data: await dispatchAdminOperation(handlers, name, rawInput) };
  } catch (error) {
    return { ok: false, error: toAdminErrorData(error, log) };
  }
}
