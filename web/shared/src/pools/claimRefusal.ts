// A refused claim in the user's words: the cool-down's end, the day's limit, the cap, or that a
// colleague got there first; anything else as the API said it.
import { ApiError } from '../api/problem'
import { formatDate } from '../format'
import { describeError } from '../i18n/errors'

type Translate = (key: string, values?: Record<string, unknown>) => string

export function claimRefusal(t: Translate, error: unknown): string {
  if (error instanceof ApiError) {
    switch (error.code) {
      case 'claim_cooldown':
        return error.until ? t('pools.cooldownUntil', { date: formatDate(error.until) }) : t('pools.cooldown')
      case 'claim_limit_reached':
        return error.limit !== undefined ? t('pools.limitReached', { limit: error.limit }) : t('pools.limitReachedPlain')
      case 'customer_cap_reached':
        return error.cap !== undefined ? t('pools.capReached', { cap: error.cap }) : t('pools.capReachedPlain')
    }
    if (error.status === 409) return t('pools.taken')
  }
  return describeError(t, error)
}
