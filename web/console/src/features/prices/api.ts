// The pricing calls of the console: agreement prices (协议价) of a customer and its group, the
// prices a customer got before (历史成交价) for the hint beside a price field, and the tenant's
// quote approval threshold.
import { call, type ApiClient, type components, type paths, type Role } from '@keyuan/shared'

type Schemas = components['schemas']

export type AgreementPrice = Schemas['AgreementPriceOut']
export type AgreementPriceInput = Schemas['AgreementPriceIn']
export type ProductPrices = Schemas['ProductPricesOut']
export type PastPrice = Schemas['PastPriceOut']
export type PricingSettings = Schemas['PricingSettingsOut']
export type AgreementPriceQuery = NonNullable<paths['/api/v1/agreement-prices']['get']['parameters']['query']>

/** Who agrees prices (the order service's PRICE_WRITERS; a supervisor for their unit's customers). */
export const PRICE_WRITER_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor']

export const pricesApi = (client: ApiClient) => ({
  list: (query: AgreementPriceQuery) =>
    call(client.GET('/api/v1/agreement-prices', { params: { query: { page_size: 200, ...query } } })),
  create: (body: AgreementPriceInput) => call(client.POST('/api/v1/agreement-prices', { body })),
  change: (id: string, body: AgreementPriceInput, version: number) =>
    call(
      client.PUT('/api/v1/agreement-prices/{price_id}', {
        params: { path: { price_id: id } },
        body: { ...body, expected_version: version },
      }),
    ),
  remove: (id: string, version: number) =>
    call(
      client.DELETE('/api/v1/agreement-prices/{price_id}', {
        params: { path: { price_id: id }, query: { expected_version: version } },
      }),
    ),
  past: (customerId: string, productIds: string[]) =>
    call(client.GET('/api/v1/past-prices', { params: { query: { customer_id: customerId, product_id: productIds } } })),
  settings: () => call(client.GET('/api/v1/pricing-settings')),
  updateSettings: (approvalThreshold: string, version: number) =>
    call(
      client.PUT('/api/v1/pricing-settings', {
        body: { approval_threshold: approvalThreshold, expected_version: version || null },
      }),
    ),
})
