/// <reference types="vite/client" />
import type { ScimdeskBridge } from '@shared/bridge';

declare global {
  interface Window {
    /** Present in the desktop app only (the preload bridge). */
    scimdesk?: ScimdeskBridge;
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
