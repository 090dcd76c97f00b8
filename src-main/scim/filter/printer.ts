import type { AttributePath, CompValue, FilterNode, PatchPath } from './ast';

/**
 * AST → canonical filter text, for logs and the UI: lower-case operators, single spaces, JSON
 * strings, and parentheses only where precedence needs them (`and` binds tighter than `or`, both
 * associate to the left). `parseFilter(printFilter(ast))` deep-equals `ast`.
 */
export function printFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'compare':
      return `${printAttributePath(node.path)} ${node.op} ${printValue(node.value)}`;
    case 'present':
      return `${printAttributePath(node.path)} pr`;
    case 'not':
      return `not (${printFilter(node.filter)})`;
    case 'valuePath':
      return `${printAttributePath(node.path)}[${printFilter(node.filter)}]`;
    case 'and': {
      const left = node.left.kind === 'or' ? `(${printFilter(node.left)})` : printFilter(node.left);
      const wrapRight = node.right.kind === 'or' || node.right.kind === 'and';
      return `${left} and ${wrapRight ? `(${printFilter(node.right)})` : printFilter(node.right)}`;
    }
    case 'or': {
      const right = node.right.kind === 'or' ? `(${printFilter(node.right)})` : printFilter(node.right);
      return `${printFilter(node.left)} or ${right}`;
    }
  }
}

export function printAttributePath(path: AttributePath): string {
  return `${path.uri === undefined ? '' : `${path.uri}:`}${path.name}${path.sub === undefined ? '' : `.${path.sub}`}`;
}

export function printPatchPath(p: PatchPath): string {
  if (p.filter === undefined) return printAttributePath(p.path);
  const base = printAttributePath({ ...p.path, sub: undefined });
  return `${base}[${printFilter(p.filter)}]${p.path.sub === undefined ? '' : `.${p.path.sub}`}`;
}

export function printValue(value: CompValue): string {
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
  return JSON.stringify(value);
}
