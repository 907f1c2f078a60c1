// The analytics read model, typed by the OpenAPI document's parameters.
import { call, type CustomerSummary, type paths } from '@keyuan/shared'
import { api } from '../../app'

export type SummaryQuery = NonNullable<paths['/api/v1/analytics/customer-summary']['get']['parameters']['query']>

export async function customerSummary(query: SummaryQuery = {}): Promise<CustomerSummary> {
  return (await call(api.GET('/api/v1/analytics/customer-summary', { params: { query } }))) as unknown as CustomerSummary
}

/** Counts summed by one dimension of the summary's cells. */
export function countBy<K extends 'lifecycle_stage' | 'type' | 'org_unit_id' | 'owner_id'>(
  summary: CustomerSummary,
  key: K,
): Map<string, number> {
  const totals = new Map<string, number>()
  for (const cell of summary.counts) {
    totals.set(cell[key], (totals.get(cell[key]) ?? 0) + cell.count)
  }
  return totals
}
