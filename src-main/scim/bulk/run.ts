import { SCIM_URN } from '@shared/scim/urns';
import { ScimError, type ScimErrorBody } from '../errors';
import type { Circle } from './circles';
import { resolveBulkIds, type BulkPlan } from './plan';
import {
  BULK_ID_PREFIX,
  dataScope,
  isMalformed,
  type BulkMethod,
  type BulkOperation,
  type MalformedBulkOperation,
} from './request';

/**
 * Executing a bulk plan, as a loop the HTTP layer writes (RFC 7644 §3.7):
 *
 *   const run = startBulk(planBulk(parseBulkRequest(body, options)), { baseUrl });
 *   for (const step of run.steps()) {
 *     try { run.succeed(step, await execute(step)); } catch (e) { run.fail(step, e); }
 *   }
 *   return run.response();   // 200 with the BulkResponse body
 *
 * `steps()` yields only operations that can run, with every "bulkId:x" already replaced by the id
 * the defining POST produced; refused operations, operations whose referent failed, and the stop
 * after `failOnErrors` errors (RFC 7644 §3.7.3) are handled inside. State only, no I/O.
 */

/**
 * One operation ready to execute: the method, the target and the data with bulkIds resolved.
 * A circle (see circles.ts) adds steps of its own: `link` PATCHes in the references its POSTs
 * deferred, `undo` removes what the circle created when a step of it failed. (The router runs a
 * circle's steps in one transaction, and takes it back instead of running the undo steps.)
 */
export interface BulkStep {
  readonly operation: BulkOperation;
  readonly role: 'operation' | 'link' | 'undo';
  readonly method: BulkMethod;
  readonly resourceType: string;
  readonly endpoint: string;
  /** The target id (resolved); undefined for POST. */
  readonly id?: string;
  readonly data?: unknown;
  /** The If-Match the write is held to. */
  readonly version?: string;
}

/** What the service returned for a successful operation. */
export interface BulkOutcome {
  /** 200, 201, 204. */
  readonly status: number;
  /** The resource's id (required for POST: it resolves later "bulkId:..." references). */
  readonly id?: string;
  readonly location?: string;
  readonly version?: string;
  /** For GET: the resource (seed 003). */
  readonly response?: unknown;
}

/**
 * RFC 7644 §3.7.3: one operation of a BulkResponse; `status` is a string. `method` is missing only
 * for an operation that was sent without one.
 */
export interface BulkResponseOperation {
  method?: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

export interface BulkResponseBody {
  schemas: [typeof SCIM_URN.bulkResponse];
  Operations: BulkResponseOperation[];
}

export class BulkRun {
  private readonly ids = new Map<string, string>();
  /** bulkIds whose POST failed or was refused, so dependants report why. */
  private readonly failedIds = new Map<string, number>();
  private readonly results = new Map<number, BulkResponseOperation>();
  private errors = 0;
  private pending: BulkStep | undefined;
  /** How the step a circle yielded last went (circles decide their results only at their end). */
  private circleStep: { outcome: BulkOutcome } | { error: ScimError } | undefined;

  constructor(
    readonly plan: BulkPlan,
    private readonly baseUrl: string,
  ) {}

  /** True once failOnErrors errors were seen; later operations are not run nor reported. */
  get stopped(): boolean {
    const limit = this.plan.request.failOnErrors;
    return limit !== undefined && this.errors >= limit;
  }

  *steps(): Generator<BulkStep, void, void> {
    for (const op of this.plan.order) {
      if (this.stopped) return;
      if (isMalformed(op)) {
        this.recordUnreadable(op);
        continue;
      }
      const circle = this.plan.circles.get(op.index);
      if (circle) {
        if (op === circle.members[0]) yield* this.runCircle(circle);
        continue;
      }
      const refused = this.plan.refused.get(op.index);
      if (refused) {
        this.record(op, refused);
        continue;
      }
      const unresolved = this.unresolved(op, op.references);
      if (unresolved) {
        this.record(op, unresolved);
        continue;
      }
      yield* this.offer(this.stepFor(op));
    }
  }

