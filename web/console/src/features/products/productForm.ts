// The product form's draft, its checks (as the gateway's ProductIn checks them) and the body it
// sends: money as strings with two decimals, never a float.
import type { FieldMessage, Product, ProductInput } from '@keyuan/shared'

export interface ProductDraft {
  sku: string
  name: string
  category: string
  specification: string
  unit: string
  list_price: string
  cost: string
  tax_rate: string
  halal: boolean
  organic: boolean
  contains_pork: boolean
  cold_chain: boolean
  allergens: string[]
  active: boolean
}

/** The fields the form has inputs for, by their API name (for the API's refusals). */
export const PRODUCT_FIELDS = [
  'sku',
  'name',
  'category',
  'specification',
  'unit',
  'list_price',
  'cost',
  'tax_rate',
  'attributes',
  'attributes.allergens',
  'active',
] as const

export function productDraft(product?: Product | null): ProductDraft {
  return {
    sku: product?.sku ?? '',
    name: product?.name ?? '',
    category: product?.category ?? '',
    specification: product?.specification ?? '',
    unit: product?.unit ?? '',
    list_price: product?.list_price ?? '',
    cost: product?.cost ?? '',
    tax_rate: product?.tax_rate ?? '0',
    halal: product?.attributes.halal ?? false,
    organic: product?.attributes.organic ?? false,
    contains_pork: product?.attributes.contains_pork ?? false,
    cold_chain: product?.attributes.cold_chain ?? false,
    allergens: [...(product?.attributes.allergens ?? [])],
    active: product?.active ?? true,
  }
}

const MONEY = /^\d{1,10}(\.\d{1,2})?$/
const RATE = /^(0(\.\d{1,4})?|1(\.0{1,4})?)$/
const SKU = /^[A-Za-z0-9._-]{1,64}$/

/** Our own checks before asking the API, by field; empty when the draft may be sent. */
export function checkProduct(draft: ProductDraft): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  if (!draft.sku.trim()) found.sku = { key: 'products.required' }
  else if (!SKU.test(draft.sku.trim())) found.sku = { key: 'products.skuInvalid' }
  if (!draft.name.trim()) found.name = { key: 'products.required' }
  if (!draft.unit.trim()) found.unit = { key: 'products.required' }
  if (!MONEY.test(draft.list_price.trim())) found.list_price = { key: 'products.moneyInvalid' }
  if (draft.cost.trim() && !MONEY.test(draft.cost.trim())) found.cost = { key: 'products.moneyInvalid' }
  if (!RATE.test(draft.tax_rate.trim() || '0')) found.tax_rate = { key: 'products.taxInvalid' }
  return found
}

export function productBody(draft: ProductDraft, version?: number): ProductInput {
  return {
    name: draft.name.trim(),
    category: draft.category.trim(),
    specification: draft.specification.trim(),
    unit: draft.unit.trim(),
    list_price: draft.list_price.trim(),
    cost: draft.cost.trim() || '0',
    tax_rate: draft.tax_rate.trim() || '0',
    attributes: {
      halal: draft.halal,
      organic: draft.organic,
      contains_pork: draft.contains_pork,
      cold_chain: draft.cold_chain,
      allergens: draft.allergens.map((a) => a.trim()).filter(Boolean),
    },
    active: draft.active,
    expected_version: version ?? null,
  }
}
