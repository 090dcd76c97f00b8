import type { ScimdeskBridge } from '@shared/bridge';
import type { AdminTransport } from './transport';

export function createIpcTransport(bridge: ScimdeskBridge): AdminTransport {
  return {
    async call(op, input) {
      try {
        return await bridge.invoke(op, input);
      } catch (error) {
        return { ok: false, error: { code: 'unavailable', message: (error as Error).message } };
      }
    },
  };
}
