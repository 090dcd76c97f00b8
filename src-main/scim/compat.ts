import {
  COMPAT_FLAG_SPECS,
  type CompatFlagName,
  type CompatFlags,
  compatFlags,
  type CompatProfileName,
} from '@shared/scim/compat-flags';
import type { ZodSchemaOptions } from '@shared/scim/zod-schema';
import { ScimError, type ScimErrorStatus, type ScimType } from './errors';

/**
 * Applying the compatibility flags of `src-shared/scim/compat-flags.ts`. One `CompatContext` lives
 * for one request: code asks it whether a leniency is allowed (which records the flag as fired), and
 * builds refusals that name the flag, so the error `detail` and the request log both say which
 * choice changed the outcome (DESIGN.md §3: "a refusal caused by a flag names it").
 */
const PROFILE_FLAGS = new Map<CompatProfileName, CompatFlags>();

export class CompatContext {
  private readonly firedSet = new Set<CompatFlagName>();

  /**
   * @param overridden flags the tenant set against its profile: a refusal says where the setting
   * that caused it lives, or its reader looks for it in the profile's table.
   */
  constructor(
    readonly flags: CompatFlags,
    private readonly overridden: ReadonlySet<CompatFlagName> = new Set(),
  ) {}

  static forProfile(profile: CompatProfileName, overrides?: Partial<Record<CompatFlagName, boolean>>): CompatContext {
    const set = overrides
      ? (Object.keys(overrides) as CompatFlagName[]).filter((name) => overrides[name] !== undefined)
      : [];
    if (set.length > 0) return new CompatContext(compatFlags(profile, overrides), new Set(set));
    // A profile's flags never change: resolve each once, not on every request.
    let flags = PROFILE_FLAGS.get(profile);
    if (!flags) PROFILE_FLAGS.set(profile, (flags = Object.freeze(compatFlags(profile))));
    return new CompatContext(flags);
  }

  /** A context with the same flags and overrides, and nothing fired yet (a PATCH run again). */
  fresh(): CompatContext {
    return new CompatContext(this.flags, this.overridden);
  }

  /** Records as fired here what fired in `part` (a Bulk operation's own context). */
  absorb(part: CompatContext): void {
    for (const name of part.firedSet) this.firedSet.add(name);
  }

  /** Whether the flag is on; when it is, records it as fired (the caller is about to use it). */
  use(name: CompatFlagName): boolean {
    if (!this.flags[name]) return false;
    this.firedSet.add(name);
    return true;
  }

  /** Whether the flag is on, without recording anything (for strictness checks that have not refused yet). */
  isOn(name: CompatFlagName): boolean {
    return this.flags[name];
  }

  /** Flags that changed or refused something in this request, in registry order. */
  get fired(): CompatFlagName[] {
    return (Object.keys(COMPAT_FLAG_SPECS) as CompatFlagName[]).filter((n) => this.firedSet.has(n));
  }

  /**
   * A refusal caused by a flag: a leniency that is off, or a strictness that is on. The flag is
   * recorded as fired and named in the detail.
   */
  refuse(
    name: CompatFlagName,
    scimType: Exclude<ScimType, 'uniqueness' | 'sensitive'>,
    detail: string,
  ): ScimCompatError {
    this.firedSet.add(name);
    return new ScimCompatError(400, detail, scimType, name, this.flags[name], this.overridden.has(name));
  }

  refuseStatus(name: CompatFlagName, status: ScimErrorStatus, detail: string): ScimCompatError {
    this.firedSet.add(name);
    return new ScimCompatError(status, detail, undefined, name, this.flags[name], this.overridden.has(name));
  }
}

/**
 * A ScimError caused by a compatibility flag. It renders like any ScimError (RFC 7644 §3.12); the
 * `flag` is there for the request log, and the detail already names it.
 */
export class ScimCompatError extends ScimError {
  constructor(
    status: ScimErrorStatus,
    detail: string,
    scimType: ScimType | undefined,
    readonly flag: CompatFlagName,
    flagIsOn: boolean,
    overridden = false,
  ) {
    super(
      status,
      `${detail} (compatibility flag "${flag}" is ${flagIsOn ? 'on' : 'off'} in this tenant's ${overridden ? 'compat_overrides' : 'profile'})`,
      scimType,
    );
  }
}

/** The zod view options that match a tenant's flags (create / replace bodies). */
export function zodOptionsFor(flags: CompatFlags): ZodSchemaOptions {
  return { booleanStrings: flags.booleanStrings, bareStringValue: flags.bareManagerId };
}

/**
 * `contentTypeOptional` (a leniency): a request body without a Content-Type is read as JSON where
 * the flag is on (recorded as fired), and refused naming the flag where it is off.
 */
export function acceptUntypedBody(ctx: CompatContext): void {
  if (ctx.use('contentTypeOptional')) return;
  throw ctx.refuse(
    'contentTypeOptional',
    'invalidSyntax',
    'Send the body as application/json or application/scim+json (the request has no Content-Type).',
  );
}

/**
 * `requireIfMatch` (a strictness flag): PUT, PATCH and DELETE must carry If-Match. Matching the
 * ETag itself is the HTTP layer's job; this only refuses its absence, naming the flag.
 */
export function checkIfMatchRequired(method: string, ifMatch: string | undefined, ctx: CompatContext): void {
  const m = method.toUpperCase();
  if (m !== 'PUT' && m !== 'PATCH' && m !== 'DELETE') return;
  if (ifMatch !== undefined && ifMatch.trim() !== '') return;
  if (ctx.isOn('requireIfMatch')) {
    throw ctx.refuseStatus('requireIfMatch', 412, `${m} requires an If-Match header with the resource's meta.version`);
  }
}
