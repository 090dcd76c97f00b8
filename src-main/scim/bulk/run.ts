import { SCIM_URN } from '@shared/scim/urns';
import { ScimError, type ScimErrorBody } from '../errors';
import { resolveBulkIds, type BulkPlan } from './plan';
import { BULK_ID_PREFIX, type BulkMethod, type BulkOperation } from './request';

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

/** One operation ready to execute: the method, the target and the data with bulkIds resolved. */
export interface BulkStep {
  readonly operation: BulkOperation;
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

/** RFC 7644 §3.7.3: one operation of a BulkResponse; `status` is a string. */
export interface BulkResponseOperation {
  method: BulkMethod;
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
      const refused = this.plan.refused.get(op.index);
      if (refused) {
        this.record(op, refused);
        continue;
      }
      const missing = op.references.find((ref) => !this.ids.has(ref));
      if (missing !== undefined) {
        const by = this.failedIds.get(missing);
        this.record(
          op,
          new ScimError(
            409,
            `Operation ${op.index + 1} refers to bulkId "${missing}", which could not be resolved` +
              (by === undefined ? '.' : `: operation ${by + 1} that defines it failed.`),
          ),
        );
        continue;
      }
      const step = this.stepFor(op);
      this.pending = step;
      yield step;
      if (this.pending === step) {
        throw new Error(`BulkRun: operation ${op.index + 1} was neither succeed()ed nor fail()ed`);
      }
    }
  }

  succeed(step: BulkStep, outcome: BulkOutcome): void {
    this.settle(step);
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
    this.record(step.operation, error instanceof ScimError ? error : ScimError.internal());
  }

  /** RFC 7644 §3.7.3: the BulkResponse, operations in request order; the HTTP status is 200. */
  response(): BulkResponseBody {
    const ops = [...this.results.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
    return { schemas: [SCIM_URN.bulkResponse], Operations: ops };
  }

  /** The ids the POSTs produced so far, by bulkId. */
  get resolvedIds(): ReadonlyMap<string, string> {
    return this.ids;
  }

  private settle(step: BulkStep): void {
    if (this.pending !== step) throw new Error('BulkRun: settle the step steps() yielded last, once');
    this.pending = undefined;
  }

  private stepFor(op: BulkOperation): BulkStep {
    const step: {
      operation: BulkOperation;
      method: BulkMethod;
      resourceType: string;
      endpoint: string;
      id?: string;
      data?: unknown;
      version?: string;
    } = { operation: op, method: op.method, resourceType: op.resourceType, endpoint: op.endpoint };
    if (op.id !== undefined) {
      step.id = op.id.startsWith(BULK_ID_PREFIX) ? (this.ids.get(op.id.slice(BULK_ID_PREFIX.length)) ?? op.id) : op.id;
    }
    if (op.data !== undefined) step.data = op.references.length > 0 ? resolveBulkIds(op.data, this.ids) : op.data;
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

  /**
   * The URI an operation on an existing resource names, with its bulkId resolved; undefined for a
   * POST, and for a "bulkId:x" target whose POST did not run (no resource has that URI).
   */
  private targetOf(op: BulkOperation): string | undefined {
    if (op.method === 'POST' || op.id === undefined) return undefined;
    const id = op.id.startsWith(BULK_ID_PREFIX) ? this.ids.get(op.id.slice(BULK_ID_PREFIX.length)) : op.id;
    return id === undefined ? undefined : `${this.baseUrl}${op.endpoint}/${encodeURIComponent(id)}`;
  }
}

/** `baseUrl` is the SCIM base the request came in on (no trailing slash), for each result's location. */
export function startBulk(plan: BulkPlan, options: { baseUrl: string }): BulkRun {
  return new BulkRun(plan, options.baseUrl);
}
