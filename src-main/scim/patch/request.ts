import { SCIM_URN } from '@shared/scim/urns';
import type { CompatContext } from '../compat';
import { ScimError } from '../errors';
import { otherMessageIn } from '../message-urns';
import { isRecord } from '../values';
import type { PatchOpName, PatchOperation } from './types';

const OPS: readonly PatchOpName[] = ['add', 'remove', 'replace'];

/** Bounds the work one request can ask for; 1 MiB of body cannot reach it with real operations. */
export const MAX_PATCH_OPERATIONS = 10_000;

function syntax(detail: string): ScimError {
  return ScimError.badRequest('invalidSyntax', detail);
}

/**
 * Reads a message envelope's `schemas` and its `Operations` key (RFC 7644 §3.5.2 PatchOp, §3.7
 * BulkRequest). The envelope rules are shared because the same clients get them wrong the same way.
 */
export function readEnvelope(body: unknown, urn: string, what: string, ctx: CompatContext): Record<string, unknown> {
  if (!isRecord(body)) throw syntax(`A ${what} request body must be a JSON object.`);
  const schemas = body['schemas'];
  const listed =
    Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase());
  if (!listed) {
    const otherMessage = otherMessageIn(schemas, urn);
    if (typeof otherMessage === 'string') {
      throw syntax(`The ${what} request lists ${otherMessage} in "schemas", another request's message; send ${urn}.`);
    }
    const problem = schemas === undefined ? `has no "schemas"` : `does not list ${urn} in "schemas"`;
    if (!ctx.use('patchEnvelopeLenient')) {
      throw ctx.refuse('patchEnvelopeLenient', 'invalidSyntax', `The ${what} request ${problem}`);
    }
  }
  return body;
}

/**
 * A member of a protocol message (`Operations`, `failOnErrors`, an operation's `op`, `path`,
 * `value`, a Bulk operation's `method`, `bulkId`, `version`, `data`), found under any spelling of
 * its name when the flag allows it, and refused by name when it does not: RFC 7643 §2.1 makes
 * attribute names case-insensitive, and reading the exact spelling alone silently dropped a
 * `"Version"` (an unconditional DELETE) or a `"FailOnErrors"`. Two spellings at once are refused:
 * which one the client meant cannot be told.
 */
export function messageMember(
  record: Record<string, unknown>,
  name: string,
  where: string,
  ctx: CompatContext,
): { readonly value: unknown } | undefined {
  const lower = name.toLowerCase();
  let key: string | undefined;
  for (const k of Object.keys(record)) {
    if (k.toLowerCase() !== lower) continue;
    if (key !== undefined) {
      throw syntax(
        `${where} gives "${name}" twice, as "${key}" and "${k}" (names are case-insensitive, RFC 7643 §2.1).`,
      );
    }
    key = k;
  }
  if (key === undefined) return undefined;
  if (key !== name && !ctx.use('patchEnvelopeLenient')) {
    throw ctx.refuse('patchEnvelopeLenient', 'invalidSyntax', `${where} spells "${name}" as "${key}"`);
  }
  return { value: record[key] };
}

/**
 * Under `strictSchemaValidation`, a member the message does not define (RFC 7644 §3.5.2's PatchOp,
 * §3.7's BulkRequest and their operations) is refused, as a SearchRequest's is: a misspelt
 * `"vaule"` was read as an operation without a value, and `"foo": 1` was silently dropped (PATCH
 * probe, session 40). Otherwise unknown members are ignored, as RFC 7644 §3.3 lets a server ignore
 * unknown attributes.
 */
export function refuseUnknownMembers(
  record: Record<string, unknown>,
  members: readonly string[],
  where: string,
  ctx: CompatContext,
): void {
  if (!ctx.isOn('strictSchemaValidation')) return;
  const known = new Set(members.map((name) => name.toLowerCase()));
  const unknown = Object.keys(record).find((key) => !known.has(key.toLowerCase()));
  if (unknown === undefined) return;
  throw ctx.refuse(
    'strictSchemaValidation',
    'invalidSyntax',
    `${where} has "${unknown}", which it does not define (it takes ${members.join(', ')})`,
  );
}

/** The `Operations` member (see messageMember). */
export function operationsOf(body: Record<string, unknown>, what: string, ctx: CompatContext): unknown[] {
  const ops = messageMember(body, 'Operations', `The ${what} request`, ctx)?.value;
  if (!Array.isArray(ops)) throw syntax(`A ${what} request needs an "Operations" array.`);
  return ops;
}

/**
 * Validates a PatchOp body (RFC 7644 §3.5.2) into operations. Values are not looked at here; the
 * engine checks them against the schema. Errors are 400 invalidSyntax (the message does not fit the
 * PatchOp schema) or, for a non-string path, invalidPath.
 */
export function parsePatchRequest(body: unknown, ctx: CompatContext): PatchOperation[] {
  const envelope = readEnvelope(body, SCIM_URN.patchOp, 'PatchOp', ctx);
  refuseUnknownMembers(envelope, ['schemas', 'Operations'], 'The PatchOp request', ctx);
  const raw = operationsOf(envelope, 'PatchOp', ctx);
  // RFC 7644 §3.5.2: "an array of one or more PATCH operations".
  if (raw.length === 0) {
    if (!ctx.use('emptyPatchAccepted'))
      throw ctx.refuse('emptyPatchAccepted', 'invalidSyntax', 'The PatchOp request has no operations');
    return [];
  }
  if (raw.length > MAX_PATCH_OPERATIONS) {
    throw syntax(`The PatchOp request has ${raw.length} operations; at most ${MAX_PATCH_OPERATIONS} are accepted.`);
  }
  return raw.map((op, i) => parseOperation(op, i + 1, ctx));
}

export function parseOperation(op: unknown, n: number, ctx: CompatContext): PatchOperation {
  if (!isRecord(op)) throw syntax(`Operation ${n} must be a JSON object.`);
  refuseUnknownMembers(op, ['op', 'path', 'value'], `Operation ${n}`, ctx);
  const member = (key: string) => messageMember(op, key, `Operation ${n}`, ctx);
  const name = member('op')?.value;
  if (typeof name !== 'string') throw syntax(`Operation ${n} needs an "op" of add, remove or replace.`);
  let opName: PatchOpName;
  if ((OPS as readonly string[]).includes(name)) {
    opName = name as PatchOpName;
  } else {
    const lower = name.toLowerCase();
    if (!(OPS as readonly string[]).includes(lower)) {
      throw syntax(`Operation ${n} has op "${name}"; RFC 7644 §3.5.2 defines add, remove and replace.`);
    }
    if (!ctx.use('opCaseInsensitive')) {
      throw ctx.refuse('opCaseInsensitive', 'invalidSyntax', `Operation ${n} has op "${name}"; write "${lower}"`);
    }
    opName = lower as PatchOpName;
  }
  const path = member('path')?.value;
  if (path !== undefined && path !== null && typeof path !== 'string') {
    throw ScimError.badRequest('invalidPath', `Operation ${n} (${opName}): "path" must be a string.`);
  }
  const given = member('value');
  const hasValue = given !== undefined;
  // RFC 7644 §3.5.2.1/3: add and replace "MUST contain a value".
  if (opName !== 'remove' && !hasValue) throw syntax(`Operation ${n} (${opName}) has no "value".`);
  const out: { op: PatchOpName; path?: string; value?: unknown; hasValue: boolean } = { op: opName, hasValue };
  if (typeof path === 'string') out.path = path;
  if (given !== undefined) out.value = given.value;
  return out;
}
