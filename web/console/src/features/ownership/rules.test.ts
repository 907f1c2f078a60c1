import type { Pool } from '@keyuan/shared'
import { describe, expect, it } from 'vitest'
import { i18n } from '../../app'
import { checkPool, DEFAULT_RULES, poolDraft, rulesBody, rulesSummary } from './rules'

const pool = (rules: Pool['rules']): Pool => ({
  id: 'p1',
  name: '杭州公海',
  org_unit_id: 'o-hz',
  org_unit_name: '杭州分公司',
  requires_approval: true,
  rules,
  version: 3,
  customer_count: 12,
})

describe('a pool in its form', () => {
  it('starts a new pool with the gateway’s defaults', () => {
    expect(poolDraft()).toEqual({ name: '', org_unit_id: '', requires_approval: false, rules: DEFAULT_RULES })
  })

  it('shows a tier the pool leaves out as 0 (never returns) and sends it as 0', () => {
    const draft = poolDraft(pool({ no_follow_up_days: { vip: 45 }, claims_per_day: 5 }))
    expect(draft.rules.no_follow_up_days).toEqual({ vip: 45, key: 0, normal: 0 })
    expect(draft.rules.claims_per_day).toBe(5)
    expect(rulesBody(draft.rules)).toMatchObject({ no_follow_up_days: { vip: 45, key: 0, normal: 0 }, claims_per_day: 5 })
  })
})

describe('checkPool', () => {
  it('needs a name, and an org unit only for a new pool', () => {
    const draft = poolDraft()
    expect(checkPool(draft, true)).toEqual({
      name: { key: 'validation.required' },
      org_unit_id: { key: 'validation.required' },
    })
    expect(checkPool({ ...draft, name: '华东公海' }, false)).toEqual({})
  })

  it('refuses an emptied count beside its own field', () => {
    const draft = poolDraft()
    draft.name = '华东公海'
    draft.rules.no_follow_up_days.key = null
    draft.rules.cooldown_days = null
    expect(Object.keys(checkPool(draft, false))).toEqual(['rules.no_follow_up_days.key', 'rules.cooldown_days'])
    expect(checkPool(draft, false)['rules.cooldown_days']).toEqual({ key: 'validation.integerRange', values: { min: 0, max: 3650 } })
  })

  it('wants the warning before the shortest return limit, ignoring tiers that never return', () => {
    const draft = poolDraft(pool({ no_follow_up_days: { vip: 30, key: 0, normal: 10 }, warn_days_before: 10 }))
    expect(checkPool(draft, false)['rules.warn_days_before']).toEqual({ key: 'poolRules.warnTooLong', values: { days: 10 } })
    draft.rules.warn_days_before = 9
    expect(checkPool(draft, false)).toEqual({})
    draft.rules.no_follow_up_days = { vip: 0, key: 0, normal: 0 }
    draft.rules.warn_days_before = 60
    expect(checkPool(draft, false)).toEqual({})
  })
})

describe('rulesSummary', () => {
  const t = i18n.global.t as (key: string, values?: Record<string, unknown>) => string

  it('says in a few words what applies, in Chinese', () => {
    const lines = rulesSummary(t, { no_follow_up_days: { vip: 30, key: 20, normal: 15 }, no_deal_days: 60, claims_per_day: 3 })
    expect(lines).toEqual([
      '未跟进回收：VIP 30 天 / 重点 20 天 / 一般 15 天',
      '60 天未成交回收',
      '提前 3 天提醒',
      '冷静期 30 天',
      '每人每日限领 3 个',
      '领取后 7 天内须跟进',
      '有效合同豁免',
    ])
  })

  it('leaves out what is switched off', () => {
    const lines = rulesSummary(t, {
      no_follow_up_days: {},
      warn_days_before: 3,
      cooldown_days: 0,
      first_visit_days: 0,
      exempt_active_contract: false,
    })
    expect(lines).toEqual(['不按跟进回收', '每日领取不限'])
  })
})
