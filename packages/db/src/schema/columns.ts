import { numeric, timestamp } from 'drizzle-orm/pg-core';

/** USD amounts are exact decimals (`numeric`), read and written as strings. */
export const usd = (name: string) => numeric(name);

/** Instants are stored with time zone, millisecond precision, and read as `Date`. */
export const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });
