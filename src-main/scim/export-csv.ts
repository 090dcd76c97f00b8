import type { ResourceSchema } from '@shared/scim/registry';
import type { AttributeDefinition } from '@shared/scim/schema-types';
import { isRecord, type ResourceData } from './values';

/**
 * CSV export of SCIM resources (seed 003's "bulk export format"), one row per resource for a
 * spreadsheet: one column per singular attribute (sub-attributes of a singular complex attribute
 * get their own, `name.givenName`), and one per multi-valued attribute holding every value, the
 * primary first, one per line of the cell (`emails`). An element without a `value` (an address)
 * is shown by its `formatted` text, else by its other parts joined with ", ". Extension attributes
 * are named by their full URN path, so a column can always be traced to its schema. Attributes
 * never returned (password) have no column. The lossless form is NDJSON.
 */
export interface CsvColumn {
  readonly header: string;
  read(resource: ResourceData): unknown;
}

export function csvColumns(schema: ResourceSchema): CsvColumn[] {
  const columns: CsvColumn[] = [];
  const add = (attributes: readonly AttributeDefinition[], prefix: string, container: (r: ResourceData) => unknown) => {
    for (const attribute of attributes) {
      if (attribute.returned === 'never' || attribute.name === 'schemas') continue;
      const header = `${prefix}${attribute.name}`;
      const own = (r: ResourceData) => {
        const holder = container(r);
        return isRecord(holder) ? holder[attribute.name] : undefined;
      };
      if (attribute.type === 'complex' && !attribute.multiValued) {
        for (const sub of attribute.subAttributes) {
          if (sub.returned === 'never') continue;
          columns.push({ header: `${header}.${sub.name}`, read: (r) => pick(own(r), sub.name) });
        }
      } else if (attribute.multiValued) {
        columns.push({ header, read: (r) => everyValue(attribute, own(r)) });
      } else {
        columns.push({ header, read: own });
      }
    }
  };
  add(schema.topLevel, '', (r) => r);
  for (const ext of schema.extensions) add(ext.attributes, `${ext.id}:`, (r) => r[ext.id]);
  return columns;
}

/**
 * The columns a projection (`attributes`, `excludedAttributes`) keeps: a resource with every
 * attribute set, projected, says which. The projection's own rules decide, not a second reading of
 * the attribute lists.
 */
export function projectedColumns(
  columns: readonly CsvColumn[],
  schema: ResourceSchema,
  project: (resource: ResourceData) => ResourceData,
): CsvColumn[] {
  const sample = (attribute: AttributeDefinition): unknown => {
    const one =
      attribute.type === 'complex'
        ? filled(attribute.subAttributes)
        : attribute.type === 'boolean'
          ? true
          : attribute.type === 'integer' || attribute.type === 'decimal'
            ? 1
            : 'x';
    return attribute.multiValued ? [one] : one;
  };
  const filled = (attributes: readonly AttributeDefinition[]) =>
    Object.fromEntries(attributes.map((attribute) => [attribute.name, sample(attribute)]));
  const everything: ResourceData = {
    ...filled(schema.topLevel),
    ...Object.fromEntries(schema.extensions.map((ext) => [ext.id, filled(ext.attributes)])),
  };
  const shownOf = project(everything);
  return columns.filter((column) => column.read(shownOf) !== undefined);
}

function pick(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

/** Sub-attributes that say what kind of value an element is, not what it is. */
const QUALIFIERS = new Set(['type', 'primary', '$ref', 'display']);

/** Every element of a multi-valued attribute, the primary first (RFC 7643 §2.4), one per line. */
function everyValue(attribute: AttributeDefinition, value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const primary = value.findIndex((element) => isRecord(element) && element.primary === true);
  const ordered = primary > 0 ? [value[primary], ...value.slice(0, primary), ...value.slice(primary + 1)] : value;
  return ordered.map((element) => shown(attribute, element)).join('\n');
}

function shown(attribute: AttributeDefinition, element: unknown): string {
  if (!isRecord(element)) return element === undefined || element === null ? '' : String(element);
  for (const key of ['value', 'formatted']) {
    const text = element[key];
    if (text !== undefined && text !== null && typeof text !== 'object') return String(text);
  }
  const parts = attribute.subAttributes
    .filter((sub) => !QUALIFIERS.has(sub.name) && sub.returned !== 'never')
    .map((sub) => element[sub.name])
    .filter((part) => part !== undefined && part !== null && part !== '' && typeof part !== 'object');
  if (parts.length > 0) return parts.join(', ');
  // Only qualifiers left (`attributes=groups.display`, an entitlement with only a display): they
  // are what the element says, rather than an empty cell.
  for (const key of ['display', 'type', '$ref']) {
    const text = element[key];
    if (typeof text === 'string' && text !== '') return text;
  }
  return '';
}

/**
 * `attributes` for a CSV export: a sub-attribute asked for (`emails.value`) brings its attribute's
 * `primary` along, which the cell is ordered by (primary first) and does not show.
 */
export function withPrimaryForOrder(schema: ResourceSchema, attributes: string | undefined): string | undefined {
  if (attributes === undefined) return undefined;
  const asked = attributes.split(',').map((path) => path.trim());
  const added = new Set<string>();
  for (const path of asked) {
    const dot = path.lastIndexOf('.');
    if (dot <= 0) continue;
    const base = path.slice(0, dot);
    const attribute = schema.topLevel.find((a) => a.name.toLowerCase() === base.toLowerCase());
    const hasPrimary = attribute?.multiValued && attribute.subAttributes.some((sub) => sub.name === 'primary');
    if (hasPrimary) added.add(`${attribute.name}.primary`);
  }
  return [...asked, ...added].join(',');
}

export function csvHeader(columns: readonly CsvColumn[]): string {
  return `${columns.map((c) => csvField(c.header)).join(',')}\r\n`;
}

export function csvRow(columns: readonly CsvColumn[], resource: ResourceData): string {
  return `${columns.map((c) => csvField(c.read(resource))).join(',')}\r\n`;
}

/**
 * RFC 4180 quoting. A text that a spreadsheet would run as a formula is prefixed with `'` (OWASP's
 * advice against CSV injection): an export of IdP-supplied data must not execute when opened. That
 * is a cell starting with = + - @, tab or CR, after any spaces, and any line of a multi-line cell.
 * A `;` also makes a field quoted: where the list separator is `;`, an unquoted one would split
 * the cell and start a new one after it.
 */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string') text = text.replace(FORMULA_START, "'$1");
  return /[",;\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The start of the text or of a line (LF or CR), spaces of any width (every Unicode space separator:
 * no-break, em, thin, ideographic…, which a spreadsheet may trim), then what starts a formula, in its
 * full-width forms too. The line start is looked behind rather than matched: a CR is both a line's
 * end and a formula's start, and matching it took the start of the line after it ("\r=1+1" kept
 * its "=1+1" line undefused).
 */
const FORMULA_START = /(?<=^|[\r\n])(\p{Zs}*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20])/gu;
