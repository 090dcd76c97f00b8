import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { AdminError } from '@shared/errors';
import type { Tenant } from '@shared/tenant';
import { useConsoleEnvironment } from '../api/environment';
import { useSessionStore } from './session';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export const TENANTS_PER_PAGE = 50;

export const useTenantsStore = defineStore('tenants', () => {
  const { client } = useConsoleEnvironment();
  const session = useSessionStore();
  const items = ref<Tenant[]>([]);
  const total = ref(0);
  const page = ref(1);
  const status = ref<LoadStatus>('idle');
  const error = ref<string>();
  /** Counts loads and resets: an answer to any but the latest (a previous session's, say) is dropped. */
  let latest = 0;

  async function load(requestedPage = page.value): Promise<void> {
    const mine = ++latest;
    const sentWith = session.token;
    status.value = 'loading';
    error.value = undefined;
    try {
      const result = await client.listTenants({ page: requestedPage, per_page: TENANTS_PER_PAGE });
      if (mine !== latest) return;
      // Tenants deleted meanwhile can leave this page past the end: show the last one instead.
      const last = Math.max(1, Math.ceil(result.total / TENANTS_PER_PAGE));
      if (result.items.length === 0 && requestedPage > last) return await load(last);
      items.value = result.items;
      total.value = result.total;
      page.value = result.page;
      status.value = 'ready';
    } catch (failure) {
      if (mine !== latest) return;
      status.value = 'error';
      error.value = failure instanceof Error ? failure.message : String(failure);
      // Last, since ending the session resets this store.
      if (failure instanceof AdminError && failure.code === 'unauthorized') session.sessionRejected(sentWith);
    }
  }

  function reset(): void {
    latest += 1;
    items.value = [];
    total.value = 0;
    page.value = 1;
    status.value = 'idle';
    error.value = undefined;
  }

  // The rows belong to the session that read them: once it is forgotten (signed out, expired) or
  // replaced (a new console URL), nothing of it stays in memory or shows while the next one loads.
  // A list that was shown is read again for the new session; a first sign-in leaves that to the view
  // it opens, and a pasted token still being proven is no session yet.
  watch(
    () => session.signedInToken,
    (now) => {
      const shown = status.value !== 'idle';
      reset();
      if (now !== undefined && shown) void load(1);
    },
    { flush: 'sync' },
  );

  return { items, total, page, status, error, load, perPage: TENANTS_PER_PAGE };
});
