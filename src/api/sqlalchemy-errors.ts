/**
 * SQLAlchemy 1.4's text for a failed statement (str() of its DBAPIError),
 * which placement passes through to clients in a few 409s ("Update
 * conflict: (pymysql.err.IntegrityError) (1062, ...) [SQL: ...]
 * [parameters: ...] (Background on this error at: ...)"). The
 * engine-specific parts come from the dialect's PlacementDriver.
 */
import type { PlacementDriver } from '../db/dialect/dialect.js';
import { pyRepr, pyValueRepr } from './py-format.js';
import { PyFloat, type PyJson } from './py-json.js';

/** A bound value: what the client sent, or the instant SQLAlchemy stamped created_at with. */
export type BoundValue = PyJson | { datetime: Date };

/** SQLAlchemy's error codes, by the DBAPI exception's class, for its "Background" link. */
const BACKGROUND: Record<string, string> = { IntegrityError: 'gkpj', OperationalError: 'e3q8' };

/** repr() of a datetime.datetime: trailing zero seconds and microseconds are left out. */
function datetimeRepr(d: Date, microsecond: number): string {
  const parts = [
    d.getUTCFullYear(),
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
  ];
  if (d.getUTCSeconds() !== 0 || microsecond !== 0) parts.push(d.getUTCSeconds());
  if (microsecond !== 0) parts.push(microsecond);
  return `datetime.datetime(${parts.join(', ')})`;
}

/** SQLAlchemy's SQLite DateTime storage format: always six fractional digits. */
function sqliteDatetime(d: Date, microsecond: number): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(microsecond).padStart(6, '0')}`;
}

function bound(driver: PlacementDriver, value: BoundValue, float: boolean): string {
  if (value !== null && typeof value === 'object' && 'datetime' in value) {
    const microsecond = value.datetime.getUTCMilliseconds() * 1000;
    return driver.bindsProcessed
      ? pyRepr(sqliteDatetime(value.datetime, microsecond))
      : datetimeRepr(value.datetime, microsecond);
  }
  // sqlite3's Float type processor hands the driver float(value).
  if (float && driver.bindsProcessed && typeof value === 'number') {
    return pyValueRepr(new PyFloat(value));
  }
  return pyValueRepr(value as PyJson);
}

/**
 * The text of a failed single-row INSERT of `row` (column → value, in the
 * order SQLAlchemy binds them), or null when `err` is not the driver's.
 * `floatColumns` are Float columns (sqlite3 binds them as floats).
 */
export function failedInsertText(
  driver: PlacementDriver,
  err: unknown,
  table: string,
  row: readonly (readonly [string, BoundValue])[],
  floatColumns: readonly string[] = [],
): string | null {
  const exception = driver.exception(err);
  if (!exception) return null;
  const message =
    exception.errno === undefined
      ? exception.message
      : `(${exception.errno}, ${pyRepr(exception.message)})`;
  const columns = row.map(([c]) => c);
  const marks =
    driver.paramStyle === 'qmark' ? columns.map(() => '?') : columns.map((c) => `%(${c})s`);
  const returning = driver.insertReturnsId ? ` RETURNING ${table}.id` : '';
  const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${marks.join(', ')})${returning}`;
  const values = row.map(([c, v]) => bound(driver, v, floatColumns.includes(c)));
  const parameters =
    driver.paramStyle === 'qmark'
      ? `(${values.join(', ')}${values.length === 1 ? ',' : ''})`
      : `{${row.map(([c], i) => `${pyRepr(c)}: ${values[i]}`).join(', ')}}`;
  const code = BACKGROUND[exception.dbapiClass] ?? '4xp6';
  return (
    `(${exception.className}) ${message}\n[SQL: ${sql}]\n[parameters: ${parameters}]\n` +
    `(Background on this error at: https://sqlalche.me/e/14/${code})`
  );
}
