// SCIM filters (RFC 7644 §3.4.2.2): parsed by scim2-parse-filter, evaluated here over a resource's
// SCIM representation, with attribute names matched in any case and strings compared as the
// schema says (ids and externalId exactly, everything else in any case).
import { parse, type Filter } from 'scim2-parse-filter';
import { ScimError } from './scim-error';

export type { Filter };

const CASE_EXACT = new Set(['id', 'externalid', 'members.value', 'groups.value']);

export function parseFilter(text: string): Filter {
  try {
    return parse(text);
  } catch (error) {
    throw new ScimError(400, `filter: cannot parse "${text.slice(0, 200)}" (${error instanceof Error ? error.message : String(error)})`, 'invalidFilter');
  }
}

/** The URN prefix of an extension attribute is dropped: `urn:…:User:department` is `department`. */
function attributePath(path: string): string[] {
  const urn = /^urn:[^ ]*:(?=[^:]+$)/i.exec(path);
  const bare = urn ? path.slice(urn[0].length) : path;
  return bare.split('.').map((p) => p.toLowerCase());
}

function child(value: unknown, name: string): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) return value.flatMap((v) => (v === null || typeof v !== 'object' ? [] : [child(v, name)])).flat();
  for (const [key, v] of Object.entries(value)) if (key.toLowerCase() === name) return v;
  return undefined;
}

/** Every value at `path` (multi-valued attributes and sub-attributes flattened). */
export function valuesAt(resource: unknown, path: string): unknown[] {
  let current: unknown = resource;
  for (const part of attributePath(path)) current = child(current, part);
  if (current === undefined || current === null) return [];
  return Array.isArray(current) ? current.flat() : [current];
}

function compare(op: string, actual: unknown, expected: boolean | number | string | null, exact: boolean): boolean {
  if (expected === null) return op === 'eq' ? actual === null || actual === undefined : op === 'ne' ? actual !== null && actual !== undefined : false;
  if (typeof expected === 'boolean') {
    const a = typeof actual === 'string' ? actual.toLowerCase() === 'true' : actual;
    return op === 'eq' ? a === expected : op === 'ne' ? a !== expected : false;
  }
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return op === 'ne';
    return (
      { eq: actual === expected, ne: actual !== expected, gt: actual > expected, ge: actual >= expected, lt: actual < expected, le: actual <= expected }[op] ??
      false
    );
  }
  if (typeof actual !== 'string') return op === 'ne';
  const a = exact ? actual : actual.toLowerCase();
  const e = exact ? expected : expected.toLowerCase();
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    case 'co':
      return a.includes(e);
    case 'sw':
      return a.startsWith(e);
    case 'ew':
      return a.endsWith(e);
    case 'gt':
      return a > e;
    case 'ge':
      return a >= e;
    case 'lt':
      return a < e;
    case 'le':
      return a <= e;
    default:
      return false;
  }
}

/** Whether `resource` (a SCIM JSON object) matches the filter. */
export function matches(filter: Filter, resource: unknown): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((f) => matches(f, resource));
    case 'or':
      return filter.filters.some((f) => matches(f, resource));
    case 'not':
      return !matches(filter.filter, resource);
    case '[]':
      return valuesAt(resource, filter.attrPath).some((element) => matches(filter.valFilter, element));
    case 'pr':
      return valuesAt(resource, filter.attrPath).some((v) => v !== '' && !(Array.isArray(v) && v.length === 0));
    default: {
      const exact = CASE_EXACT.has(attributePath(filter.attrPath).join('.'));
      const values = valuesAt(resource, filter.attrPath);
      if (filter.op === 'ne') return values.length === 0 || values.every((v) => compare('ne', v, filter.compValue, exact));
      return values.some((v) => compare(filter.op, v, filter.compValue, exact));
    }
  }
}
