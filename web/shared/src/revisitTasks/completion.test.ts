import { describe, expect, it } from 'vitest'
import { createAppI18n, mergeProfileMessages } from '../i18n'
import profileEn from '../i18n/profile.en'
import profileZhCN from '../i18n/profile.zh-CN'
import {
  checkCompletion,
  completionBody,
  completionDraft,
  SATISFACTION_KEYS,
  satisfactionFromStars,
  satisfactionKey,
} from './completion'

describe('satisfaction as stars', () => {
  it('maps a star widget’s value to 1–5, none chosen to null', () => {
    expect([1, 2, 3, 4, 5].map(satisfactionFromStars)).toEqual([1, 2, 3, 4, 5])
    expect(satisfactionFromStars(0)).toBeNull()
    expect(satisfactionFromStars(null)).toBeNull()
    expect(satisfactionFromStars(Number.NaN)).toBeNull()
    // A stray half star rounds; more than five is five.
    expect(satisfactionFromStars(3.5)).toBe(4)
    expect(satisfactionFromStars(7)).toBe(5)
    expect(satisfactionFromStars(0.4)).toBeNull()
  })

  it('names each number of stars, from 很不满意 to 很满意', () => {
    const i18n = createAppI18n('zh-CN')
    mergeProfileMessages(i18n, profileZhCN, profileEn)
    const { t } = i18n.global
    expect(SATISFACTION_KEYS.map((key) => t(key))).toEqual(['很不满意', '不满意', '一般', '满意', '很满意'])
    expect(satisfactionKey(4)).toBe('revisits.satisfaction.4')
    expect(satisfactionKey(0)).toBe('')
    const english = createAppI18n('en')
    mergeProfileMessages(english, profileZhCN, profileEn)
    expect(english.global.t(satisfactionKey(1))).toBe('Very dissatisfied')
  })
})

describe('checking a revisit completion', () => {
  const now = new Date('2026-12-03T10:00:00+08:00')

  it('needs stars, a kind and what was said', () => {
    const draft = { ...completionDraft(), kind: '' as const }
    expect(checkCompletion(draft, now)).toEqual({
      satisfaction: { key: 'revisits.satisfactionRequired' },
      kind: { key: 'validation.required' },
      content: { key: 'validation.required' },
    })
  })

  it('refuses a next date before today (Shanghai) and new needs over 1,000 characters', () => {
    const draft = { ...completionDraft('visit'), satisfaction: 4, content: '回访', new_needs: 'x'.repeat(1001), next_follow_up_date: '2026-12-02' }
    expect(checkCompletion(draft, now)).toEqual({
      new_needs: { key: 'validation.maxLength', values: { max: 1000 } },
      next_follow_up_date: { key: 'validation.todayOrLater' },
    })
  })

  it('sends trimmed texts, the stars as satisfaction and no empty date', () => {
    const draft = { ...completionDraft('wechat'), satisfaction: 5, content: ' 寒假前备货 ', new_needs: ' 加订冻品 ' }
    expect(checkCompletion(draft, now)).toEqual({})
    expect(completionBody(draft, 'req-1')).toEqual({
      satisfaction: 5,
      kind: 'wechat',
      content: '寒假前备货',
      new_needs: '加订冻品',
      next_follow_up_date: null,
      request_id: 'req-1',
    })
  })
})