  succeed(step: BulkStep, outcome: BulkOutcome): void {
    this.settle(step);
    if (this.plan.circles.has(step.operation.index)) {
      this.circleStep = { outcome };
      return;
    }
    const op = step.operation;
    if (op.method === 'POST' && op.bulkId !== undefined) {
      if (outcome.id === undefined) throw new Error(`BulkRun: POST ${op.bulkId} succeeded without an id`);
      this.ids.set(op.bulkId, outcome.id);
    }
    const out: BulkResponseOperation = { method: op.method, status: String(outcome.status) };
    if (op.bulkId !== undefined) out.bulkId = op.bulkId;
    if (outcome.version !== undefined) out.version = outcome.version;
    const location = outcome.location ?? this.targetOf(op);
    if (location !== undefined) out.location = location;
    if (outcome.response !== undefined) out.response = outcome.response;
    this.results.set(op.index, out);
  }

  /** Records a failed operation; anything but a ScimError is reported as a generic 500. */
  fail(step: BulkStep, error: unknown): void {
    this.settle(step);
    const scimError = error instanceof ScimError ? error : ScimError.internal();
    if (this.plan.circles.has(step.operation.index)) this.circleStep = { error: scimError };
    else this.record(step.operation, scimError);
  }

  /**
   * A circle whose steps all succeeded, whose writes then did not reach the disk (the transaction
   * they were made in failed as it was saved): each member fails with `error` instead of its 201.
   */
  failCircle(circle: Circle, error: ScimError): void {
    for (const op of circle.members) {
      this.ids.delete(op.bulkId as string);
      this.record(op, error);
    }
  }

