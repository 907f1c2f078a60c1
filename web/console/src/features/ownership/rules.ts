// A pool as its form edits it (every rule filled in), what the form sends, the checks it makes
// before sending, and the short summary the pool list shows.
import { declared, TIERS, type FieldMessage, type Pool, type PoolRules, type Tier } from '@keyuan/shared'

/** The gateway's bound on every day count and on the daily claim limit (PoolRulesModel). */
export const MAX_RULE_DAYS = 3650

export interface RulesDraft {
  /** 0: that tier never returns for want of follow-ups (the sweep skips it). */
  no_follow_up_days: Record<Tier, number | null>
  no_deal_days: number | null
  warn_days_before: number | null
  cooldown_days: number | null
  claims_per_day: number | null
  first_visit_days: number | null
  exempt_active_contract: boolean
  /** Days without a confirmed order before an owned customer returns; 0: no such rule. */
  no_order_days: number | null
}

export type RuleCount = Exclude<keyof RulesDraft, 'no_follow_up_days' | 'exempt_active_contract'>
/** The counts in the order the form shows them, each with its unit. */
export const RETURN_COUNTS: readonly RuleCount[] = ['no_deal_days', 'no_order_days', 'warn_days_before']
export const CLAIM_COUNTS: readonly RuleCount[] = ['cooldown_days', 'claims_per_day', 'first_visit_days']

/** What a new pool starts with: the gateway's defaults (PoolRulesModel; rules.node.test.ts
 * holds the scalar ones to shared/openapi.json; the tiers' come from its default_factory). */
export const DEFAULT_RULES: Readonly<RulesDraft> = Object.freeze({
  no_follow_up_days: { vip: 30, key: 20, normal: 15 },
  no_deal_days: 0,
  warn_days_before: 3,
  cooldown_days: 30,
  claims_per_day: 0,
  first_visit_days: 7,
  exempt_active_contract: true,
  no_order_days: 0,
})

export interface PoolDraft {
  name: string
  org_unit_id: string
  requires_approval: boolean
  rules: RulesDraft
}

/** A pool's rules in the form: the defaults for a new pool, else its own. A tier the API
 * leaves out never returns, which the form shows as 0. */
export function rulesDraft(rules?: PoolRules): RulesDraft {
  const byTier = rules?.no_follow_up_days
  return {
    no_follow_up_days: Object.fromEntries(
      TIERS.map((tier) => [tier, byTier ? (byTier[tier] ?? 0) : DEFAULT_RULES.no_follow_up_days[tier]]),
    ) as Record<Tier, number>,
    no_deal_days: rules?.no_deal_days ?? DEFAULT_RULES.no_deal_days,
    warn_days_before: rules?.warn_days_before ?? DEFAULT_RULES.warn_days_before,
    cooldown_days: rules?.cooldown_days ?? DEFAULT_RULES.cooldown_days,
    claims_per_day: rules?.claims_per_day ?? DEFAULT_RULES.claims_per_day,
    first_visit_days: rules?.first_visit_days ?? DEFAULT_RULES.first_visit_days,
    exempt_active_contract: rules?.exempt_active_contract ?? DEFAULT_RULES.exempt_active_contract,
    no_order_days: rules?.no_order_days ?? DEFAULT_RULES.no_order_days,
  }
}

/** A new pool's form, or an existing pool's settings. */
export function poolDraft(pool?: Pool | null): PoolDraft {
  return {
    name: pool?.name ?? '',
    org_unit_id: pool?.org_unit_id ?? '',
    requires_approval: pool?.requires_approval ?? false,
    rules: rulesDraft(pool?.rules),
  }
}

