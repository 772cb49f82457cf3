import type { DataSource } from 'typeorm';
import { SEALED, type SecretBox } from '@application/ports/secret-box';

/** One kind of sealed value: where it lives and the context it is sealed under. */
interface SealedColumns {
  name: keyof ResealCounts;
  table: string;
  /** The primary key (or the part of it that is unique within `where`), and its SQL type for the keyset. */
  id: string;
  idType: 'uuid' | 'text';
  /** Sealed columns of one row, each with its kind (SEALED's key) and context. */
  columns: readonly { column: string; kind: keyof typeof SEALED; context: (id: string) => string }[];
  where?: string;
}

const SEALED_COLUMNS: readonly SealedColumns[] = [
  { name: 'signingKeys', table: 'signing_keys', id: 'kid', idType: 'text', columns: [{ column: 'sealed_private_key', kind: 'signingKey', context: SEALED.signingKey }] },
  {
    name: 'totpSecrets',
    table: 'user_credentials',
    id: 'user_id',
    idType: 'uuid',
    where: "type = 'totp'",
    columns: [{ column: 'secret', kind: 'totpSecret', context: SEALED.totpSecret }],
  },
  { name: 'sessions', table: 'sessions', id: 'id', idType: 'uuid', columns: [{ column: 'sealed_refresh_token', kind: 'refreshToken', context: SEALED.refreshToken }] },
  {
    name: 'emails',
    table: 'email_outbox',
    id: 'id',
    idType: 'uuid',
    where: 'sealed_text IS NOT NULL', // a sent email's bodies are gone (EmailBodiesDroppedWhenSent)
    columns: [
      { column: 'sealed_text', kind: 'emailBody', context: (id) => SEALED.emailBody(id, 'text') },
      { column: 'sealed_html', kind: 'emailBody', context: (id) => SEALED.emailBody(id, 'html') },
    ],
  },
  {
    name: 'accountRequests',
    table: 'account_requests',
    id: 'id',
    idType: 'uuid',
    where: 'sealed_payload IS NOT NULL',
    columns: [{ column: 'sealed_payload', kind: 'accountRequest', context: SEALED.accountRequest }],
  },
];

/** Every kind of sealed value `reseal` covers (a test holds it to SEALED: a new kind must be added here). */
export const RESEALED_KINDS: readonly (keyof typeof SEALED)[] = [...new Set(SEALED_COLUMNS.flatMap((spec) => spec.columns.map((c) => c.kind)))];

export interface ResealTally {
  /** Rows written anew under the current key (they were under a previous key, or in the v1 format). */
  resealed: number;
  /** Rows already under the current key and format: left as they were. */
  current: number;
  /** Rows no key of the ring opens (a key dropped too early, a value altered): left as they are, counted. */
  unopenable: number;
}

export interface ResealCounts {
  signingKeys: ResealTally;
  totpSecrets: ResealTally;
  sessions: ResealTally;
  emails: ResealTally;
  accountRequests: ResealTally;
}

export const RESEAL_BATCH_SIZE = 1000;
/** Tries at one row that keeps changing between read and write (a session refreshed again and again). */
const MAX_ROW_TRIES = 5;

/**
 * `reseal`: every sealed value under a previous key (ENCRYPTION_KEYS_PREVIOUS) or in the old v1 format is sealed
 * again under the current key, so that the previous key can be dropped. In batches of `batchSize` rows in
 * primary-key order (an index scan each), one UPDATE per batch with no transaction around batches: no long lock,
 * requests go on.
 *
 * Each write is a compare-and-set on the value read (`WHERE col = old`): a row a request changed meanwhile (a
 * refresh rotating its token, a new TOTP set-up) keeps the request's value and is read and looked at again;
 * no write is lost either way.
 */
export async function resealRows(dataSource: DataSource, box: SecretBox, options: { batchSize?: number } = {}): Promise<ResealCounts> {
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? RESEAL_BATCH_SIZE));
  const counts = {} as ResealCounts;
  for (const spec of SEALED_COLUMNS) counts[spec.name] = await resealTable(dataSource, box, spec, batchSize);
  return counts;
}

type Row = Record<string, string>;
type Outcome = { kind: 'current' } | { kind: 'unopenable' } | { kind: 'changed'; id: string; next: string[]; old: string[] };

