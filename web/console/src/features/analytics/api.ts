// The analytics read model, typed by the OpenAPI document.
import { call, type components, type paths } from '@keyuan/shared'
import { api } from '../../app'

export type SummaryQuery = NonNullable<paths['/api/v1/analytics/customer-summary']['get']['parameters']['query']>

export const customerSummary = (query: SummaryQuery = {}) =>
  call(api.GET('/api/v1/analytics/customer-summary', { params: { query } }))

export type OwnershipQuery = NonNullable<paths['/api/v1/analytics/ownership']['get']['parameters']['query']>

export const ownershipSummary = (query: OwnershipQuery = {}) =>
  call(api.GET('/api/v1/analytics/ownership', { params: { query } }))

export type RevisitRateQuery = NonNullable<paths['/api/v1/analytics/revisit-rate']['get']['parameters']['query']>
export type RevisitRateSummary = components['schemas']['RevisitRateSummaryOut']

export const revisitRate = (query: RevisitRateQuery = {}) =>
  call(api.GET('/api/v1/analytics/revisit-rate', { params: { query } }))
