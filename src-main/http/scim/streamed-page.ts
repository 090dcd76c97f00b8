import type { Context } from 'koa';
import { SCIM_URN } from '@shared/scim/urns';
import type { Logger } from '../../services/admin-dispatch';
import type {
  ListPage,
  ResourceAnswer,
  ResourceParts,
  ScimRequestContext,
} from '../../services/identities/identity-service';
import type { ProjectedResource } from '../../scim/projection';
import { DEFAULT_BODY_LIMIT as LOGGED_BODY_BYTES } from '../../services/request-log/redact';
import { SCIM_JSON_TYPE } from '../json-text';
import { sendStreamed, stoppedByDesign, type StreamedAnswer } from '../streamed-answer';

/**
 * A ListResponse sent resource by resource, the same text `sendScim` would send for it, for a page
 * too large to build at once (groups with their members: a page of ten groups of 50,000 members
 * is 105 MB, and built whole it held every tenant's requests 2 s, and its memory). A large group
 * comes in parts (ListPage.parts): the group, then its members a slice at a time. Between batches
 * the event loop reads other requests (see sendStreamed), and only about one slice's text is held
 * for a client that reads slowly.
 *
 * A failure once the answer has begun cuts it (the client's JSON parser sees the end): a token
 * revoked, a tenant deleted, the store failing. The request log names it, and keeps the page's
 * envelope and first resources, redacted and cut as a large answer built whole is.
 */
export function sendPageStreamed(
  ctx: Context,
  page: ListPage,
  caller: ScimRequestContext,
  log: Logger,
  durable: () => Promise<void>,
): void {
  function* text(answer: StreamedAnswer): Generator<string> {
    const envelope = {
      schemas: [SCIM_URN.listResponse],
      totalResults: page.totalResults,
      startIndex: page.startIndex,
      itemsPerPage: page.itemsPerPage,
    };
    // The log's copy: the envelope and the first resources, up to about what it keeps of a body.
    const head = { ...envelope, Resources: [] as ProjectedResource[] };
    let headChars = 0;
    const keep = (value: ProjectedResource, chars: number) => {
      if (headChars >= LOGGED_BODY_BYTES) return;
      head.Resources.push(value);
      headChars += chars;
    };
    answer.head = head;
    // In listResponse's order, so the text is what the page built whole would be.
    yield `${JSON.stringify(envelope).slice(0, -1)},"Resources":[`;
    for (const parts of page.parts) {
      // Read as the client takes it, so a revocation meanwhile stops the reading at once.
      caller.stillAuthorized?.();
      const separator = answer.records > 0 ? ',' : '';
      let pending: string | undefined;
      for (const chunk of partsText(parts, caller, keep)) {
        if (pending !== undefined) yield pending;
        pending = pending === undefined ? `${separator}${chunk}` : chunk;
      }
      // Counted before its last part is handed on: a batch sent with it counts it (sendStreamed).
      answer.records += 1;
      yield pending ?? '';
    }
    yield ']}';
  }
  ctx.status = 200;
  ctx.type = SCIM_JSON_TYPE;
  sendStreamed(ctx, text, onFailure(log, 'SCIM list'), durable);
}

/**
 * One resource answered (GET, or a write's answer) whose members come in slices (ResourceAnswer):
 * the same text as built whole, with its ETag, sent as its members are presented.
 */
export function sendResourceStreamed(
  ctx: Context,
  status: number,
  answer: ResourceAnswer,
  /**
   * The caller, checked between slices, for a read; none for a write's answer, which tells what an
   * authorized write did (and, once a later batch failed, the store refuses the token's check).
   */
  reader: ScimRequestContext | undefined,
  log: Logger,
  durable: () => Promise<void>,
): void {
  function* text(streamed: StreamedAnswer): Generator<string> {
    let pending: string | undefined;
    for (const chunk of partsText(answer, reader ?? {}, (value) => (streamed.head = value))) {
      if (pending !== undefined) yield pending;
      pending = chunk;
    }
    streamed.records = 1;
    yield pending ?? '';
  }
  ctx.status = status;
  ctx.set('ETag', answer.version);
  ctx.type = SCIM_JSON_TYPE;
  sendStreamed(ctx, text, onFailure(log, 'SCIM answer'), durable);
}

/**
 * The JSON text of a resource given in parts, as JSON.stringify writes the whole resource: its
 * members where the projection has them, before `meta`, which it puts last. `keep` is told the
 * resource as the request log keeps it (with its first slice of members), and its size.
 */
export function* partsText(
  { resource, members }: ResourceParts,
  caller: Pick<ScimRequestContext, 'stillAuthorized'>,
  keep: (value: ProjectedResource, chars: number) => void,
): Generator<string> {
  if (members === undefined) {
    const json = JSON.stringify(resource);
    keep(resource, json.length);
    yield json;
    return;
  }
  const { meta, ...rest } = resource;
  const opening = JSON.stringify(rest).slice(0, -1);
  // Whether a member is written yet: `"members":[` waits for the first, since a group whose members
  // were all deleted while it streamed has none, and the projection leaves an empty list out.
  let sent = false;
  yield opening;
  for (const slice of members) {
    caller.stillAuthorized?.();
    const json = JSON.stringify(slice);
    if (!sent) keep({ ...rest, members: slice, ...(meta === undefined ? {} : { meta }) }, opening.length + json.length);
    yield `${sent ? ',' : `${opening.length > 1 ? ',' : ''}"members":[`}${json.slice(1, -1)}`;
    sent = true;
  }
  if (!sent) keep(resource, opening.length);
  const comma = sent || opening.length > 1 ? ',' : '';
  yield `${sent ? ']' : ''}${meta === undefined ? '' : `${comma}"meta":${JSON.stringify(meta)}`}}`;
}

function onFailure(log: Logger, what: string): (error: unknown) => void {
  return (error) =>
    stoppedByDesign(error)
      ? log.info(`${what} stopped after its answer began: ${error.message}`)
      : log.error(`${what} failed after its answer began:`, error);
}