async function resealTable(dataSource: DataSource, box: SecretBox, spec: SealedColumns, batchSize: number): Promise<ResealTally> {
  const tally: ResealTally = { resealed: 0, current: 0, unopenable: 0 };
  const columns = spec.columns.map((c) => c.column);
  const extra = spec.where ? ` AND ${spec.where}` : '';
  // Two statements rather than `$1 IS NULL OR id > $1`, which a generic plan could not answer from the index.
  const first = `SELECT ${spec.id}::text AS id, ${columns.join(', ')} FROM ${spec.table} WHERE TRUE${extra} ORDER BY ${spec.table}.${spec.id} LIMIT $1`;
  const next = `SELECT ${spec.id}::text AS id, ${columns.join(', ')} FROM ${spec.table} WHERE ${spec.id} > $2::${spec.idType}${extra} ORDER BY ${spec.table}.${spec.id} LIMIT $1`;
  const selectOne = `SELECT ${spec.id}::text AS id, ${columns.join(', ')} FROM ${spec.table} WHERE ${spec.id} = $1::${spec.idType}${extra}`;
  // $1: the ids; then per column its new value and the value read.
  const values = columns.map((c, i) => `unnest($${2 * i + 2}::text[]) AS new_${c}, unnest($${2 * i + 3}::text[]) AS old_${c}`);
  const update = `UPDATE ${spec.table} t SET ${columns.map((c) => `${c} = v.new_${c}`).join(', ')}
    FROM (SELECT unnest($1::text[]) AS id, ${values.join(', ')}) v
    WHERE t.${spec.id} = v.id::${spec.idType}${spec.where ? ` AND t.${spec.where}` : ''} AND ${columns.map((c) => `t.${c} = v.old_${c}`).join(' AND ')}
    RETURNING t.${spec.id}::text AS id`;
  const look = (row: Row): Outcome => {
    const id = row['id'] as string;
    try {
      const next = spec.columns.map(({ column, context }) => box.reseal(row[column] as string, context(id)));
      if (next.every((value) => value === null)) return { kind: 'current' };
      return { kind: 'changed', id, next: next.map((value, i) => value ?? (row[columns[i] as string] as string)), old: columns.map((c) => row[c] as string) };
    } catch {
      return { kind: 'unopenable' };
    }
  };
  const write = async (changed: Extract<Outcome, { kind: 'changed' }>[]): Promise<Set<string>> => {
    const params = [changed.map((c) => c.id), ...columns.flatMap((_, i) => [changed.map((c) => c.next[i]), changed.map((c) => c.old[i])])];
    return new Set(returnedRows(await dataSource.query(update, params)).map((row) => row['id'] as string));
  };
  let after: string | null = null;
  for (;;) {
    const rows = (await (after === null ? dataSource.query(first, [batchSize]) : dataSource.query(next, [batchSize, after]))) as Row[];
    const changed: Extract<Outcome, { kind: 'changed' }>[] = [];
    for (const outcome of rows.map(look)) {
      if (outcome.kind === 'changed') changed.push(outcome);
      else tally[outcome.kind]++;
    }
    const written = changed.length > 0 ? await write(changed) : new Set<string>();
    tally.resealed += written.size;
    // Changed by a request between the read and the write: read again, one row at a time.
    for (const { id } of changed.filter((c) => !written.has(c.id))) {
      for (let attempt = 1; ; attempt++) {
        const row = ((await dataSource.query(selectOne, [id])) as Row[])[0];
        if (row === undefined) break; // deleted meanwhile: nothing left to seal
        const outcome = look(row);
        if (outcome.kind !== 'changed') {
          tally[outcome.kind]++;
          break;
        }
        if ((await write([outcome])).size === 1) {
          tally.resealed++;
          break;
        }
        if (attempt === MAX_ROW_TRIES) throw new Error(`reseal: ${spec.table} row ${id} changed under every one of ${MAX_ROW_TRIES} tries; run reseal again`);
      }
    }
    if (rows.length < batchSize) return tally;
    after = rows[rows.length - 1]?.['id'] ?? null;
  }
}

/** UPDATE ... RETURNING through TypeORM's postgres driver: [rows, affectedCount]; plain rows from some drivers. */
function returnedRows(result: unknown): Row[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as Row[];
  return Array.isArray(result) ? (result as Row[]) : [];
}
