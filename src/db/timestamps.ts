/**
 * The created_at/updated_at value placement's own code writes: UTC, no time
 * zone, with microseconds (as SQLAlchemy stores a Python datetime; MySQL's
 * DATETIME drops the fraction).
 */
export function utcTimestamp(date: Date = new Date()): string {
  return `${date.toISOString().replace('T', ' ').replace('Z', '')}000`;
}
