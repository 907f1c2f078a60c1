// What a refused sign-in tells the user: wrong password, a locked account with the wait, too
// many attempts, a busy server, or the API's own problem with its code.
import { ApiError } from '../api/problem'
import { describeError } from '../i18n/errors'

type Translate = (key: string, values?: Record<string, unknown>) => string

export function loginErrorMessage(t: Translate, error: unknown): string {
  if (!(error instanceof ApiError)) return t('errors.unknown')
  const wait = error.retryAfterSeconds ?? 60
  switch (error.code) {
    // Unknown user, wrong password and a disabled account look the same on purpose (the API
    // does not say which usernames exist); the message names all three.
    case 'unauthenticated':
      return t('auth.wrongCredentials')
    case 'account_locked':
      return t('auth.accountLocked', { minutes: Math.max(1, Math.ceil(wait / 60)) })
    case 'login_throttled':
      return t('auth.throttled', { seconds: wait })
    case 'login_busy':
      return t('auth.busy')
    case 'mfa_code_invalid':
      return t('auth.mfaWrong')
    default:
      return describeError(t, error)
  }
}

/** Where to go after signing in: the page the user came from, if it is one of ours. */
export function safeRedirect(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/login')
    ? value
    : '/'
}
