import type { ResourceSchema } from '@shared/scim/registry';
import type { AttributeDefinition } from '@shared/scim/schema-types';
import { isRecord, type ResourceData } from './values';

/**
 * CSV export of SCIM resources (seed 003's "bulk export format"): one column per singular attribute
 * (sub-attributes of a singular complex attribute get their own, `name.givenName`), and for a
 * multi-valued attribute the value of its primary element, else its first (`emails`). Extension
 * attributes are named by their full URN path, so a column can always be traced to its schema.
 * Attributes never returned (password) have no column.
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
        columns.push({ header, read: (r) => representative(own(r)) });
      } else {
        columns.push({ header, read: own });
      }
    }
  };
  add(schema.topLevel, '', (r) => r);
  for (const ext of schema.extensions) add(ext.attributes, `${ext.id}:`, (r) => r[ext.id]);
  return columns;
}

function pick(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

/** RFC 7643 §2.4: the primary element's value, else the first element's. */
function representative(value: unknown): unknown {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const primary = value.find((element) => isRecord(element) && element.primary === true) ?? value[0];
  return isRecord(primary) ? primary.value : primary;
}

export function csvHeader(columns: readonly CsvColumn[]): string {
  return `${columns.map((c) => csvField(c.header)).join(',')}\r\n`;
}

export function csvRow(columns: readonly CsvColumn[], resource: ResourceData): string {
  return `${columns.map((c) => csvField(c.read(resource))).join(',')}\r\n`;
}

/**
 * RFC 4180 quoting. A text that a spreadsheet would run as a formula (starting with = + - @, tab
 * or CR) is prefixed with `'` (OWASP's advice against CSV injection): an export of IdP-supplied
 * data must not execute when opened.
 */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
