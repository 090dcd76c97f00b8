#!/usr/bin/env node
// Launcher for `npx scimdesk`: builds the app first when the build is missing or older than the
// sources (a fresh clone, or a checkout that changed), then runs the headless CLI on plain Node.
import { ensureBuilt } from './build-if-needed.js';

await ensureBuilt({ force: false });
await import(new URL('../out/main/cli.js', import.meta.url).href);
