import { vi } from 'vitest';

/** A fetch that answers every call with `status` and `body` as JSON, and records its calls. */
export function respond(status: number, body?: unknown) {
  return vi.fn(
    async (_url: string | URL | Request, _init?: RequestInit) =>
      new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { 'Content-Type': 'application/json' },
      }),
  );
}