/** The rules as the API takes them (after checkPool passed: every count is a number). */
export function rulesBody(rules: RulesDraft): PoolRules {
  const count = (value: number | null) => value ?? 0
  return {
    no_follow_up_days: Object.fromEntries(TIERS.map((tier) => [tier, count(rules.no_follow_up_days[tier])])),
    no_deal_days: count(rules.no_deal_days),
    warn_days_before: count(rules.warn_days_before),
    cooldown_days: count(rules.cooldown_days),
    claims_per_day: count(rules.claims_per_day),
    first_visit_days: count(rules.first_visit_days),
    exempt_active_contract: rules.exempt_active_contract,
    no_order_days: count(rules.no_order_days),
  }
}

/** Every input of the form by the API's name for it, where its refusals are shown. */
export const POOL_FIELDS: readonly string[] = [
  'name',
  'org_unit_id',
  'requires_approval',
  ...TIERS.map((tier) => `rules.no_follow_up_days.${tier}`),
  ...[...RETURN_COUNTS, ...CLAIM_COUNTS].map((field) => `rules.${field}`),
  'rules.exempt_active_contract',
]

const nameCheck = declared('PoolIn', 'name')

function countProblem(value: number | null): FieldMessage | null {
  return value !== null && Number.isInteger(value) && value >= 0 && value <= MAX_RULE_DAYS
    ? null
    : { key: 'validation.integerRange', values: { min: 0, max: MAX_RULE_DAYS } }
}

/** What the API would refuse, by its field names; `creating` also needs an org unit. The
 * warning must come before the shortest return limit, as the customer service checks. */
export function checkPool(draft: PoolDraft, creating: boolean): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  const name = nameCheck(draft.name)
  if (name) found.name = name
  if (creating && !draft.org_unit_id) found.org_unit_id = { key: 'validation.required' }
  for (const tier of TIERS) {
    const problem = countProblem(draft.rules.no_follow_up_days[tier])
    if (problem) found[`rules.no_follow_up_days.${tier}`] = problem
  }
  for (const field of [...RETURN_COUNTS, ...CLAIM_COUNTS]) {
    const problem = countProblem(draft.rules[field])
    if (problem) found[`rules.${field}`] = problem
  }
  const limits = TIERS.map((tier) => draft.rules.no_follow_up_days[tier] ?? 0).filter((days) => days > 0)
  const warn = draft.rules.warn_days_before
  if (!found['rules.warn_days_before'] && limits.length && warn !== null && warn >= Math.min(...limits)) {
    found['rules.warn_days_before'] = { key: 'poolRules.warnTooLong', values: { days: Math.min(...limits) } }
  }
  return found
}

type Translate = (key: string, values?: Record<string, unknown>) => string

/** The rules in a few words each, for the list of pools: only what applies. */
export function rulesSummary(t: Translate, rules: PoolRules): string[] {
  const draft = rulesDraft(rules)
  const tiers = TIERS.filter((tier) => (draft.no_follow_up_days[tier] ?? 0) > 0).map((tier) =>
    t('poolRules.summary.tierDays', { tier: t(`tiers.${tier}`), days: draft.no_follow_up_days[tier] }),
  )
  const lines = [tiers.length ? t('poolRules.summary.noFollowUp', { rules: tiers.join(' / ') }) : t('poolRules.summary.noReturn')]
  if (draft.no_deal_days) lines.push(t('poolRules.summary.noDeal', { days: draft.no_deal_days }))
  if (draft.no_order_days) lines.push(t('poolRules.summary.noOrder', { days: draft.no_order_days }))
  if (tiers.length && draft.warn_days_before) lines.push(t('poolRules.summary.warn', { days: draft.warn_days_before }))
  if (draft.cooldown_days) lines.push(t('poolRules.summary.cooldown', { days: draft.cooldown_days }))
  lines.push(
    draft.claims_per_day
      ? t('poolRules.summary.perDay', { count: draft.claims_per_day })
      : t('poolRules.summary.perDayUnlimited'),
  )
  if (draft.first_visit_days) lines.push(t('poolRules.summary.firstVisit', { days: draft.first_visit_days }))
  if (draft.exempt_active_contract) lines.push(t('poolRules.summary.exempt'))
  return lines
}
