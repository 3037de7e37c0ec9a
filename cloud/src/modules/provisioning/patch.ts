// SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's SCIM representation, as Entra ID and Okta
// send it: operation names in any case ("Replace"), no path with an object of attributes, value
// paths with filters (`members[value eq "…"]`, `emails[type eq "work"].value`), and removal of
// multi-valued members by a list of values. The caller reads the patched object back into the model.
import { z } from 'zod';
import { matches, parseFilter, type Filter } from './filter';
import { ScimError } from './scim-error';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export const PatchRequest = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(PATCH_OP_SCHEMA), `must include ${PATCH_OP_SCHEMA}`),
  Operations: z
    .array(
      z.object({
        op: z.string().refine((op) => ['add', 'replace', 'remove'].includes(op.toLowerCase()), 'is not add, replace or remove'),
        path: z.string().max(1000).optional(),
        value: z.unknown().optional(),
      }),
    )
    .min(1, 'has no operations')
    .max(1000, 'has more than 1,000 operations'),
});
export type PatchRequest = z.infer<typeof PatchRequest>;

type Json = Record<string, unknown>;

interface Path {
  /** The extension URN the attribute lives under, if any. */
  urn?: string;
  attribute: string;
  filter?: Filter;
  sub?: string;
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function parsePath(text: string): Path {
  let rest = text.trim();
  let urn: string | undefined;
  if (/^urn:/i.test(rest)) {
    const bracket = rest.indexOf('[');
    const cut = rest.lastIndexOf(':', bracket === -1 ? rest.length : bracket);
    urn = rest.slice(0, cut);
    rest = rest.slice(cut + 1);
    if (rest === '') return { attribute: urn };
  }
  const match = /^([A-Za-z][\w$-]*)(?:\[(.+)\])?(?:\.([A-Za-z][\w$-]*))?$/.exec(rest);
  if (!match?.[1]) throw new ScimError(400, `path: "${text.slice(0, 200)}" is not an attribute path`, 'invalidPath');
  const [, attribute, filterText, sub] = match;
  return { ...(urn ? { urn } : {}), attribute, ...(filterText ? { filter: parseFilter(filterText) } : {}), ...(sub ? { sub } : {}) };
}

/** The key in `object` that names `name` in any case, or `name` itself. */
function keyOf(object: Json, name: string): string {
  return Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
}

function holder(resource: Json, path: Path): Json {
  if (!path.urn) return resource;
  const key = keyOf(resource, path.urn);
  const found = resource[key];
  if (isObject(found)) return found;
  const made: Json = {};
  resource[key] = made;
  return made;
}

/** Elements are the same member when their `value` is (members, emails); otherwise when equal as JSON. */
const sameElement = (a: unknown, b: unknown) =>
  isObject(a) && isObject(b) && 'value' in a && 'value' in b ? a.value === b.value : JSON.stringify(a) === JSON.stringify(b);

function setAttribute(target: Json, name: string, value: unknown, op: 'add' | 'replace') {
  const key = keyOf(target, name);
  const current = target[key];
  if (op === 'add' && Array.isArray(current)) {
    const added = Array.isArray(value) ? value : [value];
    target[key] = [...current, ...added.filter((v) => !current.some((c) => sameElement(c, v)))];
  } else if (op === 'add' && isObject(current) && isObject(value)) {
    target[key] = { ...current, ...value };
  } else {
    target[key] = value;
  }
}

/** A sub-attribute path without a filter (`name.givenName`) sets inside the complex attribute. */
function setDotted(target: Json, dotted: string, value: unknown, op: 'add' | 'replace') {
  const [first, ...more] = dotted.split('.');
  if (!first) return;
  if (more.length === 0) return setAttribute(target, first, value, op);
  const key = keyOf(target, first);
  const inner = isObject(target[key]) ? (target[key] as Json) : {};
  target[key] = inner;
  setDotted(inner, more.join('.'), value, op);
}

/** `type eq "work"`: an element that would match, made when an add or replace names none that exists. */
function elementFor(filter: Filter): Json | undefined {
  if (filter.op === 'eq') return { [filter.attrPath]: filter.compValue };
  if (filter.op === 'and') {
    const parts = filter.filters.map(elementFor);
    return parts.every((p) => p !== undefined) ? Object.assign({}, ...parts) : undefined;
  }
  return undefined;
}

function applyOne(resource: Json, op: 'add' | 'replace' | 'remove', pathText: string | undefined, value: unknown) {
  if (pathText === undefined || pathText === '') {
    if (op === 'remove') throw new ScimError(400, 'Operations: remove needs a path', 'noTarget');
    if (!isObject(value)) throw new ScimError(400, 'Operations: an add or replace without a path needs an object of attributes as its value', 'invalidValue');
    for (const [name, v] of Object.entries(value)) {
      if (/^urn:/i.test(name) && isObject(v)) {
        for (const [inner, w] of Object.entries(v)) applyOne(resource, op, `${name}:${inner}`, w);
      } else applyOne(resource, op, name, v);
    }
    return;
  }
  const path = parsePath(pathText);
  const target = holder(resource, path);
  const key = keyOf(target, path.attribute);
  if (!path.filter) {
    if (path.sub) {
      if (op === 'remove') {
        const inner = target[key];
        if (isObject(inner)) delete inner[keyOf(inner, path.sub)];
        return;
      }
      return setDotted(target, `${path.attribute}.${path.sub}`, value, op);
    }
    if (op === 'remove') {
      const current = target[key];
      // Entra ID removes members by listing them as the value of a remove on "members".
      if (Array.isArray(current) && value !== undefined) {
        const gone = Array.isArray(value) ? value : [value];
        target[key] = current.filter((c) => !gone.some((g) => sameElement(c, g)));
      } else delete target[key];
      return;
    }
    return setAttribute(target, path.attribute, value, op);
  }
  const list = Array.isArray(target[key]) ? (target[key] as unknown[]) : [];
  const filter = path.filter;
  const hit = (element: unknown) => isObject(element) && matches(filter, element);
  if (op === 'remove') {
    if (path.sub) {
      const sub = path.sub;
      for (const element of list) if (hit(element) && isObject(element)) delete element[keyOf(element, sub)];
    } else target[key] = list.filter((element) => !hit(element));
    return;
  }
  const matched = list.filter(hit);
  if (matched.length === 0) {
    const made = elementFor(filter);
    if (!made) throw new ScimError(400, `path: no value of ${path.attribute} matches "${pathText.slice(0, 200)}"`, 'noTarget');
    const element = path.sub ? { ...made, [path.sub]: value } : isObject(value) ? { ...made, ...value } : made;
    target[key] = [...list, element];
    return;
  }
  for (const element of matched) {
    if (!isObject(element)) continue;
    if (path.sub) element[keyOf(element, path.sub)] = value;
    else if (isObject(value)) Object.assign(element, value);
  }
}

/** The resource after every operation, in order; the input is not changed. */
export function applyPatch(resource: Json, request: PatchRequest): Json {
  const copy = structuredClone(resource);
  for (const [at, operation] of request.Operations.entries()) {
    const op = operation.op.toLowerCase() as 'add' | 'replace' | 'remove';
    try {
      applyOne(copy, op, operation.path, operation.value);
    } catch (error) {
      if (error instanceof ScimError) throw new ScimError(error.status, `Operations[${at}]: ${error.message}`, error.scimType);
      throw error;
    }
  }
  return copy;
}
