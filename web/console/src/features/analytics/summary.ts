// The customer summary's cells (one per org unit, owner, stage and type) summed the ways the
// screens show them.
import type { CustomerSummary } from '@keyuan/shared'

/** Counts summed by the stage or the type of the cells. */
export function countBy(summary: CustomerSummary, key: 'lifecycle_stage' | 'type'): Map<string, number> {
  const totals = new Map<string, number>()
  for (const cell of summary.counts) {
    totals.set(cell[key], (totals.get(cell[key]) ?? 0) + cell.count)
  }
  return totals
}

export interface NamedCount {
  id: string
  /** The name the summary gives, or the start of the id when the unit or user is gone. */
  label: string
  count: number
}

/** How many characters of an id stand for a unit or user that has no name any more. */
export const SHORT_ID_LENGTH = 8

export function shortId(id: string): string {
  return id.length > SHORT_ID_LENGTH ? `${id.slice(0, SHORT_ID_LENGTH)}…` : id
}

const DIMENSIONS = {
  org_unit: { id: 'org_unit_id', name: 'org_unit_name' },
  owner: { id: 'owner_id', name: 'owner_name' },
} as const

/** Counts by org unit or by owner, most first, each under the name the summary carries. Two
 * units of the same name stay two bars: they are told apart by id, not by name. */
export function countByNamed(summary: CustomerSummary, dimension: keyof typeof DIMENSIONS): NamedCount[] {
  const keys = DIMENSIONS[dimension]
  const totals = new Map<string, NamedCount>()
  for (const cell of summary.counts) {
    const id = cell[keys.id]
    const found = totals.get(id) ?? { id, label: '', count: 0 }
    found.label ||= cell[keys.name]
    found.count += cell.count
    totals.set(id, found)
  }
  return [...totals.values()]
    .map((row) => ({ ...row, label: row.label || shortId(row.id) }))
    .sort((a, b) => b.count - a.count)
}
