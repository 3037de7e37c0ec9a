import { sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import type { SealedData } from '../../platform/keyring';
import { TITLE_HEADER_BYTES, TITLE_MAGIC, type TitleCipher } from './title-cipher';

/** Span titles as sealed data of the title ring: counted by the key id in their header, re-sealed in id order. */
export function sealedTitles(database: Database, titles: TitleCipher): SealedData {
  const newestHeader = () => Buffer.concat([TITLE_MAGIC, Buffer.from(titles.keys.newest.keyId, 'latin1')]);
  return {
    what: 'window titles',
    ring: titles.keys.ring,
    async countByKey() {
      const rows = await database.rows<{ key_id: string | null; n: number }>(sql`
        select case when length(title_enc) >= ${TITLE_HEADER_BYTES + 28} and substring(title_enc from 1 for 4) = ${TITLE_MAGIC}
                    then convert_from(substring(title_enc from 5 for 16), 'LATIN1') end as key_id,
               count(*)::int as n
          from spans where title_enc is not null group by 1`);
      const counts = new Map<string, number>();
      for (const r of rows) {
        const keyId = r.key_id ?? titles.keys.first.keyId;
        counts.set(keyId, (counts.get(keyId) ?? 0) + Number(r.n));
      }
      return counts;
    },
    async resealBatch(limit, cursor) {
      const header = newestHeader();
      const rows = await database.rows<{ id: string; start: Date | string; title_enc: Uint8Array }>(sql`
        select id, start, title_enc from spans
         where title_enc is not null and substring(title_enc from 1 for ${TITLE_HEADER_BYTES}) <> ${header}
           and (${cursor ?? null}::uuid is null or id > ${cursor ?? null}::uuid)
         order by id limit ${limit}`);
      let resealed = 0;
      let unreadable = 0;
      for (const row of rows) {
        const before = Buffer.from(row.title_enc);
        let plain: string;
        try {
          plain = titles.decrypt(before);
        } catch {
          unreadable++;
          continue;
        }
        // Only if no one changed it meanwhile (an erasure, another worker's batch).
        const changed = await database.rows<{ id: string }>(sql`
          update spans set title_enc = ${titles.encrypt(plain)}
           where id = ${row.id}::uuid and start = ${new Date(row.start).toISOString()}::timestamptz and title_enc = ${before}
          returning id`);
        resealed += changed.length;
      }
      const last = rows[rows.length - 1];
      return { resealed, unreadable, cursor: rows.length < limit || !last ? undefined : last.id };
    },
  };
}
