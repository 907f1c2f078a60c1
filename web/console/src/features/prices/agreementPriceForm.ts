// The pricing forms' own checks (agreement price, approval threshold), as i18n keys beside their fields.
import type { FieldMessage } from '@keyuan/shared'

/** Our own checks before the call; the order service checks again (overlaps only it can see). */
export function checkAgreementPrice(given: { product_id: string; price: string; valid_from: string }): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  if (!given.product_id) found.product_id = { key: 'prices.productRequired' }
  if (!/^\d+(\.\d{1,2})?$/.test(given.price.trim())) found.price = { key: 'prices.priceInvalid' }
  if (!given.valid_from) found.valid_from = { key: 'prices.validFromRequired' }
  return found
}

/** A percent from 1 to 100 with at most two decimals, as the order service takes it. */
export function thresholdProblem(value: string): string | null {
  const trimmed = value.trim()
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(trimmed)) return 'prices.thresholdInvalid'
  const number = Number(trimmed)
  return number >= 1 && number <= 100 ? null : 'prices.thresholdInvalid'
}
