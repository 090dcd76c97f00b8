export { createRequestLog, DEFAULT_REQUEST_LOG_LIMITS } from './request-log';
export { startRequestLogThread, RequestLogUnavailableError } from './thread';
export type {
  RequestLog,
  RequestLogLimits,
  RequestLogListQuery,
  RequestLogOptions,
  RequestLogStats,
  TenantLogLimits,
} from './request-log';
export type { RequestLogInput } from './entry';
export type { FeedFilter, RequestLogListener } from './feed';
