// People and teams in SCIM's words (RFC 7643 §4): a person is a User (userName, emails, active,
// the team as its one group), a team is a Group (displayName, members). What the provider sends
// is read back leniently where IdPs differ ("False" as a string, the name given in parts) and
// strictly where the product needs it (an email to sign in with), naming the attribute refused.
import { z } from 'zod';
import type { ProvisionedPerson } from '../directory';
import { ScimError } from './scim-error';
import type { ScimGroupRow, ScimUserRow } from './store';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export type Json = Record<string, unknown>;

export interface UserInput {
  userName: string;
  externalId: string | null;
  email: string;
  name: string;
  active: boolean;
}

export interface GroupInput {
  displayName: string;
  externalId: string | null;
  memberIds: string[];
}

const Email = z.email();

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const field = (o: Json, name: string): unknown => Object.entries(o).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

function invalid(attribute: string, problem: string): ScimError {
  return new ScimError(400, `${attribute}: ${problem}`, 'invalidValue');
}

/** Entra ID sends booleans as "True"/"False" in some flows; anything else is refused. */
function bool(value: unknown, attribute: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalid(attribute, 'is not a boolean');
}

function limited(value: string, attribute: string, max: number): string {
  if (value.length > max) throw invalid(attribute, `is longer than ${max} characters`);
  // Names are shown in pages and the audit log: control characters are refused, as elsewhere.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(attribute, 'contains control characters');
  return value;
}

/** The email the person signs in with: the primary one, else the work one, else the first, else a userName that is an address. */
export function userFromScim(body: unknown): UserInput {
  if (!isObject(body)) throw new ScimError(400, 'The body is not a JSON object', 'invalidSyntax');
  const userName = text(field(body, 'userName'));
  if (!userName) throw invalid('userName', 'is required');
  const emailsValue = field(body, 'emails');
  const emails = Array.isArray(emailsValue) ? emailsValue.filter(isObject) : [];
  const pick =
    emails.find((e) => field(e, 'primary') === true || field(e, 'primary') === 'True') ??
    emails.find((e) => text(field(e, 'type'))?.toLowerCase() === 'work') ??
    emails[0];
  const email = text(pick ? field(pick, 'value') : undefined) ?? (userName.includes('@') ? userName : undefined);
  if (!email) throw invalid('emails', 'no email address given, and userName is not one');
  if (!Email.safeParse(email).success) throw invalid(pick ? 'emails.value' : 'userName', `"${email.slice(0, 100)}" is not an email address`);
  const nameValue = field(body, 'name');
  const nameObject = isObject(nameValue) ? nameValue : {};
  const parts = [text(field(nameObject, 'givenName')), text(field(nameObject, 'familyName'))].filter((p) => p !== undefined).join(' ');
  const name = text(field(body, 'displayName')) ?? text(field(nameObject, 'formatted')) ?? (parts || email);
  const externalId = text(field(body, 'externalId')) ?? null;
  return {
    userName: limited(userName, 'userName', 320),
    externalId: externalId === null ? null : limited(externalId, 'externalId', 500),
    email: limited(email.toLowerCase(), 'emails.value', 320),
    name: limited(name, 'displayName', 200),
    active: bool(field(body, 'active'), 'active', true),
  };
}

export function groupFromScim(body: unknown): GroupInput {
  if (!isObject(body)) throw new ScimError(400, 'The body is not a JSON object', 'invalidSyntax');
  const displayName = text(field(body, 'displayName'));
  if (!displayName) throw invalid('displayName', 'is required');
  const membersValue = field(body, 'members') ?? [];
  if (!Array.isArray(membersValue)) throw invalid('members', 'is not a list');
  const memberIds = membersValue.map((m, i) => {
    const value = isObject(m) ? text(field(m, 'value')) : undefined;
    if (!value) throw invalid(`members[${i}].value`, 'is required');
    return value;
  });
  const externalId = text(field(body, 'externalId')) ?? null;
  return {
    displayName: limited(displayName, 'displayName', 200),
    externalId: externalId === null ? null : limited(externalId, 'externalId', 500),
    memberIds: [...new Set(memberIds)],
  };
}

export function userToScim(person: ProvisionedPerson, scim: ScimUserRow | undefined, team: { id: string; name: string } | undefined, base: string): Json {
  return {
    schemas: [USER_SCHEMA],
    id: person.id,
    ...(scim?.externalId ? { externalId: scim.externalId } : {}),
    userName: scim?.userName ?? person.email,
    name: { formatted: person.name },
    displayName: person.name,
    emails: [{ value: person.email, type: 'work', primary: true }],
    active: person.active,
    groups: team ? [{ value: team.id, display: team.name, $ref: `${base}/Groups/${team.id}`, type: 'direct' }] : [],
    meta: {
      resourceType: 'User',
      created: (scim?.createdAt ?? person.createdAt).toISOString(),
      lastModified: (scim?.updatedAt ?? person.createdAt).toISOString(),
      location: `${base}/Users/${person.id}`,
    },
  };
}

export function groupToScim(
  team: { id: string; name: string; createdAt: Date },
  scim: ScimGroupRow | undefined,
  members: { id: string; name: string }[] | undefined,
  base: string,
): Json {
  return {
    schemas: [GROUP_SCHEMA],
    id: team.id,
    ...(scim?.externalId ? { externalId: scim.externalId } : {}),
    displayName: team.name,
    ...(members ? { members: members.map((m) => ({ value: m.id, display: m.name, $ref: `${base}/Users/${m.id}`, type: 'User' })) } : {}),
    meta: {
      resourceType: 'Group',
      created: (scim?.createdAt ?? team.createdAt).toISOString(),
      lastModified: (scim?.updatedAt ?? team.createdAt).toISOString(),
      location: `${base}/Groups/${team.id}`,
    },
  };
}
