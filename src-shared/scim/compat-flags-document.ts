import { z } from 'zod';
import { COMPAT_FLAGS, COMPAT_PROFILE_DESCRIPTIONS, COMPAT_PROFILES } from './compat-flags';

const Profile = z.enum(COMPAT_PROFILES);

/** The flag registry as the admin API serves it, so the console lists flags from the same data. */
export const CompatFlagsDocument = z.object({
  profiles: z.array(z.object({ name: Profile, description: z.string() })),
  flags: z.array(
    z.object({
      name: z.string(),
      kind: z.enum(['leniency', 'strictness']),
      scope: z.array(z.string()),
      changes: z.string(),
      rfc: z.string(),
      seen_from: z.string(),
      profiles: z.record(Profile, z.boolean()),
    }),
  ),
});
export type CompatFlagsDocument = z.infer<typeof CompatFlagsDocument>;

export function compatFlagsDocument(): CompatFlagsDocument {
  return {
    profiles: COMPAT_PROFILES.map((name) => ({ name, description: COMPAT_PROFILE_DESCRIPTIONS[name] })),
    flags: COMPAT_FLAGS.map((flag) => ({
      name: flag.name,
      kind: flag.kind,
      scope: [...flag.scope],
      changes: flag.changes,
      rfc: flag.rfc,
      seen_from: flag.seenFrom,
      profiles: { ...flag.profiles },
    })),
  };
}
