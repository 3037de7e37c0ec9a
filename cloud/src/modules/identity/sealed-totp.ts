import type { SealedData } from '../../platform/keyring';
import type { SecretBox } from '../../platform/secret-box';
import type { DirectoryService } from '../directory';

/** People's TOTP seeds (sealed in the directory, bound to the person) as sealed data of the title ring. */
export function sealedTotpSeeds(
  directory: Pick<DirectoryService, 'totpSecretKeyCounts' | 'totpSecretsNotSealedWith' | 'resealTotpSecret'>,
  box: SecretBox,
  ring: { ring: string; firstKeyId: string; newestKeyId: string },
): SealedData {
  return {
    what: 'TOTP seeds',
    ring: ring.ring,
    async countByKey() {
      const counts = new Map<string, number>();
      for (const { keyId, n } of await directory.totpSecretKeyCounts()) {
        const id = keyId ?? ring.firstKeyId;
        counts.set(id, (counts.get(id) ?? 0) + n);
      }
      return counts;
    },
    async resealBatch(limit, cursor) {
      const rows = await directory.totpSecretsNotSealedWith(`v2.${ring.newestKeyId}.`, cursor, limit);
      let resealed = 0;
      let unreadable = 0;
      for (const row of rows) {
        let seed: string;
        try {
          seed = box.open(row.totpSecret, row.id);
        } catch {
          unreadable++;
          continue;
        }
        if (await directory.resealTotpSecret(row.id, row.totpSecret, box.seal(seed, row.id))) resealed++;
      }
      const last = rows[rows.length - 1];
      return { resealed, unreadable, cursor: rows.length < limit || !last ? undefined : last.id };
    },
  };
}
