// The rules editor's drafts: from the API's rules, checked as the API checks them, reordered, and
// back into the body of PUT /assignment-rules. Field names are the API's (`rules[2].target`), so
// its refusals land beside the right input.
import type { AssignmentRule, AssignmentRuleInput, AssignmentStrategy, CustomerSource } from '@keyuan/shared'

export const CONDITION_LISTS = ['provinces', 'cities', 'districts', 'customer_types', 'product_lines', 'sources'] as const
export type ConditionList = (typeof CONDITION_LISTS)[number]

export interface RuleDraft {
  /** Stable across reorders, for the list's keys. */
  key: string
  id: string | null
  name: string
  enabled: boolean
  conditions: Record<Exclude<ConditionList, 'sources'>, string[]> & { sources: CustomerSource[] }
  target: 'users' | 'org_unit'
  user_ids: string[]
  org_unit_id: string
  strategy: AssignmentStrategy
}

let drafts = 0

export function ruleDraft(rule?: AssignmentRule): RuleDraft {
  drafts += 1
  const conditions = rule?.conditions ?? {}
  return {
    key: rule?.id ?? `new-${drafts}`,
    id: rule?.id ?? null,
    name: rule?.name ?? '',
    enabled: rule?.enabled ?? true,
    conditions: {
      provinces: [...(conditions.provinces ?? [])],
      cities: [...(conditions.cities ?? [])],
      districts: [...(conditions.districts ?? [])],
      customer_types: [...(conditions.customer_types ?? [])],
      product_lines: [...(conditions.product_lines ?? [])],
      sources: [...(conditions.sources ?? [])],
    },
    target: rule?.org_unit_id ? 'org_unit' : 'users',
    user_ids: [...(rule?.user_ids ?? [])],
    org_unit_id: rule?.org_unit_id ?? '',
    strategy: rule?.strategy ?? 'round_robin',
  }
}

/** The list with the rule at `index` moved one place up (-1) or down (+1); unchanged at an end. */
export function moveRule<T>(list: readonly T[], index: number, delta: -1 | 1): T[] {
  const to = index + delta
  if (to < 0 || to >= list.length) return [...list]
  const moved = [...list]
  const [rule] = moved.splice(index, 1)
  moved.splice(to, 0, rule as T)
  return moved
}

export function rulesBody(list: readonly RuleDraft[]): AssignmentRuleInput[] {
  return list.map((rule) => ({
    id: rule.id,
    name: rule.name.trim(),
    enabled: rule.enabled,
    conditions: Object.fromEntries(CONDITION_LISTS.map((name) => [name, rule.conditions[name]])),
    user_ids: rule.target === 'users' ? rule.user_ids : [],
    org_unit_id: rule.target === 'org_unit' ? rule.org_unit_id || null : null,
    strategy: rule.strategy,
  }))
}

/** Our own checks, as i18n keys by the API's field name. */
export function checkRules(list: readonly RuleDraft[]): Record<string, { key: string }> {
  const found: Record<string, { key: string }> = {}
  list.forEach((rule, i) => {
    if (!rule.name.trim()) found[`rules[${i}].name`] = { key: 'assignment.nameRequired' }
    const empty = rule.target === 'users' ? !rule.user_ids.length : !rule.org_unit_id
    if (empty) found[`rules[${i}].target`] = { key: 'assignment.targetRequired' }
  })
  return found
}

/** The inputs the editor shows for `count` rules, by the API's field names. */
export function ruleFields(count: number): string[] {
  return Array.from({ length: count }, (_, i) => [
    `rules[${i}].name`,
    `rules[${i}].target`,
    `rules[${i}].strategy`,
    ...CONDITION_LISTS.map((name) => `rules[${i}].conditions.${name}`),
  ]).flat()
}
