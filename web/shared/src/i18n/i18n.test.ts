import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/problem'
import { describeError } from './errors'
import { createAppI18n, loadProfileMessages, messages, setLanguage, storedLanguage } from '.'
import profileEn from './profile.en'
import profileZhCN from './profile.zh-CN'

function keys(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : keys(value as object, `${prefix}${key}.`),
  )
}

function values(tree: object): string[] {
  return Object.values(tree).flatMap((value) => (typeof value === 'string' ? [value] : values(value as object)))
}

describe('messages', () => {
  it('has exactly the same keys in English as in Chinese', () => {
    expect(keys(messages.en).sort()).toEqual(keys(messages['zh-CN']).sort())
  })

  it('has no empty text and uses the same placeholders in both languages', () => {
    const zh = messages['zh-CN']
    for (const key of keys(zh)) {
      const get = (tree: object) => key.split('.').reduce<unknown>((node, k) => (node as Record<string, unknown>)[k], tree)
      const zhText = String(get(zh))
      const enText = String(get(messages.en))
      expect(zhText, key).not.toBe('')
      expect(enText, key).not.toBe('')
      const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
      expect(names(enText), key).toEqual(names(zhText))
    }
  })

  it('contains no character vue-i18n would read as syntax (@ or |)', () => {
    for (const text of [...values(messages['zh-CN']), ...values(messages.en)]) {
      expect(text).not.toMatch(/[@|]/)
    }
  })

  it('starts in Chinese and remembers a switch to English', () => {
    localStorage.clear()
    const i18n = createAppI18n()
    expect(i18n.global.locale.value).toBe('zh-CN')
    expect(i18n.global.t('nav.customers')).toBe('客户')
    setLanguage(i18n, 'en')
    expect(i18n.global.t('nav.customers')).toBe('Customers')
    expect(storedLanguage()).toBe('en')
    expect(document.documentElement.lang).toBe('en')
  })
})

describe('the profile messages (issue 12), loaded after sign-in', () => {
  it('have the same keys and placeholders in both languages, and no vue-i18n syntax', () => {
    expect(keys(profileEn).sort()).toEqual(keys(profileZhCN).sort())
    for (const key of keys(profileZhCN)) {
      const get = (tree: object) => key.split('.').reduce<unknown>((node, k) => (node as Record<string, unknown>)[k], tree)
      const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
      expect(String(get(profileEn)), key).not.toBe('')
      expect(names(String(get(profileEn))), key).toEqual(names(String(get(profileZhCN))))
    }
    for (const text of [...values(profileZhCN), ...values(profileEn)]) expect(text).not.toMatch(/[@|]/)
  })

  it("name no section the entry's messages have (a merge would overwrite it)", () => {
    const entry = new Set(Object.keys(messages['zh-CN']))
    expect(Object.keys(profileZhCN).filter((section) => entry.has(section))).toEqual([])
  })

  it("are not in the entry, and join an app's i18n when loaded", async () => {
    const i18n = createAppI18n('zh-CN')
    expect(i18n.global.te('checkIn.title')).toBe(false)
    await loadProfileMessages(i18n)
    expect(i18n.global.t('checkIn.title')).toBe('拜访签到')
    expect(i18n.global.t('revisits.satisfaction.5')).toBe('很满意')
    setLanguage(i18n, 'en')
    expect(i18n.global.t('checkIn.title')).toBe('Visit check-in')
    localStorage.clear()
  })
})

describe('describeError', () => {
  const { t } = createAppI18n('zh-CN').global
  const translate = (key: string, values?: Record<string, unknown>) => t(key, values ?? {})

  it("shows the API's own detail with its code", () => {
    const error = new ApiError({ status: 403, code: 'permission_denied', detail: '无权限操作' })
    expect(describeError(translate, error)).toBe('无权限操作（错误码：permission_denied）')
  })

  it('explains a network failure and a 5xx without a problem body', () => {
    expect(describeError(translate, new ApiError({ status: 0, code: 'network_error', detail: 'x' }))).toBe(
      '网络连接失败，请检查网络后重试',
    )
    expect(describeError(translate, new ApiError({ status: 502, code: 'server_error', detail: '' }))).toBe(
      '服务暂时不可用，请稍后重试（错误码：server_error）',
    )
  })
})
