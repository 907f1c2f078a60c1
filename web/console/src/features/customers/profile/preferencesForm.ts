// The preferences and requirements form's model: what it edits, what it checks before sending,
// and the PATCH it sends (only what changed, with the version read).
import { declared, type Customer, type CustomerPatch, type FieldMessage } from '@keyuan/shared'
import type { DeliveryWindow, PreferencesInput, RequirementKind, SpecialRequirementInput } from './api'
import { checkWindows, normaliseTime } from './deliveryWindows'

export interface RequirementDraft {
  on: boolean
  details: string[]
  note: string
  /** The name shown for a kind the tenant no longer lists (the customer keeps it). */
  label: string
  detailsLabel: string
  takesDetails: boolean
}

export interface PreferencesDraft {
  categories: string[]
  specifications: string[]
  quality_grade: string
  brands: string[]
  delivery_windows: DeliveryWindow[]
  delivery_notes: string
  /** By kind key: the tenant's kinds first, in their order, then any other the customer has. */
  requirements: Record<string, RequirementDraft>
}

export function preferencesDraft(customer: Customer, kinds: readonly RequirementKind[]): PreferencesDraft {
  const p = customer.preferences
  const requirements: Record<string, RequirementDraft> = {}
  for (const kind of kinds) {
    requirements[kind.key] = {
      on: false,
      details: [],
      note: '',
      label: kind.label,
      detailsLabel: kind.details_label ?? '',
      takesDetails: Boolean(kind.takes_details),
    }
  }
  for (const held of customer.special_requirements) {
    const known = requirements[held.kind]
    requirements[held.kind] = {
      on: true,
      details: [...held.details],
      note: held.note,
      label: known?.label ?? held.label,
      detailsLabel: known?.detailsLabel ?? held.details_label,
      takesDetails: known ? known.takesDetails : held.details.length > 0,
    }
  }
  return {
    categories: [...p.categories],
    specifications: [...p.specifications],
    quality_grade: p.quality_grade,
    brands: [...p.brands],
    delivery_windows: p.delivery_windows.map((w) => ({ weekday: w.weekday, start: w.start, end: w.end })),
    delivery_notes: p.delivery_notes,
    requirements,
  }
}

/** The chosen requirements in the order they are sent: the index a refusal names is this list's. */
const chosen = (draft: PreferencesDraft): [string, RequirementDraft][] => Object.entries(draft.requirements).filter(([, r]) => r.on)

export const chosenKinds = (draft: PreferencesDraft): string[] => chosen(draft).map(([kind]) => kind)

export function requirementsBody(draft: PreferencesDraft): SpecialRequirementInput[] {
  return chosen(draft).map(([kind, r]) => ({
    kind,
    details: r.takesDetails ? r.details.map((d) => d.trim()).filter(Boolean) : [],
    note: r.note.trim(),
  }))
}

export function preferencesBody(draft: PreferencesDraft): Required<PreferencesInput> {
  return {
    categories: draft.categories,
    specifications: draft.specifications,
    quality_grade: draft.quality_grade.trim(),
    brands: draft.brands,
    delivery_windows: draft.delivery_windows.map((w) => ({ weekday: w.weekday, start: normaliseTime(w.start), end: normaliseTime(w.end) })),
    delivery_notes: draft.delivery_notes.trim(),
  }
}

const LIST_FIELDS = ['categories', 'specifications', 'brands'] as const

/** Every problem the form can see before sending, keyed by the API's field names. */
export function checkPreferences(draft: PreferencesDraft): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  for (const field of LIST_FIELDS) {
    const problem = declared('PreferencesIn', field)(draft[field])
    if (problem) found[`preferences.${field}`] = problem
  }
  for (const field of ['quality_grade', 'delivery_notes'] as const) {
    const problem = declared('PreferencesIn', field)(draft[field])
    if (problem) found[`preferences.${field}`] = problem
  }
  Object.assign(found, checkWindows(preferencesBody(draft).delivery_windows))
  chosen(draft).forEach(([, r], index) => {
    const at = `special_requirements[${index}]`
    if (r.takesDetails && !r.details.some((d) => d.trim())) found[`${at}.details`] = { key: 'c360.detailsRequired', values: { what: r.detailsLabel } }
    else {
      const problem = declared('SpecialRequirementIn', 'details')(r.details)
      if (problem) found[`${at}.details`] = problem
    }
    const note = declared('SpecialRequirementIn', 'note')(r.note)
    if (note) found[`${at}.note`] = note
  })
  return found
}

/** The API field names the form has an input for (a refusal of another is listed above it). */
export function preferencesFields(draft: PreferencesDraft): string[] {
  return [
    ...LIST_FIELDS.map((f) => `preferences.${f}`),
    'preferences.quality_grade',
    'preferences.delivery_notes',
    'preferences.delivery_windows',
    ...draft.delivery_windows.flatMap((_, i) => ['weekday', 'start', 'end'].map((f) => `preferences.delivery_windows[${i}].${f}`)),
    'special_requirements',
    ...chosenKinds(draft).flatMap((_, i) => ['kind', 'details', 'note'].map((f) => `special_requirements[${i}].${f}`)),
  ]
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/** Only what changed, with the version read, so a concurrent edit is refused rather than lost. */
export function preferencesPatch(customer: Customer, kinds: readonly RequirementKind[], draft: PreferencesDraft): CustomerPatch {
  const before = preferencesDraft(customer, kinds)
  const patch: CustomerPatch = { expected_version: customer.version }
  if (!same(preferencesBody(before), preferencesBody(draft))) patch.preferences = preferencesBody(draft)
  if (!same(requirementsBody(before), requirementsBody(draft))) patch.special_requirements = requirementsBody(draft)
  return patch
}
