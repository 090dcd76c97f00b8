import { SCIM_URN } from '@shared/scim/urns';
import { matchSubset, valueAt } from '../expectations';
import { fillJson } from '../templates';
import type { CustomCheck, Expectation, Json, Level } from '../types';

/** Building blocks the profiles share. */

export const PATCH_OP = SCIM_URN.patchOp;
export const USER = SCIM_URN.user;
export const GROUP = SCIM_URN.group;
export const ENTERPRISE = SCIM_URN.enterpriseUser;

export function patch(...operations: Json[]): Json {
  return { schemas: [PATCH_OP], Operations: operations };
}

/**
 * RFC 7644 §3.5.2: a PATCH may answer 200 with the resource or 204 without a body. When a body
 * comes back it must show the change; a follow-up GET step checks it either way.
 */
export function reflects(match: Json, level: Level = 'required'): CustomCheck {
  return {
    level,
    describe: 'the returned resource does not show the change',
    test: (body, vars) => {
      if (body === undefined || body === '') return undefined;
      const problems = matchSubset(fillJson(match, vars), body, '');
      return problems.length > 0 ? problems.join('; ') : undefined;
    },
  };
}

/**
 * Whether a group's members list the id in `vars[variable]`, for the checks that a member op changed
 * only the member it named: a server whose add replaced the whole list, or whose remove emptied it,
 * passed every step while a group held one member at a time, and wipes memberships under a real IdP.
 */
export function lists(variable: string, listed: boolean, describe: string): CustomCheck {
  return {
    level: 'required',
    describe,
    test: (body, vars) => {
      const members = valueAt(body, 'members');
      const id = vars[variable];
      const found = Array.isArray(members) && members.some((member) => valueAt(member, 'value') === id);
      return found === listed ? undefined : `members: ${JSON.stringify(members ?? [])}`;
    },
  };
}

/**
 * What a group read back after a member's removal must show: that member gone, and the member the
 * group held before it (`kept`) still there, since a remove that empties the list wipes memberships.
 */
export function removedOnly(removed: string, kept: string): Expectation {
  return {
    status: 200,
    checks: [
      lists(removed, false, 'the removed member is still listed'),
      lists(kept, true, 'the member that was not removed is gone too'),
    ],
  };
}

function resources(body: unknown): unknown[] | undefined {
  const value = valueAt(body, 'Resources');
  return Array.isArray(value) ? value : undefined;
}

/** RFC 7644 §3.12's `detail` ("a detailed human-readable message"), which Okta's spec tests require. */
export function explains(level: Level = 'required'): CustomCheck {
  return {
    level,
    describe: 'the error body has no detail saying what was wrong',
    test: (body) => {
      const detail = valueAt(body, 'detail');
      return typeof detail === 'string' && detail.trim() !== '' ? undefined : `detail is ${JSON.stringify(detail)}`;
    },
  };
}

/** RFC 7644 §3.4.2.4: "the service provider MUST NOT return more results than specified". */
export function atMost(count: number, level: Level = 'required'): CustomCheck {
  return {
    level,
    describe: `more than ${count} resource(s) returned for count=${count}`,
    test: (body) => {
      const length = resources(body)?.length ?? 0;
      return length > count ? `${length} returned` : undefined;
    },
  };
}

export function totalAtLeast(min: number, level: Level = 'required'): CustomCheck {
  return {
    level,
    describe: `totalResults should be at least ${min}`,
    test: (body) => {
      const total = valueAt(body, 'totalResults');
      return typeof total === 'number' && total >= min ? undefined : `got ${JSON.stringify(total)}`;
    },
  };
}

/** RFC 7644 §3.4.2: startIndex and itemsPerPage are REQUIRED when a page is partial. */
export function pagingFields(level: Level = 'required'): CustomCheck {
  return {
    level,
    describe: 'a ListResponse page needs totalResults, startIndex, itemsPerPage and Resources',
    test: (body) => {
      const missing = ['totalResults', 'startIndex', 'itemsPerPage', 'Resources'].filter(
        (name) => valueAt(body, name) === undefined,
      );
      return missing.length > 0 ? `missing ${missing.join(', ')}` : undefined;
    },
  };
}

/** `/ResourceTypes` and `/Schemas`: a ListResponse (RFC 7644 §4), though some servers send an array. */
export function discoveryList(idField: string, wanted: string, level: Level = 'required'): CustomCheck {
  return {
    level,
    describe: `${wanted} is not listed`,
    test: (body) => {
      const items = Array.isArray(body) ? body : (resources(body) ?? []);
      return items.some((item) => valueAt(item, idField) === wanted) ? undefined : 'not found';
    },
  };
}

export function differsFrom(variable: string, path: string, level: Level = 'recommended'): CustomCheck {
  return {
    level,
    describe: 'the second page repeats the first page (pages need a stable order)',
    test: (body, vars) => {
      const value = valueAt(body, path);
      return value !== undefined && value === vars[variable] ? `both pages hold ${String(value)}` : undefined;
    },
  };
}
