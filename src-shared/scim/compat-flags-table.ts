import { COMPAT_FLAGS, COMPAT_PROFILES } from './compat-flags';

/**
 * The flag registry as a Markdown table, for docs/architecture.md (a unit test keeps the doc equal to
 * this output) and for anything else that wants the list as text.
 */
export function compatFlagsMarkdownTable(): string {
  const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const head = `| flag | kind | what it changes | ${COMPAT_PROFILES.join(' | ')} |`;
  const rule = `| --- | --- | --- | ${COMPAT_PROFILES.map(() => ':-:').join(' | ')} |`;
  const rows = COMPAT_FLAGS.map(
    (f) =>
      `| \`${f.name}\` | ${f.kind} | ${cell(f.changes)} ${cell(f.rfc)} | ${COMPAT_PROFILES.map((p) => (f.profiles[p] ? 'on' : '–')).join(' | ')} |`,
  );
  return [head, rule, ...rows].join('\n');
}
