import { z } from 'zod';
import { describeText, idFromLocation } from '../check/http-client';

export { describeText };

/**
 * Reading what a server answered to one create, whether it came as a plain POST response or as one
 * operation of a BulkResponse — defensively: a server that answers oddly yields counted failures
 * with a message, never a crash.
 */

export interface Outcome {
  readonly ok: boolean;
  readonly id?: string;
  /** For failures: "409 uniqueness" — what failures are grouped by in the summary. */
  readonly kind?: string;
  readonly detail?: string;
}

const errorBody = z.looseObject({ scimType: z.string().optional(), detail: z.string().optional() });
// An id a server gives as a number is an id all the same (it is put in paths as text).
const created = z.looseObject({ id: z.union([z.string().min(1), z.number().transform(String)]) });

export function readCreated(status: number, body: unknown, location?: string): Outcome {
  if (status < 200 || status >= 300) return failure(status, body);
  const parsed = created.safeParse(body);
  if (parsed.success) return { ok: true, id: parsed.data.id };
  const fromLocation = location ? idFromLocation(location) : undefined;
  if (fromLocation) return { ok: true, id: fromLocation };
  return { ok: false, kind: `${status} without an id`, detail: 'the answer names no id for the new resource' };
}

export function failure(status: number, body: unknown): Outcome {
  const parsed = errorBody.safeParse(body);
  const scimType = parsed.success ? parsed.data.scimType : undefined;
  const detail = parsed.success ? parsed.data.detail : typeof body === 'string' ? describeText(body) : undefined;
  return { ok: false, kind: scimType ? `${status} ${scimType}` : String(status), ...(detail ? { detail } : {}) };
}

/** RFC 7644 §3.7.3: `status` is a string ("201"); early drafts and some servers send {code: 201}. */
const bulkOperation = z.looseObject({
  bulkId: z.string().optional(),
  status: z.union([z.string(), z.number(), z.looseObject({ code: z.union([z.string(), z.number()]) })]),
  location: z.string().optional(),
  response: z.unknown().optional(),
});
const bulkResponse = z.looseObject({ Operations: z.array(z.unknown()) });

/** Outcomes by bulkId; operations the response leaves out are simply absent from the map. */
export function readBulkResponse(body: unknown): Map<string, Outcome> | undefined {
  const parsed = bulkResponse.safeParse(body);
  if (!parsed.success) return undefined;
  const outcomes = new Map<string, Outcome>();
  for (const raw of parsed.data.Operations) {
    const op = bulkOperation.safeParse(raw);
    if (!op.success || op.data.bulkId === undefined) continue;
    const rawStatus = typeof op.data.status === 'object' ? op.data.status.code : op.data.status;
    const status = Number.parseInt(String(rawStatus), 10);
    outcomes.set(
      op.data.bulkId,
      Number.isFinite(status) ? readCreated(status, op.data.response, op.data.location) : failure(0, op.data.response),
    );
  }
  return outcomes;
}

/** Failures grouped by kind, with one example detail each, for a readable summary. */
export class FailureLog {
  readonly kinds = new Map<string, { count: number; example: string }>();
  total = 0;

  add(what: string, outcome: Outcome): void {
    this.total += 1;
    const key = `${what}: ${outcome.kind ?? 'failed'}`;
    const entry = this.kinds.get(key);
    if (entry) entry.count += 1;
    else this.kinds.set(key, { count: 1, example: outcome.detail ?? '' });
  }

  list(): { readonly kind: string; readonly count: number; readonly example: string }[] {
    return [...this.kinds].map(([kind, { count, example }]) => ({ kind, count, example }));
  }
}
