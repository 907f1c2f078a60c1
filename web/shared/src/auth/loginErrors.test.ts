import { ApiError } from '../api/problem'
import { createAppI18n } from '../i18n'
import { describe, expect, it } from 'vitest'
import { loginErrorMessage, safeRedirect } from './loginErrors'

const { t } = createAppI18n('zh-CN').global
const translate = (key: string, values?: Record<string, unknown>) => t(key, values ?? {})
const refused = (code: string, status: number, retryAfterSeconds?: number) =>
  new ApiError({ status, code, detail: 'x', retryAfterSeconds })

describe('login error messages', () => {
  it('says wrong password (or disabled account) for a 401', () => {
    expect(loginErrorMessage(translate, refused('unauthenticated', 401))).toContain('用户名或密码错误')
  })

  it('gives the wait of a locked account in minutes and of a throttled login in seconds', () => {
    expect(loginErrorMessage(translate, refused('account_locked', 429, 900))).toContain('15 分钟')
    expect(loginErrorMessage(translate, refused('login_throttled', 429, 4))).toContain('4 秒')
  })

  it('falls back to the API detail with its code', () => {
    expect(loginErrorMessage(translate, new ApiError({ status: 503, code: 'service_unavailable', detail: '服务暂不可用' }))).toBe(
      '服务暂不可用（错误码：service_unavailable）',
    )
  })

  it('only redirects to our own pages', () => {
    expect(safeRedirect('/customers/abc?x=1')).toBe('/customers/abc?x=1')
    expect(safeRedirect('//evil.example')).toBe('/')
    expect(safeRedirect('https://evil.example')).toBe('/')
    expect(safeRedirect('/login?redirect=/x')).toBe('/')
    expect(safeRedirect(undefined)).toBe('/')
  })
})
