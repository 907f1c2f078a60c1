// Which of the 360 page's tabs a role sees, and where it may change things: the API's rules
// (docs/architecture.md, "Who sees what") as the page shows them. Service staff do not see
// licences; finance does not see closures; service and finance write neither.
import type { Role } from '@keyuan/shared'

export const TABS_360 = ['preferences', 'tiers', 'visits', 'attachments', 'licences', 'closures', 'group', 'revisits'] as const
export type Tab360 = (typeof TABS_360)[number]

const HIDDEN: Partial<Record<Role, readonly Tab360[]>> = {
  service: ['licences'],
  finance: ['closures'],
}

export function visibleTabs(role: Role | undefined): Tab360[] {
  if (!role) return []
  const hidden = HIDDEN[role] ?? []
  return TABS_360.filter((tab) => !hidden.includes(tab))
}

/** The roles that may change a customer (and so its licences, closures, preferences, tier,
 * location and group); a read-only collaborator may not, whatever the role. */
export const CUSTOMER_WRITERS: readonly Role[] = ['admin', 'boss', 'supervisor', 'sales']

export function mayChange(role: Role | undefined, collaboration: 'read' | 'read_write' | null | undefined, archived: boolean): boolean {
  return Boolean(role && CUSTOMER_WRITERS.includes(role) && collaboration !== 'read' && !archived)
}
