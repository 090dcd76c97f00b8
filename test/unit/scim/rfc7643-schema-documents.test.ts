import { describe, expect, it } from 'vitest';
import { SCIM_URN } from '@shared/scim/urns';
import { schemasList, type AttributeDocument } from '../../../src-main/scim/schema-documents';
import rfc from '../../fixtures/rfc/rfc7643-8.7.1-schemas.json';
import { registry } from './helpers';

type Row = (typeof rfc.schemas)[keyof typeof rfc.schemas][number];
type Characteristic = Exclude<keyof Row, 'path'>;

/** One attribute of a `/Schemas` document in the fixture's row form. */
interface Flat {
  path: string;
  row: Record<string, unknown>;
  description: string;
}

function flatten(attributes: readonly AttributeDocument[], prefix = ''): Flat[] {
  return attributes.flatMap((a) => {
    const path = prefix + a.name;
    const { name: _name, description, subAttributes, ...characteristics } = a;
    return [{ path, row: { path, ...characteristics }, description }, ...flatten(subAttributes ?? [], `${path}.`)];
  });
}

/**
 * Where scimdesk says something other than the §8.7.1 listing, on purpose. Each names what it
 * advertises instead and why; anything else that differs is a bug in the documents.
 */
const DELIBERATE: Record<string, Partial<Record<Characteristic, unknown>> & { why: string }> = {
  [`${SCIM_URN.group} displayName`]: {
    required: true,
    why: 'RFC 7643 §4.2 says REQUIRED and errata agree; only the §8.7.1 listing says false',
  },
  [`${SCIM_URN.group} members.value`]: {
    caseExact: true,
    why: 'holds an id, which §3.1 makes caseExact (docs/architecture.md, "Schemas are data")',
  },
  [`${SCIM_URN.user} groups.value`]: {
    caseExact: true,
    why: 'holds a Group id, which §3.1 makes caseExact (docs/architecture.md, "Schemas are data")',
  },
  [`${SCIM_URN.user} groups.$ref`]: {
    referenceTypes: ['Group'],
    why: 'a user’s groups point at Groups only (§4.1.2: "the corresponding Group resources")',
  },
  [`${SCIM_URN.user} x509Certificates.value`]: {
    caseExact: true,
    why: 'a binary value is case exact (§2.3.6); only the listing says false',
  },
};

/** Attributes scimdesk has beyond the listing. */
const EXTRA: Record<string, string> = {
  [`${SCIM_URN.user} addresses.primary`]: '§4.1.2 and §2.4 give addresses a primary; the listing leaves it out',
  [`${SCIM_URN.group} members.display`]: 'seed 001 lists it; §4.2 shows it in its examples',
  [`${SCIM_URN.user} externalId`]: 'a common attribute (§3.1); the Entra gallery validator looks for it here',
  [`${SCIM_URN.group} externalId`]: 'a common attribute (§3.1); the Entra gallery validator looks for it here',
};

const documents = schemasList(registry, 'https://scim.example.com/scim/v2').Resources;

describe('/Schemas documents against RFC 7643 §8.7.1, attribute by attribute', () => {
  for (const [urn, rows] of Object.entries(rfc.schemas)) {
    describe(urn, () => {
      const doc = documents.find((d) => d.id === urn);
      const flat = flatten(doc?.attributes ?? []);
      it.each(rows.map((r) => [r.path, r] as const))('%s has the listing’s characteristics', (path, expected) => {
        const { why: _why, ...instead } = DELIBERATE[`${urn} ${path}`] ?? { why: '' };
        const actual = flat.find((f) => f.path === path);
        expect(actual?.row).toEqual({ ...expected, ...instead });
        expect(actual?.description).not.toBe('');
      });
      it('has no attribute the listing lacks, beyond the stated ones', () => {
        const listed = new Set(rows.map((r) => r.path));
        const extra = flat.filter((f) => !listed.has(f.path)).map((f) => `${urn} ${f.path}`);
        expect(extra.sort()).toEqual(
          Object.keys(EXTRA)
            .filter((k) => k.startsWith(`${urn} `))
            .sort(),
        );
        for (const f of flat) expect(f.description, f.path).not.toBe('');
      });
    });
  }
  it('serves exactly the listed schemas, each once', () => {
    expect(documents.map((d) => d.id).sort()).toEqual(Object.keys(rfc.schemas).sort());
  });
  it('lists deliberate differences that are still differences', () => {
    for (const [key, { why: _why, ...instead }] of Object.entries(DELIBERATE)) {
      const [urn, path] = key.split(' ') as [keyof typeof rfc.schemas, string];
      const row = rfc.schemas[urn].find((r) => r.path === path) as Record<string, unknown> | undefined;
      for (const [field, value] of Object.entries(instead)) expect(row?.[field], key).not.toEqual(value);
    }
  });
});
