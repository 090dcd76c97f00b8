import { inject, type InjectionKey } from 'vue';
import type { AdminClient } from '@shared/contract';
import type { SessionResponse } from '@shared/session';

/**
 * What the console needs from its host, provided once at start-up: the admin client and, in the web
 * console, the login-code exchange. Stores take it through inject(), so tests provide fakes.
 */
export interface ConsoleEnvironment {
  mode: 'desktop' | 'web';
  client: AdminClient;
  exchangeLoginCode?: (code: string) => Promise<SessionResponse>;
  /** Web console: ends an admin token on the server when the user signs out. */
  endSession?: (token: string) => Promise<void>;
  /** Web console: the same, sent as the page goes (a request the browser finishes after it). */
  endSessionOnLeave?: (token: string) => void;
  /** The one-time code the console URL carried, if any, already removed from the address bar. */
  initialLoginCode?: string;
}

export const consoleEnvironmentKey: InjectionKey<ConsoleEnvironment> = Symbol('scimdesk console environment');

export function useConsoleEnvironment(): ConsoleEnvironment {
  const environment = inject(consoleEnvironmentKey);
  if (!environment) throw new Error('The console environment was not provided (see main.ts).');
  return environment;
}
