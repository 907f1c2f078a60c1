// How a licence's status shows: the badge's colour and words (有效 / 即将到期 / 已过期 / 缺少),
// and the days left in words.
import type { LicenceStatus, LicenceSummaryStatus } from './api'

export type BadgeType = 'success' | 'warning' | 'danger' | 'info'

const BADGES: Record<LicenceSummaryStatus, BadgeType> = {
  valid: 'success',
  expiring: 'warning',
  expired: 'danger',
  missing: 'danger',
}

/** A licence's or a summary's status as an el-tag type and its i18n key. */
export function licenceBadge(status: LicenceStatus | LicenceSummaryStatus): { type: BadgeType; key: string } {
  return { type: BADGES[status], key: `c360.licenceStatus.${status}` }
}

/** "还有 12 天" / "已过期 3 天" / "长期有效" / "今天到期" as an i18n key and its values. */
export function daysLeftText(daysLeft: number | null): { key: string; values?: Record<string, number> } {
  if (daysLeft === null) return { key: 'c360.neverExpires' }
  if (daysLeft === 0) return { key: 'c360.expiresToday' }
  return daysLeft > 0 ? { key: 'c360.daysLeft', values: { days: daysLeft } } : { key: 'c360.daysOverdue', values: { days: -daysLeft } }
}
