import { createHash } from 'node:crypto';
import { DEPARTMENTS, FAMILY_NAMES, GIVEN_NAMES, OFFICES, PROJECT_WORDS } from './names';
import { createRandom, type Random } from './prng';

/**
 * A demo directory from a seed: the same seed gives the same people, titles, reporting lines and
 * groups on every machine. Pure data, no SCIM yet — the loader turns it into requests, and the
 * references (manager, members) stay indexes here because ids exist only once a server assigns them.
 *
 * The org chart is a tree with a span of control of SPAN: person 0 runs the company, persons
 * 1..SPAN head the departments, and person i reports to (i-1)/SPAN. Managers therefore always come
 * before their reports, which lets the loader create people in index order.
 */

export const SPAN = 8;
/** Groups stay demo-sized: big enough to page through, small enough to render. */
export const MAX_GROUP_MEMBERS = 150;

export interface SeedUser {
  readonly index: number;
  readonly userName: string;
  readonly externalId: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly email: string;
  readonly title: string;
  readonly department: string;
  readonly office: string;
  readonly employeeNumber: string;
  readonly phone: string;
  readonly active: boolean;
  /** Index of the manager; undefined for the head of the company. */
  readonly manager?: number;
  readonly password?: string;
}

export interface SeedGroup {
  readonly index: number;
  readonly displayName: string;
  readonly externalId: string;
  /** Member user indexes, ascending. */
  readonly members: readonly number[];
}

export interface SeedDirectory {
  readonly domain: string;
  readonly users: readonly SeedUser[];
  readonly groups: readonly SeedGroup[];
}

export interface GeneratorOptions {
  readonly users: number;
  readonly groups: number;
  readonly seed: string;
  readonly passwords?: boolean;
}