  /** RFC 7644 §3.7.3: the BulkResponse, operations in request order; the HTTP status is 200. */
  response(): BulkResponseBody {
    const ops = [...this.results.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
    return { schemas: [SCIM_URN.bulkResponse], Operations: ops };
  }

  /**
   * The failed operations by their number in the request (from 1), with the response's entry of
   * each, in request order: the response's own positions skip the operations a stop after
   * `failOnErrors` left out.
   */
  failures(): { number: number; result: BulkResponseOperation }[] {
    return [...this.results.entries()]
      .filter(([, result]) => Number(result.status) >= 400)
      .sort(([a], [b]) => a - b)
      .map(([index, result]) => ({ number: index + 1, result }));
  }

  /** The ids the POSTs produced so far, by bulkId. */
  get resolvedIds(): ReadonlyMap<string, string> {
    return this.ids;
  }

  /** Yields a step and checks that the caller settled it. */
  private *offer(step: BulkStep): Generator<BulkStep, void, void> {
    this.pending = step;
    yield step;
    if (this.pending === step) {
      throw new Error(`BulkRun: operation ${step.operation.index + 1} was neither succeed()ed nor fail()ed`);
    }
  }

  /** The 409 for an operation whose references include one no POST has resolved (yet). */
  private unresolved(op: BulkOperation, references: readonly string[]): ScimError | undefined {
    const missing = references.find((ref) => !this.ids.has(ref));
    if (missing === undefined) return undefined;
    const by = this.failedIds.get(missing);
    return new ScimError(
      409,
      `Operation ${op.index + 1} refers to bulkId "${missing}", which could not be resolved` +
        (by === undefined ? '.' : `: operation ${by + 1} that defines it failed.`),
    );
  }

  /** Runs a circle's step and returns how it went. */
  private *circleRun(step: BulkStep): Generator<BulkStep, { outcome: BulkOutcome } | { error: ScimError }, void> {
    this.circleStep = undefined;
    yield* this.offer(step);
    return this.takeCircleStep();
  }

  private takeCircleStep(): { outcome: BulkOutcome } | { error: ScimError } {
    const settled = this.circleStep;
    if (!settled) throw new Error('BulkRun: a circle step was not settled');
    this.circleStep = undefined;
    return settled;
  }

  /**
   * A circle is all or nothing, as a single operation is: its POSTs run, then the PATCHes that add
   * what they deferred; if any of those fails, what the circle created is removed again and every
   * member reports an error (the one that failed its own).
   */
  private *runCircle(circle: Circle): Generator<BulkStep, void, void> {
    const inCircle = new Set(circle.members.map((op) => op.bulkId as string));
    const created: { op: BulkOperation; id: string; location?: string; version?: string }[] = [];
    // A member refused up front (a bulkId nothing defines) fails the circle before anything runs.
    const refused = circle.members.find((op) => this.plan.refused.has(op.index));
    let failure: { op: BulkOperation; error: ScimError } | undefined = refused && {
      op: refused,
      error: this.plan.refused.get(refused.index) as ScimError,
    };
    for (const op of failure ? [] : circle.members) {
      const deferral = circle.deferrals.get(op.index);
      // Backward references inside the circle are resolved by now; forward ones are deferred.
      const outside = op.references.filter((ref) => !inCircle.has(ref) || this.ids.has(ref));
      const refusal = this.unresolved(op, outside);
      if (refusal) {
        failure = { op, error: refusal };
        break;
      }
      const result = yield* this.circleRun(this.stepFor(op, deferral ? deferral.data : op.data));
      if ('error' in result) {
        failure = { op, error: result.error };
        break;
      }
      const { id, location, version } = result.outcome;
      if (id === undefined) throw new Error(`BulkRun: POST ${op.bulkId} succeeded without an id`);
      this.ids.set(op.bulkId as string, id);
      created.push({
        op,
        id,
        ...(location === undefined ? {} : { location }),
        ...(version === undefined ? {} : { version }),
      });
    }
    for (const entry of failure ? [] : created) {
      const deferral = circle.deferrals.get(entry.op.index);
      if (!deferral) continue;
      const result = yield* this.circleRun(
        // Not held to the version the POST made: a 412 here took back the whole circle, another
        // client's acknowledged write to the new resource with it. Adding members commutes with such
        // a write; a manager set here is the one the request asked for.
        stepOnCreated(entry, 'link', { data: resolveBulkIds(deferral.link, this.ids, 'patchRequest') }),
      );
      if ('error' in result) {
        const { status, scimType, message } = result.error;
        failure = {
          op: entry.op,
          error: new ScimError(
            status,
            `Operation ${entry.op.index + 1} was created, but adding the references it waited for in its ` +
              `circular bulkId reference failed: ${message} It was removed again, with the rest of the circle.`,
            scimType,
          ),
        };
        break;
      }
      if (result.outcome.version !== undefined) entry.version = result.outcome.version;
    }
    if (!failure) {
      for (const { op, location, version } of created) {
        const out: BulkResponseOperation = { method: op.method, bulkId: op.bulkId as string, status: '201' };
        if (version !== undefined) out.version = version;
        if (location !== undefined) out.location = location;
        this.results.set(op.index, out);
      }
      return;
    }
    const leftovers = new Map<number, string>();
    for (const entry of created.reverse()) {
      this.ids.delete(entry.op.bulkId as string);
      // No If-Match: removing a member of the circle gives the groups listing it new versions.
      const result = yield* this.circleRun(stepOnCreated(entry, 'undo', {}));
      if ('error' in result) {
        leftovers.set(
          entry.op.index,
          ` Its resource ${entry.location ?? entry.id} could not be removed: ${result.error.message}`,
        );
      }
    }
    for (const op of circle.members) {
      const own = op === failure.op;
      const error = own
        ? failure.error
        : new ScimError(
            409,
            `Operation ${op.index + 1} is part of a circular bulkId reference with operation ` +
              `${failure.op.index + 1}, which failed; nothing the circle created was kept.`,
          );
      const leftover = leftovers.get(op.index);
      this.record(op, leftover ? new ScimError(error.status, error.message + leftover, error.scimType) : error);
    }
  }

  private settle(step: BulkStep): void {
    if (this.pending !== step) throw new Error('BulkRun: settle the step steps() yielded last, once');
    this.pending = undefined;
  }

  private stepFor(op: BulkOperation, data: unknown = op.data): BulkStep {
    const step: {
      operation: BulkOperation;
      role: 'operation';
      method: BulkMethod;
      resourceType: string;
      endpoint: string;
      id?: string;
      data?: unknown;
      version?: string;
    } = { operation: op, role: 'operation', method: op.method, resourceType: op.resourceType, endpoint: op.endpoint };
    if (op.id !== undefined) {
      step.id = op.id.startsWith(BULK_ID_PREFIX) ? (this.ids.get(op.id.slice(BULK_ID_PREFIX.length)) ?? op.id) : op.id;
    }
    if (data !== undefined) {
      step.data = op.references.length > 0 ? resolveBulkIds(data, this.ids, dataScope(op.method)) : data;
    }
    if (op.version !== undefined) step.version = op.version;
    return step;
  }

  private record(op: BulkOperation, error: ScimError): void {
    this.errors++;
    if (op.method === 'POST' && op.bulkId !== undefined) this.failedIds.set(op.bulkId, op.index);
    const body: ScimErrorBody = error.toBody();
    const out: BulkResponseOperation = { method: op.method, status: body.status, response: body };
    if (op.bulkId !== undefined) out.bulkId = op.bulkId;
    // RFC 7644 §3.7.3: `location` is required "except in the event of a POST failure".
    const location = this.targetOf(op);
    if (location !== undefined) out.location = location;
    this.results.set(op.index, out);
  }

  /** An operation that could not be read: answered with what it was sent with, as far as it can be told. */
  private recordUnreadable(op: MalformedBulkOperation): void {
    this.errors++;
    const body: ScimErrorBody = op.error.toBody();
    const out: BulkResponseOperation = { status: body.status, response: body };
    if (op.method !== undefined) out.method = op.method;
    if (op.bulkId !== undefined) out.bulkId = op.bulkId;
    const location = op.target && this.locationOf(op.target.endpoint, op.target.id);
    if (location !== undefined) out.location = location;
    this.results.set(op.index, out);
  }

  /**
   * The URI an operation on an existing resource names, with its bulkId resolved; undefined for a
   * POST, and for a "bulkId:x" target whose POST did not run (no resource has that URI).
   */
  private targetOf(op: BulkOperation): string | undefined {
    if (op.method === 'POST' || op.id === undefined) return undefined;
    return this.locationOf(op.endpoint, op.id);
  }

  private locationOf(endpoint: string, pathId: string): string | undefined {
    const id = pathId.startsWith(BULK_ID_PREFIX) ? this.ids.get(pathId.slice(BULK_ID_PREFIX.length)) : pathId;
    return id === undefined ? undefined : `${this.baseUrl}${endpoint}/${encodeURIComponent(id)}`;
  }
}

/** A circle's own step on a resource one of its POSTs created: a link PATCH or an undo DELETE. */
function stepOnCreated(
  entry: { op: BulkOperation; id: string },
  role: 'link' | 'undo',
  extra: { data?: unknown; version?: string },
): BulkStep {
  const { op, id } = entry;
  const method = role === 'link' ? 'PATCH' : 'DELETE';
  return { operation: op, role, method, resourceType: op.resourceType, endpoint: op.endpoint, id, ...extra };
}

/** `baseUrl` is the SCIM base the request came in on (no trailing slash), for each result's location. */
export function startBulk(plan: BulkPlan, options: { baseUrl: string }): BulkRun {
  return new BulkRun(plan, options.baseUrl);
}
