import { z } from 'zod';

/**
 * zod 4 probes `new Function` the first time it builds a schema, which the console's strict CSP
 * blocks and reports as a violation. Jitless skips the probe, but only for schemas built after it
 * is set: imports run before the body of the module that imports them, so this is a module of its
 * own, imported first by main.ts, before any module that builds a schema (the `@shared` contract).
 */
z.config({ jitless: true });
