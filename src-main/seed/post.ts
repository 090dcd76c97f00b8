import { readCreated } from './outcomes';
import { runPool } from '../run-pool';
import { groupBody, userBody } from './scim-bodies';
import { mayContinue, sendOrCount, type LoadContext } from './types';

/**
 * Loading with one POST per resource (RFC 7644 §3.3), for servers without Bulk: users in index
 * order with `concurrency` requests in flight, each waiting for its manager's id (managers have
 * lower indexes and start earlier, so the wait is short and cannot deadlock), then groups with
 * their members' ids.
 */

export async function loadWithPosts(ctx: LoadContext): Promise<void> {
  const { users, groups } = ctx.directory;
  const created: Promise<string | undefined>[] = [];
  const resolvers: ((id: string | undefined) => void)[] = [];
  for (let i = 0; i < users.length; i++) {
    created.push(new Promise((resolve) => resolvers.push(resolve)));
  }
  const guarded = async (work: () => Promise<void>) => {
    if (!mayContinue(ctx)) return;
    try {
      await work();
    } catch (error) {
      ctx.fatal ??= error;
    }
  };

  await runPool(users.length, ctx.concurrency, async (i) => {
    try {
      if (mayContinue(ctx)) await createUser(ctx, i, created);
    } catch (error) {
      ctx.fatal ??= error;
    } finally {
      // Whatever happened, reports waiting on this manager go on (without one if it failed).
      resolvers[i]!(ctx.userIds[i]);
    }
  });
  if (ctx.fatal !== undefined) throw ctx.fatal;

  await runPool(groups.length, ctx.concurrency, (g) =>
    guarded(async () => {
      const group = groups[g]!;
      const members = group.members.map((m) => ctx.userIds[m]).filter((id): id is string => id !== undefined);
      const response = await sendOrCount(ctx, 1, () => ctx.http.send('POST', '/Groups', groupBody(group, members)));
      if (response.stopped) return;
      const outcome = readCreated(response.status, response.body, response.location);
      if (outcome.ok) {
        ctx.counts.groupsCreated += 1;
        ctx.counts.memberships += members.length;
        // Left out of a group that was made (see bulk.ts `record`).
        ctx.counts.droppedReferences += group.members.length - members.length;
      } else ctx.failures.add('group', outcome);
      ctx.progress('groups');
    }),
  );
  if (ctx.fatal !== undefined) throw ctx.fatal;
}

async function createUser(ctx: LoadContext, i: number, created: readonly Promise<string | undefined>[]): Promise<void> {
  const user = ctx.directory.users[i]!;
  let manager: string | undefined;
  if (user.manager !== undefined) {
    manager = await created[user.manager];
    // The run may have stopped while this waited for its manager.
    if (!mayContinue(ctx)) return;
  }
  const response = await sendOrCount(ctx, 1, () =>
    ctx.http.send('POST', '/Users', userBody(user, manager, ctx.organization)),
  );
  if (response.stopped) return;
  const outcome = readCreated(response.status, response.body, response.location);
  if (outcome.ok) {
    ctx.userIds[i] = outcome.id;
    ctx.counts.usersCreated += 1;
    if (user.manager !== undefined && manager === undefined) ctx.counts.droppedReferences += 1;
  } else ctx.failures.add('user', outcome);
  ctx.progress('users');
}
