// The ownership summary as its screen shows it: pools by size, claims, returns and releases on
// every day of the range (days without any are zeros, not gaps), coverage lowest first.
import { POOL_MOVEMENT_KINDS, type Coverage, type OwnershipSummary, type PoolMovementKind } from '@keyuan/shared'
import type { Bar } from './charts'

const DAY_MS = 86_400_000
/** A range longer than this many days is cut short (the picker allows years). */
const MAX_DAYS = 366 * 3

/** Every calendar day from `from` to `to` (YYYY-MM-DD, Asia/Shanghai as the API counts them),
 * both included. Stepping whole days in UTC keeps them calendar days, whatever the browser's zone. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = []
  const end = Date.parse(`${to}T00:00:00Z`)
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= end && days.length < MAX_DAYS; at += DAY_MS) {
    days.push(new Date(at).toISOString().slice(0, 10))
  }
  return days
}

export interface MovementsPerDay {
  days: string[]
  counts: Record<PoolMovementKind, number[]>
}

/** Each kind's count on each day of the range, summed over the pools (or of one pool). */
export function movementsPerDay(summary: OwnershipSummary, from: string, to: string, poolId = ''): MovementsPerDay {
  const days = daysBetween(from, to)
  const index = new Map(days.map((day, i) => [day, i]))
  const counts = Object.fromEntries(POOL_MOVEMENT_KINDS.map((kind) => [kind, days.map(() => 0)])) as MovementsPerDay['counts']
  for (const movement of summary.movements) {
    const at = index.get(movement.date)
    if (at === undefined || (poolId && movement.pool_id !== poolId)) continue
    counts[movement.kind][at]! += movement.count
  }
  return { days, counts }
}

/** Pools by their customers, most first; one the caller may not open is `unknown`. */
export function poolSizes(summary: OwnershipSummary, unknown: string): Bar[] {
  return summary.pools
    .map((pool) => ({ label: pool.pool_name || unknown, value: pool.customers }))
    .sort((a, b) => b.value - a.value)
}

export interface CoverageRow extends Coverage {
  /** The owner's name, or `unknown` for someone no longer in the directory. */
  label: string
}

/** Owners by the share of their customers followed up in 30 days, lowest first: who needs a
 * word. Among equal shares the bigger book comes first, then by name. */
export function coverageLowestFirst(summary: OwnershipSummary, unknown: string): CoverageRow[] {
  return summary.coverage
    .map((row) => ({ ...row, label: row.owner_name || unknown }))
    .sort((a, b) => a.share - b.share || b.customers - a.customers || a.label.localeCompare(b.label, 'zh-CN'))
}
