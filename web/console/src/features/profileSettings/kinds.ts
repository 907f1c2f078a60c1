// The tenant's lists of kinds (licences, special requirements), tier and grade names and revisit
// plans as their forms edit them, with the checks the gateway makes before it would refuse them.
import { declared, firstProblem, limitOf, TIERS, type FieldMessage, type Tier } from '@keyuan/shared'
import type { LicenceKind, RequirementKind, RevisitPlan, TierLabels } from './api'

// The gateway's LicenceKindList (its limits are not in limits.ts, which holds only `…In` bodies).
const LICENCE_KINDS_MAX = 50
const LICENCE_NAME_MAX = 30
const REQUIREMENT_KINDS_MAX = limitOf('RequirementKindsIn', 'items').maxItems ?? 30

/** A name to add to a list of licence kinds: its problem, or null (an empty draft is no problem
 * and adds nothing). */
export function newKindProblem(name: string, kinds: readonly LicenceKind[]): FieldMessage | null {
  const trimmed = name.trim()
  if (!trimmed) return null
  if (trimmed.length > LICENCE_NAME_MAX) return { key: 'validation.maxLength', values: { max: LICENCE_NAME_MAX } }
  if (kinds.some((kind) => kind.name === trimmed)) return { key: 'licenceKinds.duplicate' }
  if (kinds.length >= LICENCE_KINDS_MAX) return { key: 'validation.maxItems', values: { max: LICENCE_KINDS_MAX } }
  return null
}

export function checkLicenceKinds(kinds: readonly LicenceKind[]): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  if (!kinds.length) found.items = { key: 'licenceKinds.empty' }
  const seen = new Set<string>()
  kinds.forEach((kind, index) => {
    if (seen.has(kind.name)) found[`items[${index}].name`] = { key: 'licenceKinds.duplicate' }
    seen.add(kind.name)
  })
  return found
}

/** A new row of the special-requirement kinds. */
export const requirementKindDraft = (): RequirementKind => ({
  key: '',
  label: '',
  description: '',
  takes_details: false,
  details_label: '',
})

export function checkRequirementKinds(kinds: readonly RequirementKind[]): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  if (!kinds.length) found.items = { key: 'requirementKinds.empty' }
  if (kinds.length > REQUIREMENT_KINDS_MAX) found.items = { key: 'validation.maxItems', values: { max: REQUIREMENT_KINDS_MAX } }
  const seen = new Set<string>()
  kinds.forEach((kind, index) => {
    const prefix = `items[${index}].`
    const key = firstProblem(kind.key, [declared('RequirementKindIn', 'key', 'requirementKinds.keyHint')])
    if (!kind.key.trim()) found[`${prefix}key`] = { key: 'validation.required' }
    else if (key) found[`${prefix}key`] = key
    else if (seen.has(kind.key.trim())) found[`${prefix}key`] = { key: 'requirementKinds.duplicateKey' }
    seen.add(kind.key.trim())
    for (const field of ['label', 'description', 'details_label'] as const) {
      const problem = firstProblem(kind[field], [declared('RequirementKindIn', field)])
      if (problem) found[`${prefix}${field}`] = problem
    }
  })
  return found
}

export function requirementKindsBody(kinds: readonly RequirementKind[]): RequirementKind[] {
  return kinds.map((kind) => ({
    key: kind.key.trim(),
    label: (kind.label ?? '').trim(),
    description: (kind.description ?? '').trim(),
    takes_details: !!kind.takes_details,
    details_label: kind.takes_details ? (kind.details_label ?? '').trim() : '',
  }))
}

export const GRADES = ['S', 'A', 'B', 'C'] as const
export type Grade = (typeof GRADES)[number]
const LABEL_MAX = 10

export interface LabelsDraft {
  tier: Record<Tier, string>
  grade: Record<Grade, string>
}

export function labelsDraft(labels: TierLabels): LabelsDraft {
  return {
    tier: Object.fromEntries(TIERS.map((tier) => [tier, labels.tier?.[tier] ?? ''])) as Record<Tier, string>,
    grade: Object.fromEntries(GRADES.map((grade) => [grade, labels.grade?.[grade] ?? ''])) as Record<Grade, string>,
  }
}

export function checkLabels(draft: LabelsDraft): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  for (const [group, names] of Object.entries(draft) as [string, Record<string, string>][]) {
    for (const [value, name] of Object.entries(names)) {
      if (name.trim().length > LABEL_MAX) found[`${group}.${value}`] = { key: 'validation.maxLength', values: { max: LABEL_MAX } }
    }
  }
  return found
}

/** Every name as sent: trimmed; an empty one returns that value to its default. */
export function labelsBody(draft: LabelsDraft): TierLabels {
  const trimmed = (names: Record<string, string>) => Object.fromEntries(Object.entries(names).map(([k, v]) => [k, v.trim()]))
  return { tier: trimmed(draft.tier), grade: trimmed(draft.grade) }
}

export const MAX_INTERVAL_DAYS = 365

/** One row per tier, in the tiers' order, the API's plan where it has one. */
export function plansDraft(plans: readonly RevisitPlan[]): RevisitPlan[] {
  return TIERS.map((tier) => {
    const plan = plans.find((p) => p.tier === tier)
    return { tier, interval_days: plan?.interval_days ?? 0, assignee: plan?.assignee ?? 'owner' }
  })
}

export function checkPlans(plans: readonly RevisitPlan[]): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  plans.forEach((plan, index) => {
    const days = plan.interval_days as number | null
    if (days === null || !Number.isInteger(days) || days < 0 || days > MAX_INTERVAL_DAYS) {
      found[`plans[${index}].interval_days`] = { key: 'revisitPlans.intervalRange' }
    }
  })
  return found
}
