// A create or edit refused because the credit code, mobile or WeChat id belongs to a customer.
import { ApiError, type ExistingCustomer } from '../api/problem'

export interface Duplicate {
  /** The API's sentence, naming the customer when the caller may see it. */
  detail: string
  field?: string
  /** Present when the caller may open the existing customer. */
  existing?: ExistingCustomer
}

export function duplicateOf(error: unknown): Duplicate | null {
  if (!(error instanceof ApiError) || error.status !== 409 || error.code !== 'already_exists') return null
  return { detail: error.detail, field: error.field, existing: error.existing }
}
