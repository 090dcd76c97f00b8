import type { CleanupResult, StepResult, Summary, Verdict } from './types';

/**
 * The human report: one line per step as it finishes, details (request, expected, actual) for
 * the steps that did not pass, then the summary line scripts can grep:
 * `summary: 52 passed, 0 failed, 1 warnings, 0 skipped (53 steps)`.
 * Colour is the caller's decision (a TTY without NO_COLOR); the text is the same without it.
 */

export interface Style {
  readonly color: boolean;
}

const CODES = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1 } as const;
type Tone = keyof typeof CODES;

function paint(style: Style, tone: Tone, text: string): string {
  return style.color ? `\u001b[${CODES[tone]}m${text}\u001b[0m` : text;
}

const MARKS: Record<Verdict, { mark: string; tone: Tone }> = {
  pass: { mark: 'PASS', tone: 'green' },
  fail: { mark: 'FAIL', tone: 'red' },
  warning: { mark: 'WARN', tone: 'yellow' },
  skipped: { mark: 'SKIP', tone: 'dim' },
};

const MAX_BODY = 600;

export function formatHeader(target: string, profiles: readonly string[], style: Style): string {
  return paint(style, 'bold', `scimdesk check ${target} (profiles: ${profiles.join(', ')})`);
}

/** One step: a status line, and for anything but a pass the findings and the exchange. */
export function formatStep(result: StepResult, style: Style): string[] {
  const { mark, tone } = MARKS[result.verdict];
  const exchange = result.exchange;
  const request = exchange ? `${exchange.request.method} ${new URL(exchange.request.url).pathname}` : '';
  const got = exchange?.response ? ` → ${exchange.response.status}` : exchange?.error ? ' → no answer' : '';
  const level = result.level === 'recommended' ? paint(style, 'dim', ' (recommended)') : '';
  const lines = [
    `${paint(style, tone, mark)} ${result.id}  ${result.name}${level}  ${paint(style, 'dim', request + got)}`,
  ];
  if (result.verdict === 'pass') return lines;
  if (result.skippedReason) return [...lines, `     ${result.skippedReason}`];
  for (const finding of result.findings) {
    lines.push(`     - ${finding.level === 'required' ? '' : '(advice) '}${finding.message}`);
  }
  if (result.verdict === 'fail' && exchange) {
    lines.push(`     request:  ${exchange.request.method} ${exchange.request.url}`);
    if (exchange.request.body !== undefined) lines.push(`               ${brief(exchange.request.body)}`);
    lines.push(`     expected: ${describeExpected(result)}`);
    if (exchange.response) {
      lines.push(`     actual:   ${exchange.response.status} ${brief(exchange.response.body ?? '')}`);
    } else {
      lines.push(`     actual:   ${exchange.error ?? 'no answer'}`);
    }
  }
  return lines;
}

function describeExpected(result: StepResult): string {
  const parts = [`status ${result.expected.status.join(' or ')}`];
  if (result.expected.body) parts.push(`a SCIM ${result.expected.body}`);
  if (result.expected.match !== undefined) parts.push(`containing ${brief(result.expected.match)}`);
  if (result.expected.absent) parts.push(`without ${result.expected.absent.join(', ')}`);
  return parts.join(', ');
}

function brief(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_BODY ? `${text.slice(0, MAX_BODY)}…` : text;
}

export function formatCleanup(cleanup: CleanupResult, style: Style): string[] {
  const lines: string[] = [];
  if (cleanup.kept) {
    const list = cleanup.remaining.map((r) => `${r.type} ${r.id}`).join(', ');
    lines.push(`cleanup: kept ${cleanup.remaining.length} resource(s) (--keep)${list ? `: ${list}` : ''}`);
  } else {
    lines.push(`cleanup: deleted ${cleanup.deleted} resource(s) the run created`);
    for (const failure of cleanup.failures) {
      lines.push(paint(style, 'yellow', `cleanup: could not delete ${failure.type} ${failure.id}: ${failure.detail}`));
    }
  }
  if (cleanup.unnamed > 0) {
    lines.push(
      paint(
        style,
        'yellow',
        `cleanup: ${cleanup.unnamed} more resource(s) the run created are on the server under ids its answers did not name (no id in the body, no Location header)`,
      ),
    );
  }
  return lines;
}

/** `interrupted`: the run was stopped (Ctrl-C), which is why steps were not run, not a failure. */
export function formatSummary(summary: Summary, style: Style, interrupted = false): string {
  const text =
    `summary: ${summary.passed} passed, ${summary.failed} failed, ${summary.warnings} warnings, ` +
    `${summary.skipped} skipped (${summary.total} steps)`;
  const verdict =
    interrupted && summary.failed === 0
      ? ' — interrupted before the end'
      : interrupted
        ? ' — required steps failed, then the run was interrupted'
        : summary.ok
          ? ''
          : ' — required steps failed';
  return paint(style, summary.ok && !interrupted ? 'green' : 'red', `${text}${verdict}`);
}
