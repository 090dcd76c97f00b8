import type { OpenApiDocument, Parameter, Reference } from './types';

/**
 * The OpenAPI 3.1 rules a generated document can break when a route or schema changes, checked
 * without a validator package (the test suite adds @readme/openapi-parser's full schema check when
 * it is installed): unique operationIds (§4.8.10), every `$ref` resolving, path templates and path
 * parameters agreeing both ways (§4.8.2, §4.8.12), no two paths equal but for parameter names
 * (§4.8.8), responses present with descriptions and valid status keys (§4.8.16), security
 * requirements naming declared schemes (§4.8.30), and declared tags. Returns the problems found.
 */
export function checkOpenApiDocument(doc: OpenApiDocument): string[] {
  const problems: string[] = [];
  if (doc.openapi !== '3.1.0') problems.push(`openapi is ${String(doc.openapi)}, not 3.1.0`);
  if (!doc.info.title || !doc.info.version) problems.push('info.title and info.version are required');

  for (const pointer of refsIn(doc)) {
    if (resolvePointer(doc, pointer) === undefined) problems.push(`$ref ${pointer} does not resolve`);
  }

  const operationIds = new Map<string, string>();
  const templates = new Map<string, string>();
  const declaredTags = new Set(doc.tags.map((t) => t.name));
  const schemes = new Set(Object.keys(doc.components.securitySchemes));

  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/')) problems.push(`path ${path} does not start with /`);
    const shape = path.replace(/\{[^}]+\}/g, '{}');
    const twin = templates.get(shape);
    if (twin !== undefined) problems.push(`paths ${twin} and ${path} differ only in parameter names`);
    templates.set(shape, path);
    const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');

    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      const seen = operationIds.get(op.operationId);
      if (seen !== undefined) problems.push(`operationId ${op.operationId} is used by ${seen} and ${where}`);
      operationIds.set(op.operationId, where);

      const params = (op.parameters ?? []).map((p) => resolveParameter(doc, p));
      if (params.some((p) => p === undefined)) problems.push(`${where}: a parameter does not resolve`);
      const keys = params.flatMap((p) => (p ? [`${p.in}:${p.name}`] : []));
      if (new Set(keys).size !== keys.length) problems.push(`${where}: duplicate parameters`);
      const pathParams = params.flatMap((p) => (p?.in === 'path' ? [p] : []));
      for (const name of inTemplate) {
        const param = pathParams.find((p) => p.name === name);
        if (!param) problems.push(`${where}: path parameter {${name}} is not declared`);
        else if (param.required !== true) problems.push(`${where}: path parameter {${name}} must be required`);
      }
      for (const p of pathParams) {
        if (!inTemplate.includes(p.name)) problems.push(`${where}: path parameter ${p.name} is not in the path`);
      }

      const responses = Object.entries(op.responses);
      if (responses.length === 0) problems.push(`${where}: no responses`);
      for (const [status, response] of responses) {
        if (!/^(default|[1-5]XX|[1-5]\d\d)$/.test(status)) problems.push(`${where}: bad response key ${status}`);
        const resolved = '$ref' in response ? resolvePointer(doc, response.$ref) : response;
        if (typeof (resolved as { description?: unknown } | undefined)?.description !== 'string') {
          problems.push(`${where}: response ${status} has no description`);
        }
      }
      if (op.requestBody && Object.keys(op.requestBody.content).length === 0) {
        problems.push(`${where}: request body without content`);
      }
      for (const requirement of op.security) {
        for (const name of Object.keys(requirement)) {
          if (!schemes.has(name)) problems.push(`${where}: unknown security scheme ${name}`);
        }
      }
      for (const tag of op.tags) if (!declaredTags.has(tag)) problems.push(`${where}: undeclared tag ${tag}`);
    }
  }
  return problems;
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const v of value) refsIn(v, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') out.push(inner);
      else refsIn(inner, out);
    }
  }
  return out;
}

/** A local JSON pointer (RFC 6901) into the document; undefined when it leads nowhere. */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (!pointer.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of pointer.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function resolveParameter(doc: OpenApiDocument, p: Parameter | Reference): Parameter | undefined {
  return '$ref' in p ? (resolvePointer(doc, p.$ref) as Parameter | undefined) : p;
}
