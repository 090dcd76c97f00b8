import { SCIM_URN } from '@shared/scim/urns';
import type { SeedDirectory } from './generator';
import { failure, readBulkResponse, type Outcome } from './outcomes';
import { Slots } from './pool';
import { groupBody, userBody } from './scim-bodies';
import { mayContinue, sendOrCount, type BulkLimits, type LoadContext } from './types';

/**
 * Loading through /Bulk (RFC 7644 §3.7): users in index order, then groups, cut into requests within
 * the server's maxOperations and maxPayloadSize. A reference to someone in the same request is a
 * "bulkId:u<index>" (the server resolves it, §3.7.2); to someone in an earlier request, the id that
 * request returned — so a request waits for the earlier requests it refers to, and otherwise up to
 * `concurrency` requests are in flight (scimdesk, like most servers, runs one request's operations
 * in sequence, so parallel requests are what fill a server's group commit).
 */

type Op = { readonly kind: 'user' | 'group'; readonly index: number };

interface Chunk {
  readonly number: number;
  readonly ops: readonly Op[];
  /** Earlier chunks holding users this one refers to. */
  readonly dependsOn: ReadonlySet<number>;
}

/** We cap requests at this many operations even when a server allows more: latency grows with size. */
export const MAX_OPERATIONS_PER_REQUEST = 1000;
/**
 * Users with a password per request: the server hashes each one (about 0.1 s of a core here), and
 * one request's operations run in sequence, so a request of 1,000 took longer than the client's
 * 120 s and was given up on while the server went on creating (export probe, session 40). A request
 * of 100 takes seconds, and parallel requests still fill every core of the server's hasher.
 */
export const MAX_PASSWORDS_PER_REQUEST = 100;
/** Room for the envelope and for ids longer than the "bulkId:u123" used to estimate sizes. */
const BYTES_PER_REFERENCE = 48;
const ENVELOPE_BYTES = 256;

function refsOf(directory: SeedDirectory, op: Op): readonly number[] {
  if (op.kind === 'user') {
    const manager = directory.users[op.index]!.manager;
    return manager === undefined ? [] : [manager];
  }
  return directory.groups[op.index]!.members;
}

function estimate(directory: SeedDirectory, op: Op, organization: string): number {
  const refs = refsOf(directory, op);
  const body =
    op.kind === 'user'
      ? userBody(directory.users[op.index]!, refs[0] === undefined ? undefined : `bulkId:u${refs[0]}`, organization)
      : groupBody(
          directory.groups[op.index]!,
          refs.map((r) => `bulkId:u${r}`),
        );
  // ASCII data (names are slugged only in logins; display names may have accents: count bytes).
  return Buffer.byteLength(JSON.stringify(body)) + 80 + refs.length * BYTES_PER_REFERENCE;
}

export function planChunks(directory: SeedDirectory, limits: BulkLimits, organization: string): Chunk[] {
  const maxOps = Math.max(1, Math.min(limits.maxOperations, MAX_OPERATIONS_PER_REQUEST));
  const maxBytes = Math.floor(limits.maxPayloadSize * 0.9) - ENVELOPE_BYTES;
  const chunkOfUser = new Int32Array(directory.users.length).fill(-1);
  const chunks: Chunk[] = [];
  let ops: Op[] = [];
  let bytes = 0;
  let passwords = 0;
  const close = () => {
    if (ops.length === 0) return;
    const number = chunks.length;
    const dependsOn = new Set<number>();
    for (const op of ops) {
      for (const ref of refsOf(directory, op)) {
        const chunk = chunkOfUser[ref]!;
        if (chunk >= 0 && chunk < number) dependsOn.add(chunk);
      }
    }
    chunks.push({ number, ops, dependsOn });
    ops = [];
    bytes = 0;
    passwords = 0;
  };
  const all: Op[] = [
    ...directory.users.map((u) => ({ kind: 'user' as const, index: u.index })),
    ...directory.groups.map((g) => ({ kind: 'group' as const, index: g.index })),
  ];
  for (const op of all) {
    const size = estimate(directory, op, organization);
    const hashed = op.kind === 'user' && directory.users[op.index]!.password !== undefined ? 1 : 0;
    const full = ops.length >= maxOps || bytes + size > maxBytes || passwords + hashed > MAX_PASSWORDS_PER_REQUEST;
    if (ops.length > 0 && full) close();
    ops.push(op);
    bytes += size;
    passwords += hashed;
    if (op.kind === 'user') chunkOfUser[op.index] = chunks.length;
  }
  close();
  return chunks;
}

