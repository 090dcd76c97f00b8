/**
 * The only bridge between the page and the main process (built as one CommonJS file for
 * `sandbox: true`). It exposes `window.scimdesk.invoke(op, input)` for the operations in the
 * contract table, and nothing else: no ipcRenderer, no Electron event objects.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { ADMIN_IPC_CHANNEL, isAdminOperationName } from '@shared/contract-ops';
import type { ScimdeskBridge } from '@shared/bridge';

const bridge: ScimdeskBridge = {
  invoke(op, input) {
    if (!isAdminOperationName(op)) {
      return Promise.resolve({
        ok: false,
        error: { code: 'not_found', message: `Unknown admin operation: ${String(op)}.` },
      });
    }
    return ipcRenderer.invoke(ADMIN_IPC_CHANNEL, op, input);
  },
};

contextBridge.exposeInMainWorld('scimdesk', bridge);
