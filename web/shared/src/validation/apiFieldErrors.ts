// The API's own refusals of single fields, by the field's REST name ("name",
// "contacts[0].mobile"), so a form shows each beside its input.
import { ApiError } from '../api/problem'

export function apiFieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {}
  const found: Record<string, string> = {}
  for (const item of error.fieldErrors) {
    if (item.field && !found[item.field]) found[item.field] = item.message
  }
  // A domain refusal names one field; its detail is already in the UI's language.
  if (error.field && !found[error.field]) {
    const detail = error.detail.startsWith(`${error.field}: `) ? error.detail.slice(error.field.length + 2) : error.detail
    found[error.field] = detail
  }
  return found
}

/** The errors of one nested object ("contacts[0]."), keyed by its own field names. */
export function nestedErrors(errors: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(errors)
      .filter(([field]) => field.startsWith(prefix))
      .map(([field, message]) => [field.slice(prefix.length), message]),
  )
}
