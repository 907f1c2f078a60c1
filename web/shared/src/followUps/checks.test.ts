import { describe, expect, it } from 'vitest'
import { canEditFollowUp, checkFollowUp, followUpBody, type FollowUpDraft } from './checks'

// 2026-12-02 10:00 in Shanghai
const NOW = new Date('2026-12-02T02:00:00Z')
const draft = (over: Partial<FollowUpDraft> = {}): FollowUpDraft => ({
  kind: 'phone',
  occurred_at: null,
  contact_ids: [],
  content: '询价，下周送样',
  outcome: '',
  next_follow_up_date: null,
  ...over,
})

describe('checkFollowUp', () => {
  it('accepts a follow-up with a kind and content only', () => {
    expect(checkFollowUp(draft(), NOW)).toEqual({})
  })

  it('requires a kind and content, as the API does', () => {
    const found = checkFollowUp(draft({ kind: '', content: '   ' }), NOW)
    expect(found.kind?.key).toBe('validation.required')
    expect(found.content?.key).toBe('validation.required')
  })

  it('refuses content over the 2000 characters the API declares', () => {
    expect(checkFollowUp(draft({ content: '跟'.repeat(2001) }), NOW).content).toEqual({
      key: 'validation.maxLength',
      values: { max: 2000 },
    })
  })

  it('refuses a next date before today in Shanghai but accepts today', () => {
    expect(checkFollowUp(draft({ next_follow_up_date: '2026-12-01' }), NOW).next_follow_up_date?.key).toBe('validation.todayOrLater')
    expect(checkFollowUp(draft({ next_follow_up_date: '2026-12-02' }), NOW)).toEqual({})
  })

  it('refuses a time in the future beyond five minutes of clock skew', () => {
    expect(checkFollowUp(draft({ occurred_at: '2026-12-02T02:04:00Z' }), NOW)).toEqual({})
    expect(checkFollowUp(draft({ occurred_at: '2026-12-02T02:06:00Z' }), NOW).occurred_at?.key).toBe('validation.notInFuture')
  })
})

describe('followUpBody', () => {
  it('trims texts and sends no empty dates', () => {
    expect(followUpBody(draft({ content: ' 拜访 ', outcome: ' 下单 ', next_follow_up_date: '' }))).toEqual({
      kind: 'phone',
      occurred_at: null,
      contact_ids: [],
      content: '拜访',
      outcome: '下单',
      next_follow_up_date: null,
    })
  })
})

describe('canEditFollowUp', () => {
  const entry = { author_id: 'u1', editable_until: '2026-12-02T12:00:00+08:00' }
  it('lets the author edit until editable_until', () => {
    expect(canEditFollowUp(entry, 'u1', NOW)).toBe(true)
    expect(canEditFollowUp(entry, 'u1', new Date('2026-12-02T04:00:01Z'))).toBe(false)
  })
  it('never lets another user edit', () => {
    expect(canEditFollowUp(entry, 'u2', NOW)).toBe(false)
    expect(canEditFollowUp(entry, undefined, NOW)).toBe(false)
  })
})
