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

export interface PlacedFieldErrors {
  /** Messages to show beside the form's own inputs, by the input's API field name. */
  beside: Record<string, string>
  /** Refusals of fields the form has no input for, to list above it. */
  elsewhere: { field: string; message: string }[]
}

/** "addresses[0].detail" → "addresses[0]" → "addresses"; null at the top. */
function enclosing(field: string): string | null {
  const shorter = field.replace(/(\.[^.[\]]+|\[\d+\])$/, '')
  return shorter && shorter !== field ? shorter : null
}

/** The API's refusals placed on the inputs a form shows (`shown`, by API field name): on the
 * field's own input, else on the nearest enclosing one ("tags[2]" on "tags"), else listed apart,
 * so no refusal is lost. `aliases` say where a field reported under another name belongs (a
 * duplicate mobile is reported as "mobile"; on a customer form it is "contacts[0].mobile"). */
export function placeFieldErrors(
  error: unknown,
  shown: Iterable<string>,
  aliases: Record<string, string> = {},
): PlacedFieldErrors {
  const inputs = new Set(shown)
  const placed: PlacedFieldErrors = { beside: {}, elsewhere: [] }
  for (const [reported, message] of Object.entries(apiFieldErrors(error))) {
    let field: string | null = aliases[reported] ?? reported
    while (field !== null && !inputs.has(field)) field = enclosing(field)
    if (field === null) placed.elsewhere.push({ field: reported, message })
    else placed.beside[field] ??= message
  }
  return placed
}
