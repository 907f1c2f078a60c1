import { describe, expect, it } from 'vitest'
import { errorFromResponse } from '../api/problem'
import { createAppI18n } from '../i18n'
import { claimRefusal } from './claimRefusal'

const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  errorFromResponse(status, { type: code, title: code, status, code, detail: `detail of ${code}`, ...extra })

describe('claimRefusal', () => {
  const zh = createAppI18n('zh-CN').global.t
  const en = createAppI18n('en').global.t

  it('names the day the cool-down ends, in Shanghai', () => {
    const error = problem(412, 'claim_cooldown', { until: '2026-12-31T16:30:00Z' })
    expect(claimRefusal(zh, error)).toBe('冷静期内不能领取，2027-01-01 后可再领取')
    expect(claimRefusal(en, error)).toContain('after 2027-01-01')
  })

  it('names the pool’s daily limit and the rep’s cap', () => {
    expect(claimRefusal(zh, problem(412, 'claim_limit_reached', { limit: 3 }))).toBe('已达本公海每日领取上限（3 个）')
    expect(claimRefusal(en, problem(412, 'customer_cap_reached', { cap: 200 }))).toBe('You already hold your cap of 200 customers')
  })

  it('says a colleague got there first on a 409', () => {
    expect(claimRefusal(zh, problem(409, 'aborted'))).toBe('该客户刚被同事领取或已有待审批的申请')
  })

  it('passes other refusals through with their code', () => {
    expect(claimRefusal(zh, problem(422, 'validation_failed'))).toBe('detail of validation_failed（错误码：validation_failed）')
  })
})
