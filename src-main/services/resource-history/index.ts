export { createResourceHistory, DEFAULT_HISTORY_LIMITS } from './resource-history';
export type {
  HistoryMeta,
  ResourceHistory,
  ResourceHistoryLimits,
  ResourceHistoryOptions,
  ResourceHistoryStats,
} from './resource-history';
export { applyChanges, changedAttributes, diffResources } from './diff';
export type { Change, Json, JsonObject } from './diff';
