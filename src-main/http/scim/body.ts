import type { Context } from 'koa';
import { ScimError } from '../../scim/errors';
import { acceptUntypedBody, type CompatContext } from '../../scim/compat';
import { hasBody, JsonBodyError, keepRefusedBody, readJsonBody } from '../json-body';
import { answerJsonText, SCIM_JSON_TYPE } from '../json-text';

/**
 * Reads a SCIM request body; the three ways it can fail become RFC 7644 §3.12 errors. A body
 * without a Content-Type is read as JSON where the tenant's `contentTypeOptional` flag is on.
 */
export async function readScimBody(ctx: Context, compat: CompatContext, limit?: number): Promise<unknown> {
  const untyped = !ctx.request.type && hasBody(ctx);
  if (untyped) {
    try {
      acceptUntypedBody(compat);
    } catch (refusal) {
      // Refused for its missing media type (strict, entra), the body is still what the IdP sent.
      await keepRefusedBody(ctx, limit);
      throw refusal;
    }
  }
  try {
    const body = await readJsonBody(ctx, limit, { untypedIsJson: untyped });
    if (body === undefined) throw ScimError.badRequest('invalidSyntax', 'The request has no body.');
    return body;
  } catch (error) {
    if (!(error instanceof JsonBodyError)) throw error;
    if (error.problem === 'too_large') throw new ScimError(413, error.message);
    // RFC 7644 §3.12 has no 415; a body the server cannot read is invalidSyntax.
    throw ScimError.badRequest('invalidSyntax', error.message);
  }
}

export function sendScim(ctx: Context, status: number, body: unknown, etag?: string): void {
  ctx.status = status;
  if (etag) ctx.set('ETag', etag);
  let json: string;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    // Past ~512 MiB a string cannot hold the answer (a page of very large resources).
    if (!(error instanceof RangeError)) throw error;
    throw ScimError.badRequest(
      'tooMany',
      'The answer is too large to send; ask for fewer resources (count) or fewer attributes (attributes).',
    );
  }
  answerJsonText(ctx, SCIM_JSON_TYPE, body, json);
}
