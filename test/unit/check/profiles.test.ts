import { describe, expect, it } from 'vitest';
import { PROFILES } from '../../../src-main/check/profiles/index';
import type { Profile } from '../../../src-main/check/types';

/** Every `{{var}}` a step uses must be captured by an earlier step of the same profile (or be `run`). */
function unresolvedVariables(profile: Profile): string[] {
  const known = new Set(['run']);
  const problems: string[] = [];
  for (const step of profile.steps) {
    const text = JSON.stringify([step.path, step.query, step.body, step.expect.match, step.advise?.match]);
    for (const [, name] of text.matchAll(/\{\{(\w+)\}\}/g)) {
      if (!known.has(name!)) problems.push(`${step.id} uses {{${name}}}`);
    }
    for (const name of Object.keys(step.capture ?? {})) known.add(name);
  }
  return problems;
}

describe.each(Object.values(PROFILES))('the $name profile', (profile) => {
  it('has unique step ids', () => {
    const ids = profile.steps.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses only variables earlier steps capture', () => {
    expect(unresolvedVariables(profile)).toEqual([]);
  });

  it('puts the run id in every name it creates, so runs do not collide', () => {
    for (const step of profile.steps.filter((s) => s.creates)) {
      expect([step.id, JSON.stringify(step.body).includes('{{run}}')]).toEqual([step.id, true]);
    }
  });

  it('reads back (`needs`) only an earlier step, and one a server cannot decline unless it declines this one too', () => {
    for (const [index, step] of profile.steps.entries()) {
      if (step.needs === undefined) continue;
      const needed = profile.steps.slice(0, index).find((s) => s.id === step.needs);
      expect([step.id, needed?.id]).toEqual([step.id, step.needs]);
      // A step skipped for the server's choice is skipped before its `needs` is looked at, so the
      // skip is not counted against the server.
      expect([step.id, step.requires]).toEqual([step.id, needed?.requires]);
    }
  });

  it('deletes, or leaves to cleanup, everything it creates', () => {
    for (const step of profile.steps.filter((s) => s.creates)) {
      expect([step.id, Object.keys(step.capture ?? {}).length]).toEqual([step.id, 1]);
    }
  });
});

it('step ids do not collide across profiles (a UI keys on them)', () => {
  const ids = Object.values(PROFILES).flatMap((p) => p.steps.map((s) => s.id));
  expect(new Set(ids).size).toBe(ids.length);
});

describe('entra.clear-manager-applied', () => {
  const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
  const step = PROFILES.entra.steps.find((s) => s.id === 'entra.clear-manager-applied')!;
  const check = step.expect.checks![0]!;
  const user = (manager: unknown) => ({ id: 'u', [ENTERPRISE]: { department: 'R&D', manager } });

  it.each([
    ['no manager', { id: 'u' }],
    ['an empty value', user({ value: '' })],
    ['a null value', user({ value: null })],
    ['a null manager', user(null)],
  ])('passes %s, as the Entra SCIM validator does', (_label, body) => {
    expect(check.test(body, {})).toBeUndefined();
  });

  it('finds a manager that is still set', () => {
    expect(check.test(user({ value: 'boss' }), {})).toBe('manager.value is "boss"');
  });
});
