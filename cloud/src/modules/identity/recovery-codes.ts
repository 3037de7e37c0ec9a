import { randomInt } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { AccountStore } from './account-store';

/** No 0/o, 1/l/i, u: codes are read off paper and typed by hand. */
const ALPHABET = '23456789abcdefghjkmnpqrstvwxyz';
const LENGTH = 12;
/** The first characters are stored in clear to find the row; the other 8 (39 bits) only under argon2id. */
const LOOKUP = 4;
export const RECOVERY_CODE_COUNT = 10;

/** `abcd-efgh-jkmn` as shown; what a person types is compared without case, spaces or dashes. */
const normalize = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');

export function looksLikeRecoveryCode(code: string): boolean {
  const n = normalize(code);
  return n.length === LENGTH && [...n].every((ch) => ALPHABET.includes(ch));
}

function newCode(): string {
  return Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

const shown = (code: string) => `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;

export function createRecoveryCodes(store: AccountStore, now: () => Date) {
  return {
    /** New codes for a person, replacing every earlier one; returned once, stored only hashed. */
    async replace(userId: string): Promise<string[]> {
      const codes: string[] = [];
      const lookups = new Set<string>();
      while (codes.length < RECOVERY_CODE_COUNT) {
        const code = newCode();
        if (lookups.has(code.slice(0, LOOKUP))) continue;
        lookups.add(code.slice(0, LOOKUP));
        codes.push(code);
      }
      const rows = await Promise.all(codes.map(async (code) => ({ lookup: code.slice(0, LOOKUP), hash: await hash(code) })));
      await store.replaceRecoveryCodes(userId, rows, now());
      return codes.map(shown);
    },

    /** True once per code: the code matches an unused one of the person's, which is then spent. */
    async use(userId: string, typed: string): Promise<boolean> {
      if (!looksLikeRecoveryCode(typed)) return false;
      const code = normalize(typed);
      const row = await store.findRecoveryCode(userId, code.slice(0, LOOKUP));
      if (!row || row.usedAt || !(await verify(row.hash, code))) return false;
      return store.spendRecoveryCode(userId, row.lookup, now());
    },

    left: (userId: string) => store.recoveryCodesLeft(userId),
  };
}
export type RecoveryCodes = ReturnType<typeof createRecoveryCodes>;
