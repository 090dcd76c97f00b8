import type { Context } from 'koa';
import { SCIM_URN } from '@shared/scim/urns';
import type { Logger } from '../../services/admin-dispatch';
import type { ListPage, ScimRequestContext } from '../../services/identities/identity-service';
import { DEFAULT_BODY_LIMIT as LOGGED_BODY_BYTES } from '../../services/request-log/redact';
import { SCIM_JSON_TYPE } from '../json-text';
import { sendStreamed, stoppedByDesign, type StreamedAnswer } from '../streamed-answer';

/**
 * A ListResponse sent resource by resource, the same text `sendScim` would send for it, for a page
 * too large to build at once (groups with their members: a page of ten groups of 50,000 members
 * is 105 MB, and built whole it held every tenant's requests 2 s, and its memory). Between
 * resources the event loop reads other requests (see sendStreamed), and only about one resource's
 * text is held for a client that reads slowly.
 *
 * A failure once the answer has begun cuts it (the client's JSON parser sees the end): a token
 * revoked, a tenant deleted, the store failing. The request log names it and keeps the answer's
 * head, as it keeps a large answer's.
 */
export function sendPageStreamed(
  ctx: Context,
  page: ListPage,
  caller: ScimRequestContext,
  log: Logger,
  durable: () => Promise<void>,
): void {
  function* text(answer: StreamedAnswer): Generator<string> {
    // In listResponse's order, so the text is what the page built whole would be.
    yield (
      `{"schemas":${JSON.stringify([SCIM_URN.listResponse])},"totalResults":${page.totalResults},` +
      `"startIndex":${page.startIndex},"itemsPerPage":${page.itemsPerPage},"Resources":[`
    );
    for (const resource of page.resources) {
      // Read as the client takes it, so a revocation meanwhile stops the reading at once.
      caller.stillAuthorized?.();
      yield `${answer.records > 0 ? ',' : ''}${JSON.stringify(resource)}`;
      answer.records += 1;
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
    LOGGED_BODY_BYTES,
  );
}
