// One block per runtime (STYLE.md §1): a wrong import between rooms is a lint error.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import vue from 'eslint-plugin-vue';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'crypto',
  'child_process',
  'http',
  'https',
  'net',
  'url',
  'util',
  'stream',
  'worker_threads',
];

/** src-main's rooms and its top-level modules, by the name a relative import climbs to. */
const MAIN_ROOMS = [
  'store',
  'services',
  'http',
  'ipc',
  'cli',
  'check',
  'seed',
  'auth',
  'scim',
  'app',
  'clock',
  'data-dir',
];

/**
 * A relative import, at any depth, of a room of src-main other than `room` (whose own subfolders
 * have none of these names). A glob like `../store/*` matched one level only: from scim/filter,
 * `../../store/errors` passed.
 */
function mainRoomsBut(room) {
  const others = MAIN_ROOMS.filter((name) => name !== room).join('|');
  return `^(\\.\\./)+(${others})(/|\\.ts$|$)`;
}

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // What both sides agree on: no Node, no Electron, no DOM, nothing from the other rooms.
    files: ['src-shared/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'src-shared runs in the renderer too: no Node APIs.' },
            { group: ['electron'], message: 'src-shared must not depend on Electron.' },
            { group: ['**/src-main/**', '**/src-renderer/**'], message: 'src-shared imports only itself.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'process', 'Buffer', 'require', 'localStorage'],
    },
  },
  {
    // The renderer: browser only; the bridge is reached through window.scimdesk, never imported.
    files: ['src-renderer/**/*.{ts,vue}'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'The renderer has no Node access.' },
            { group: ['electron'], message: 'The renderer talks to main through window.scimdesk only.' },
            { group: ['**/src-main/**'], message: 'The renderer knows src-shared and its api client only.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', 'localStorage', 'sessionStorage'],
    },
  },
  {
    files: ['src-main/**/*.ts', 'test/**/*.{ts,js}', 'bin/**/*.js', '*.config.{ts,js}'],
    languageOptions: { globals: globals.node },
  },
  {
    // Electron may appear in the shell, the preload and the IPC wiring only; never in the CLI's graph.
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/index.ts', 'src-main/preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'Only index.ts and preload.ts import electron (the CLI runs on plain Node).',
              allowTypeImports: true,
            },
          ],
          patterns: [{ group: ['**/src-renderer/**'], message: 'Main never imports the renderer.' }],
        },
      ],
    },
  },
  {
    // The SCIM core is pure: no I/O, no framework, no ambient clock or randomness.
    files: ['src-main/scim/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...nodeBuiltins, 'koa', '@koa/*', 'lowdb', 'lowdb/*', 'electron'],
              message: 'src-main/scim is pure: pass data in.',
            },
            {
              regex: mainRoomsBut('scim'),
              message: 'scim/ depends on src-shared only.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Pass a clock in.' },
        { object: 'Math', property: 'random', message: 'Pass randomness in.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'crypto', message: 'Pass randomness in.' },
        { name: 'performance', message: 'Pass a clock in.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Pass a clock in.' },
      ],
    },
  },
  {
    // Services know no HTTP and no Electron.
    files: ['src-main/services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Services know no Electron.' }],
          patterns: [
            {
              group: ['koa', '@koa/*', 'node:http', 'http', '**/http/**', '**/ipc/**'],
              message: 'Services know no HTTP.',
            },
          ],
        },
      ],
    },
  },
  {
    // The store knows no HTTP, no Electron, and none of the rooms above it: it keeps what it is given.
    files: ['src-main/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The store knows no Electron.' }],
          patterns: [
            { group: ['koa', '@koa/*', 'node:http', 'http'], message: 'The store knows no HTTP.' },
            // data-dir.ts says what a data folder problem means to a user; the store raises it.
            { regex: mainRoomsBut('store').replace('|data-dir', ''), message: 'store/ depends on src-shared only.' },
            // The crash tests run the store in plain child processes (`node --import tsx`), where the
            // root tsconfig has no paths: an @shared import fails there at load, not at typecheck.
            { group: ['@shared/*'], message: 'store/ imports src-shared by a relative path (see crash tests).' },
          ],
        },
      ],
    },
  },
  prettier,
);
