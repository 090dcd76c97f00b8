import type { z } from 'zod';
import type { AdminErrorCode } from './errors';
import type { AdminOperationName } from './contract-ops';
import { PageQuery, pageOf } from './paging';
import { Tenant } from './tenant';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * One admin operation, declared once. The HTTP admin routes, the IPC handlers, the preload's
 * allow-list and the renderer's client are all derived from these rows.
 */
export interface AdminOperation<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** Relative to /api/v1/admin; `:name` segments are filled from the input's field of that name. */
  path: string;
  /** HTTP status on success. */
  status: 200 | 201 | 204;
  input: I;
  output: O;
  /** The errors this operation can answer besides validation_failed/unauthorized/forbidden. */
  errors: readonly AdminErrorCode[];
  summary: string;
}

export const adminContract = {
  listTenants: {
    method: 'GET',
    path: '/tenants',
    status: 200,
    input: PageQuery,
    output: pageOf(Tenant),
    errors: [],
    summary: 'List tenants, oldest first.',
  },
} as const satisfies { [K in AdminOperationName]: AdminOperation };

export type AdminContract = typeof adminContract;
export type AdminInput<K extends AdminOperationName> = z.input<AdminContract[K]['input']>;
export type AdminParsedInput<K extends AdminOperationName> = z.output<AdminContract[K]['input']>;
export type AdminOutput<K extends AdminOperationName> = z.output<AdminContract[K]['output']>;

/** The server's side: exactly one handler per operation, given the parsed input. */
export type AdminHandlers = {
  [K in AdminOperationName]: (input: AdminParsedInput<K>) => Promise<AdminOutput<K>>;
};

/** The renderer's side: one method per operation, taking the input before defaults apply. */
export type AdminClient = {
  [K in AdminOperationName]: (input: AdminInput<K>) => Promise<AdminOutput<K>>;
};