export async function loadWithBulk(ctx: LoadContext, limits: BulkLimits): Promise<void> {
  const chunks = planChunks(ctx.directory, limits, ctx.organization);
  const slots = new Slots(ctx.concurrency);
  const finished: Promise<void>[] = [];
  for (const chunk of chunks) {
    const deps = [...chunk.dependsOn].map((n) => finished[n]!);
    finished.push(
      (async () => {
        await Promise.all(deps);
        await slots.acquire();
        try {
          if (mayContinue(ctx)) await sendChunk(ctx, chunk);
        } catch (error) {
          ctx.fatal ??= error;
        } finally {
          slots.release();
        }
      })(),
    );
  }
  await Promise.all(finished);
  if (ctx.fatal !== undefined) throw ctx.fatal;
}

async function sendChunk(ctx: LoadContext, chunk: Chunk): Promise<void> {
  const inChunk = new Set(chunk.ops.filter((op) => op.kind === 'user').map((op) => op.index));
  // A reference to a user of an earlier request that failed is left out of the body; one to a user
  // of this request goes as its bulkId, and whether that user was made is known from the answer.
  const ref = (index: number): string | undefined => (inChunk.has(index) ? `bulkId:u${index}` : ctx.userIds[index]);
  const operations = chunk.ops.map((op) => {
    if (op.kind === 'user') {
      const user = ctx.directory.users[op.index]!;
      const manager = user.manager === undefined ? undefined : ref(user.manager);
      const data = userBody(user, manager, ctx.organization);
      return JSON.stringify({ method: 'POST', path: '/Users', bulkId: `u${op.index}`, data });
    }
    const group = ctx.directory.groups[op.index]!;
    const members = group.members.map(ref).filter((id): id is string => id !== undefined);
    return JSON.stringify({ method: 'POST', path: '/Groups', bulkId: `g${op.index}`, data: groupBody(group, members) });
  });
  // Serialised by hand so each operation is stringified once; failOnErrors is left out so one bad
  // record does not stop the other 999 (RFC 7644 §3.7.3: without it the server runs them all).
  const body = `{"schemas":["${SCIM_URN.bulkRequest}"],"Operations":[${operations.join(',')}]}`;
  // Counted once it reached the server: answered (a refusal too), or lost with its connection.
  const sent = () => void (ctx.counts.bulkRequests += 1);
  const response = await sendOrCount(ctx, chunk.ops.length, () => ctx.http.send('POST', '/Bulk', body), sent);
  // Refused as busy and not retried because the run stopped: its operations were not sent.
  if (response.stopped) return;
  sent();
  const outcomes = response.status === 200 ? readBulkResponse(response.body) : undefined;
  const whole: Outcome =
    response.status === 200
      ? { ok: false, kind: 'not in the BulkResponse', detail: 'the server did not report this operation' }
      : failure(response.status, response.body);
  // In request order, so a user's outcome is recorded before the operations that refer to it.
  for (const op of chunk.ops) {
    const outcome = outcomes?.get(`${op.kind === 'user' ? 'u' : 'g'}${op.index}`) ?? whole;
    record(ctx, op, outcome);
  }
  ctx.progress(chunk.ops.some((op) => op.kind === 'group') ? 'groups' : 'users');
}

/**
 * Counts one operation's outcome. A reference is counted as left out only of a resource that was
 * made: a failed user's manager left out of nothing, and counting it reported "references left
 * out" for every user of a second run into the same tenant, all of them refused as duplicates.
 */
function record(ctx: LoadContext, op: Op, outcome: Outcome): void {
  if (!outcome.ok) {
    ctx.failures.add(op.kind, outcome);
    return;
  }
  const refs = refsOf(ctx.directory, op);
  const made = refs.filter((index) => ctx.userIds[index] !== undefined).length;
  ctx.counts.droppedReferences += refs.length - made;
  if (op.kind === 'user') {
    ctx.userIds[op.index] = outcome.id;
    ctx.counts.usersCreated += 1;
  } else {
    ctx.counts.groupsCreated += 1;
    ctx.counts.memberships += made;
  }
}
