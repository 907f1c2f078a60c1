import { describe, expect, it } from 'vitest'
import { i18n } from '../../app'
import { daysLeftText } from './licences'

const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})

describe('a licence’s days left in words', () => {
  it('says how long it has, that it ends today, or how long ago it ended', () => {
    i18n.global.locale.value = 'zh-CN'
    expect(daysLeftText(t, 12)).toBe('剩余 12 天')
    expect(daysLeftText(t, 0)).toBe('今天到期')
    expect(daysLeftText(t, -8)).toBe('已过期 8 天')
    expect(daysLeftText(t, null)).toBe('')
  })
})
