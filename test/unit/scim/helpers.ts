import { coreSchemaRegistry, requireResource } from '@shared/scim/registry';
import { ScimSyntaxError } from '../../../src-main/scim/filter/syntax-error';
import type { ResourceData } from '../../../src-main/scim/values';

export const registry = coreSchemaRegistry();
export const userSchema = requireResource(registry, 'User');
export const groupSchema = requireResource(registry, 'Group');

/** Runs `fn` and returns the ScimSyntaxError it throws; fails the test if it throws anything else or nothing. */
export function syntaxErrorOf(fn: () => unknown): ScimSyntaxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ScimSyntaxError) return e;
    throw new Error(`expected ScimSyntaxError, got ${String(e)}`);
  }
  throw new Error('expected ScimSyntaxError, nothing was thrown');
}

export function ids(resources: readonly ResourceData[]): string[] {
  return resources.map((r) => String(r['id']));
}
