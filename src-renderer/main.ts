// First: it must run before any module that builds a zod schema (see the module).
import './zod-jitless';
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { createAdminClient } from './api/client';
import { consoleEnvironmentKey, type ConsoleEnvironment } from './api/environment';
import { createHttpTransport } from './api/http-transport';
import { createIpcTransport } from './api/ipc-transport';
import { endSession, endSessionOnLeave, exchangeLoginCode } from './api/session';
import { useSessionStore } from './stores/session';
import { takeLoginCodeFromUrl } from './login-code';
import './styles.css';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);

const environment: ConsoleEnvironment = window.scimdesk
  ? { mode: 'desktop', client: createAdminClient(createIpcTransport(window.scimdesk)) }
  : {
      mode: 'web',
      client: createAdminClient(
        createHttpTransport({ getToken: () => app.runWithContext(() => useSessionStore().token) }),
      ),
      exchangeLoginCode: (code) => exchangeLoginCode(code),
      endSession: (token) => endSession(token),
      endSessionOnLeave: (token) => endSessionOnLeave(token),
      initialLoginCode: takeLoginCodeFromUrl(window.location, window.history),
    };
app.provide(consoleEnvironmentKey, environment);
app.mount('#app');

if (environment.mode === 'web') {
  // The token lives in this page's memory only: once the page is gone (closed, reloaded), nobody
  // can use the session it got from a code, so it is ended on the server too, not left working
  // until it expires. Not for a page the browser keeps to show again (the back-forward cache).
  window.addEventListener('pagehide', (event) => {
    if (!event.persisted) app.runWithContext(() => useSessionStore().endOnLeave());
  });
  // A fresh console URL opened in this tab (after a restart on a fixed port) changes only the hash.
  window.addEventListener('hashchange', () => {
    const code = takeLoginCodeFromUrl(window.location, window.history);
    if (code) void app.runWithContext(() => useSessionStore().signIn(code));
  });
}
