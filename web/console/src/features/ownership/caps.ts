// Customer caps as the editor shows them: the tenant's default (0 for none) and each person's
// own cap (null for the default), and the PUT that changes only what was changed.
import type { CustomerCaps, CustomerCapsInput, UserCap } from '@keyuan/shared'

/** The gateway's bound on a cap (CustomerCapsIn / UserCapIn). */
export const MAX_CAP = 100_000

export interface CapRow extends UserCap {
  /** The cap being edited: null follows the default. */
  own: number | null
}

export function capRows(caps: CustomerCaps): CapRow[] {
  return caps.users.map((user) => ({ ...user, own: user.cap }))
}

/** What applies to a person: their own cap, else the default; null when neither limits them. */
export function effectiveCap(own: number | null, defaultCap: number | null): number | null {
  return own || defaultCap || null
}

/** The body of the PUT: the default when changed (0 → null: no cap) and the people whose own cap
 * changed (null: back to the default); null when nothing changed. */
export function capsChanges(saved: CustomerCaps, defaultCap: number | null, rows: CapRow[]): CustomerCapsInput | null {
  const body: CustomerCapsInput = {}
  if ((defaultCap || null) !== saved.default_cap) body.default_cap = defaultCap || null
  const before = new Map(saved.users.map((user) => [user.user_id, user.cap]))
  const users = rows
    .filter((row) => (row.own || null) !== (before.get(row.user_id) ?? null))
    .map((row) => ({ user_id: row.user_id, cap: row.own || null }))
  if (users.length) body.users = users
  return Object.keys(body).length ? body : null
}
