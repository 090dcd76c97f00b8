import type { Context } from 'koa';
import { SCIM_CONTENT_TYPE } from '@shared/scim/urns';
import type { CaptureState } from './capture';

export const SCIM_JSON_TYPE = `${SCIM_CONTENT_TYPE}; charset=utf-8`;
export const ADMIN_JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Answers with JSON text serialized here, once. Koa sends a string body with its Content-Length
 * set at assignment (an object's is set only as it is written, after the request log took the
 * headers), and the capture hands this same string to the log's thread instead of cloning the
 * object (see services/request-log/thread.ts).
 */
export function answerJsonText(ctx: Context, type: string, value: unknown, json: string): void {
  ctx.type = type;
  ctx.body = json;
  // The capture tells the log this exact text is a JSON object, if it is still the body then, and
  // reads an error's message from the value rather than parsing the text back.
  if (typeof value === 'object' && value !== null)
    Object.assign(ctx.state as CaptureState, { responseJson: json, responseValue: value });
}

/** `value` as the JSON answer; see answerJsonText. */
export function answerJson(ctx: Context, type: string, value: unknown): void {
  answerJsonText(ctx, type, value, JSON.stringify(value));
}
