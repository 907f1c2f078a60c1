// The supervisors' list of licences running out (GET /licences/expiring), as the workbench
// shows it: the calls, and how long each has left in words.
import { call, type components, type Role } from '@keyuan/shared'
import { api } from '../../app'

export type ExpiringLicence = components['schemas']['ExpiringLicenceOut']
export type ExpiringStatus = 'expiring' | 'expired'
export const EXPIRING_STATUSES: readonly ExpiringStatus[] = ['expiring', 'expired']

/** Who looks after licences across people: supervisors, admins, bosses, and finance (who sees
 * licences though not closures). Service staff are refused; a rep hears of their own through
 * the notification inbox. */
export const EXPIRING_LICENCE_ROLES: readonly Role[] = ['supervisor', 'admin', 'boss', 'finance']

export const expiringLicences = (status: ExpiringStatus, pageToken = '') =>
  call(api.GET('/api/v1/licences/expiring', { params: { query: { status, page_size: 50, page_token: pageToken } } }))

/** "剩余 12 天", "今天到期", "已过期 8 天"; '' for a licence that never expires. */
export function daysLeftText(t: (key: string, values?: Record<string, unknown>) => string, daysLeft: number | null): string {
  if (daysLeft === null) return ''
  if (daysLeft > 0) return t('expiringLicences.daysLeft', { days: daysLeft })
  if (daysLeft === 0) return t('expiringLicences.dueToday')
  return t('expiringLicences.daysAgo', { days: -daysLeft })
}
