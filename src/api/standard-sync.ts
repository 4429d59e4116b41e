/**
 * What placement does at start-up: insert the standard traits (os-traits)
 * and resource classes (os-resource-classes, id = position in the list)
 * that the database lacks. Only when serving read-write.
 */
import type { Database } from '../db/connect.js';
import { utcTimestamp } from '../db/timestamps.js';
import { standardResourceClasses, standardTraits } from '../standard/standard-names.js';

export interface StandardSyncResult {
  traitsAdded: number;
  resourceClassesAdded: number;
}

/**
 * Inserts the missing standard traits and resource classes. Another
 * instance doing the same at the same moment is not an error (placement
 * ignores the duplicate too).
 */
export async function syncStandardData(db: Database): Promise<StandardSyncResult> {
  const now = utcTimestamp();
  const isCustom = (name: string) => name.startsWith('CUSTOM_');

  const haveTraits = new Set(
    (await db.knex('traits').select('name'))
      .map((r: { name: string }) => r.name)
      .filter((n) => !isCustom(n)),
  );
  const newTraits = standardTraits().filter((t) => !haveTraits.has(t));

  const haveClasses = new Set(
    (await db.knex('resource_classes').select('name'))
      .map((r: { name: string }) => r.name)
      .filter((n) => !isCustom(n)),
  );
  const newClasses = standardResourceClasses()
    .map((name, id) => ({ id, name, created_at: now }))
    .filter((c) => !haveClasses.has(c.name));

  const insert = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (err) {
      if (!db.dialect.isUniqueViolation(err)) throw err;
      return false;
    }
    return true;
  };
  let traitsAdded = 0;
  let resourceClassesAdded = 0;
  if (newTraits.length > 0) {
    const ok = await insert(() =>
      db.knex.batchInsert(
        'traits',
        newTraits.map((name) => ({ name, created_at: now })),
        100,
      ),
    );
    if (ok) traitsAdded = newTraits.length;
  }
  if (newClasses.length > 0) {
    const ok = await insert(() =>
      db.dialect.withExplicitZeroIds(db.knex, (trx) => trx('resource_classes').insert(newClasses)),
    );
    if (ok) resourceClassesAdded = newClasses.length;
  }
  return { traitsAdded, resourceClassesAdded };
}
