// The analytics read model, typed by the OpenAPI document.
import { call, type paths } from '@keyuan/shared'
import { api } from '../../app'

export type SummaryQuery = NonNullable<paths['/api/v1/analytics/customer-summary']['get']['parameters']['query']>

export const customerSummary = (query: SummaryQuery = {}) =>
  call(api.GET('/api/v1/analytics/customer-summary', { params: { query } }))

export type OwnershipQuery = NonNullable<paths['/api/v1/analytics/ownership']['get']['parameters']['query']>

export const ownershipSummary = (query: OwnershipQuery = {}) =>
  call(api.GET('/api/v1/analytics/ownership', { params: { query } }))
