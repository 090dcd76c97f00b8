import type { Context } from 'koa';
import { SCIM_URN } from '@shared/scim/urns';
import type { Logger } from '../../services/admin-dispatch';
import type { ListPage, ScimRequestContext } from '../../services/identities/identity-service';
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
    answer.head = head;
    // In listResponse's order, so the text is what the page built whole would be.
    yield `${JSON.stringify(envelope).slice(0, -1)},"Resources":[`;
    for (const { resource, members } of page.parts) {
      // Read as the client takes it, so a revocation meanwhile stops the reading at once.
      caller.stillAuthorized?.();
      const separator = answer.records > 0 ? ',' : '';
      const json = JSON.stringify(resource);
      if (members === undefined) {
        if (headChars < LOGGED_BODY_BYTES) {
          head.Resources.push(resource);
          headChars += json.length;
        }
        // Counted before its last part is handed on: a batch sent with it counts it (sendStreamed).
        answer.records += 1;
        yield `${separator}${json}`;
        continue;
      }
      // Its members in slices, where the resource built whole has them: before `meta`, which the
      // projection puts last.
      const { meta, ...rest } = resource;
      const opening = JSON.stringify(rest).slice(0, -1);
      yield `${separator}${opening}${opening.length > 1 ? ',' : ''}"members":[`;
      let sent = 0;
      for (const slice of members) {
        caller.stillAuthorized?.();
        if (sent === 0 && headChars < LOGGED_BODY_BYTES) {
          head.Resources.push({ ...rest, members: slice, ...(meta === undefined ? {} : { meta }) });
          headChars += opening.length + JSON.stringify(slice).length;
        }
        yield `${sent > 0 ? ',' : ''}${JSON.stringify(slice).slice(1, -1)}`;
        sent += slice.length;
      }
      answer.records += 1;
      yield `]${meta === undefined ? '' : `,"meta":${JSON.stringify(meta)}`}}`;
    }
    yield ']}';
  }
  ctx.status = 200;
  ctx.type = SCIM_JSON_TYPE;
  sendStreamed(
    ctx,
    text,
    (error) =>
      stoppedByDesign(error)
        ? log.info(`SCIM list stopped after its answer began: ${error.message}`)
        : log.error('SCIM list failed after its answer began:', error),
    durable,
  );
}
