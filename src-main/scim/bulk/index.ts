/** Bulk planning (RFC 7644 §3.7): validate, order, execute as a loop, build the BulkResponse. */
export {
  BULK_METHODS,
  DEFAULT_BULK_LIMITS,
  checkBulkPayloadSize,
  isMalformed,
  parseBulkRequest,
  type BulkEntry,
  type BulkLimits,
  type BulkMethod,
  type BulkOperation,
  type BulkRequest,
  type BulkRequestOptions,
  type MalformedBulkOperation,
} from './request';
export { planBulk, resolveBulkIds, type BulkPlan } from './plan';
export type { Circle } from './circles';
export {
  BulkRun,
  startBulk,
  type BulkOutcome,
  type BulkResponseBody,
  type BulkResponseOperation,
  type BulkStep,
} from './run';
