// The customer table's sortable columns and the server's `sort` each order stands for: names by
// pinyin, created and updated times. Other columns do not sort: a keyset-paged list can only be
// ordered by the server, and it orders by these.
import { DEFAULT_CUSTOMER_SORT, type CustomerSort } from '@keyuan/shared'

export const SORTABLE_COLUMNS = ['name', 'created_at', 'updated_at'] as const
export type SortableColumn = (typeof SORTABLE_COLUMNS)[number]
/** Element Plus's names for a column's order. */
export type TableOrder = 'ascending' | 'descending'

export interface TableSort {
  prop: SortableColumn
  order: TableOrder
}

/** The orders a header's clicks go through, the first click's first: A→Z for names, newest first
 * for times. Never none: the list always has an order, and the arrow shows it. */
export function sortOrders(column: SortableColumn): TableOrder[] {
  return column === 'name' ? ['ascending', 'descending'] : ['descending', 'ascending']
}

function isSortable(prop: unknown): prop is SortableColumn {
  return SORTABLE_COLUMNS.includes(prop as SortableColumn)
}

/** The `sort` for the table's sort-change; undefined (the API's default) when nothing is chosen. */
export function sortOf(change: { prop?: string | null; order?: string | null }): CustomerSort | undefined {
  const { prop, order } = change
  if (!isSortable(prop) || (order !== 'ascending' && order !== 'descending')) return undefined
  return order === 'descending' ? `-${prop}` : prop
}

/** The header arrow that shows `sort` (the API's default when none is chosen). */
export function tableSortOf(sort: CustomerSort | undefined): TableSort {
  const chosen = sort ?? DEFAULT_CUSTOMER_SORT
  const descending = chosen.startsWith('-')
  const prop = chosen.replace(/^-/, '')
  if (!isSortable(prop)) throw new Error(`no column sorts by ${chosen}`)
  return { prop, order: descending ? 'descending' : 'ascending' }
}
