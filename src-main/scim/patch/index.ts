/** The PATCH engine's public surface (RFC 7644 §3.5.2); see engine.ts for the design. */
export { applyPatch, type FilterView, type PatchOptions } from './engine';
export { parsePatchRequest, MAX_PATCH_OPERATIONS } from './request';
export type { AttributeChange, IgnoredTarget, PatchOpName, PatchOperation, PatchResult } from './types';