/** Names in logins and mail addresses: ASCII letters only ("O'Brien" → "obrien", "Da Silva" → "dasilva"). */
function slug(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/**
 * The seed as it goes into names, externalIds and the email domain: lower-case letters, digits and
 * dashes, at most 24 characters. A seed that does not read the same that way ends in a digest of
 * it: `Alpha`, `alpha!` and `alpha` became one tag, and a second run told to "use another --seed"
 * met the first run's externalIds.
 */
export function seedSlug(seed: string): string {
  const slug = seed
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  if (slug === seed && slug.length > 0 && slug.length <= 24) return slug;
  const digest = createHash('sha256').update(seed).digest('hex').slice(0, 6);
  return `${slug.slice(0, 17).replace(/-$/, '') || 'seed'}-${digest}`;
}

export function managerOf(index: number): number | undefined {
  return index === 0 ? undefined : Math.floor((index - 1) / SPAN);
}

export function generateDirectory(options: GeneratorOptions): SeedDirectory {
  const random = createRandom(`scimdesk-seed:${options.seed}`);
  const tag = seedSlug(options.seed);
  const domain = `${tag}.example.com`;
  const users = generateUsers(random, options, tag, domain);
  const groups = generateGroups(random, options.groups, users, tag);
  return { domain, users, groups };
}

function generateUsers(random: Random, options: GeneratorOptions, tag: string, domain: string): SeedUser[] {
  const taken = new Set<string>();
  const users: SeedUser[] = [];
  const departmentOf: string[] = [];
  for (let index = 0; index < options.users; index++) {
    const givenName = random.pick(GIVEN_NAMES);
    const familyName = random.pick(FAMILY_NAMES);
    const local = uniqueLocalPart(`${slug(givenName)}.${slug(familyName)}`, taken);
    const manager = managerOf(index);
    const department =
      index === 0
        ? 'Executive'
        : manager === 0
          ? DEPARTMENTS[(index - 1) % DEPARTMENTS.length]!.name
          : departmentOf[manager!]!;
    departmentOf.push(department);
    const email = `${local}@${domain}`;
    users.push({
      index,
      userName: email,
      externalId: `${tag}-emp-${index}`,
      givenName,
      familyName,
      email,
      title: titleFor(random, index, options.users, department),
      department,
      office: random.pick(OFFICES),
      employeeNumber: String(100000 + index),
      phone: `+1 555 ${String(random.int(0, 9999999)).padStart(7, '0')}`,
      // A few leavers, as real directories have; never a manager, so reporting lines stay live.
      active: index * SPAN + 1 < options.users || !random.chance(0.03),
      ...(manager === undefined ? {} : { manager }),
      ...(options.passwords ? { password: password(random) } : {}),
    });
  }
  return users;
}

function uniqueLocalPart(base: string, taken: Set<string>): string {
  let candidate = base;
  for (let n = 2; taken.has(candidate); n++) candidate = `${base}${n}`;
  taken.add(candidate);
  return candidate;
}

function titleFor(random: Random, index: number, total: number, department: string): string {
  if (index === 0) return 'Chief Executive Officer';
  const depth = depthOf(index);
  const hasReports = index * SPAN + 1 < total;
  if (depth === 1) return `VP ${department}`;
  if (hasReports) return depth === 2 ? `Director, ${department}` : `${department} Manager`;
  const titles = DEPARTMENTS.find((d) => d.name === department)?.titles ?? ['Specialist'];
  return random.pick(titles);
}

function depthOf(index: number): number {
  let depth = 0;
  for (let i: number | undefined = index; i !== undefined && i !== 0; i = managerOf(i)) depth++;
  return depth;
}

const PASSWORD_ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function password(random: Random): string {
  let text = '';
  for (let i = 0; i < 14; i++) text += random.pick([...PASSWORD_ALPHABET]);
  // Most password policies want a digit, a capital and a symbol.
  return `${text}7K!`;
}

function generateGroups(random: Random, count: number, users: readonly SeedUser[], tag: string): SeedGroup[] {
  const byDepartment = new Map<string, number[]>();
  const byOffice = new Map<string, number[]>();
  for (const user of users) {
    (byDepartment.get(user.department) ?? byDepartment.set(user.department, []).get(user.department)!).push(user.index);
    (byOffice.get(user.office) ?? byOffice.set(user.office, []).get(user.office)!).push(user.index);
  }
  const everyone = users.map((u) => u.index);
  const names = new Set<string>();
  const groups: SeedGroup[] = [];
  for (let index = 0; index < count; index++) {
    // Three kinds in turn: department teams, office distribution lists, project groups.
    const kind = index % 3;
    let base: string;
    let pool: readonly number[];
    if (kind === 0) {
      const department = DEPARTMENTS[Math.floor(index / 3) % DEPARTMENTS.length]!.name;
      base = `${department} Team`;
      pool = byDepartment.get(department) ?? [];
    } else if (kind === 1) {
      const office = OFFICES[Math.floor(index / 3) % OFFICES.length]!;
      base = `${office} Office`;
      pool = byOffice.get(office) ?? [];
    } else {
      base = `Project ${random.pick(PROJECT_WORDS)}`;
      pool = everyone;
    }
    let displayName = base;
    for (let n = 2; names.has(displayName); n++) displayName = `${base} ${n}`;
    names.add(displayName);
    const size = pool.length === 0 ? 0 : random.int(Math.min(pool.length, 2), Math.min(pool.length, MAX_GROUP_MEMBERS));
    groups.push({ index, displayName, externalId: `${tag}-grp-${index}`, members: sample(random, pool, size) });
  }
  return groups;
}

/** `size` distinct elements of `pool`, ascending; rejection sampling keeps it O(size) for big pools. */
function sample(random: Random, pool: readonly number[], size: number): number[] {
  if (size >= pool.length) return [...pool];
  const chosen = new Set<number>();
  if (size * 2 > pool.length) {
    const copy = [...pool];
    for (let i = 0; i < size; i++) {
      const j = random.int(i, copy.length - 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      chosen.add(copy[i]!);
    }
  } else {
    while (chosen.size < size) chosen.add(pool[random.int(0, pool.length - 1)]!);
  }
  return [...chosen].sort((a, b) => a - b);
}
