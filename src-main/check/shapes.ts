import { z } from 'zod';
import { SCIM_URN } from '@shared/scim/urns';

/**
 * What the checker relies on in a server's answers, parsed defensively: a body that does not fit
 * is a finding on that step, never an exception. Shapes are loose (`looseObject`) because servers
 * add attributes freely; only what RFC 7643/7644 require is demanded.
 */

/** RFC 7644 §3.1: a created or fetched resource carries its server-assigned `id`. */
export const resourceShape = z.looseObject({ id: z.string().min(1) });

/** RFC 7644 §3.4.2: totalResults is REQUIRED; Resources when there are results on the page. */
export const listShape = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCIM_URN.listResponse), {
    message: `schemas must contain ${SCIM_URN.listResponse}`,
  }),
  totalResults: z.number().int().nonnegative(),
  Resources: z.array(z.looseObject({})).optional(),
  startIndex: z.number().int().optional(),
  itemsPerPage: z.number().int().nonnegative().optional(),
});

/** RFC 7644 §3.12: the Error schema, `status` as a string. */
export const errorShape = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCIM_URN.error), {
    message: `schemas must contain ${SCIM_URN.error}`,
  }),
  status: z.string(),
  scimType: z.string().optional(),
  detail: z.string().optional(),
});

/** RFC 7643 §5: the features a client plans around. */
export const serviceProviderConfigShape = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCIM_URN.serviceProviderConfig), {
    message: `schemas must contain ${SCIM_URN.serviceProviderConfig}`,
  }),
  patch: z.looseObject({ supported: z.boolean() }),
  bulk: z.looseObject({
    supported: z.boolean(),
    maxOperations: z.number().int().optional(),
    maxPayloadSize: z.number().int().optional(),
  }),
  filter: z.looseObject({ supported: z.boolean(), maxResults: z.number().int().optional() }),
  changePassword: z.looseObject({ supported: z.boolean() }),
  sort: z.looseObject({ supported: z.boolean() }),
  etag: z.looseObject({ supported: z.boolean() }),
  authenticationSchemes: z.array(z.looseObject({})),
});

/** zod's issues as one line a report can show. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 4)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}
