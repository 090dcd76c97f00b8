/** Demo data over SCIM: a seeded generator and a loader (Bulk or POSTs) with progress. */
export { seedScim, type SeedOptions, type SeedResult } from './loader';
export { generateDirectory, type SeedDirectory, type SeedGroup, type SeedUser } from './generator';
export { createRandom, type Random } from './prng';
export { SeedAuthError, SeedHttpError } from './http';
export type { SeedMode, SeedProgress } from './types';
