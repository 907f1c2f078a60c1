// 协作人: the calls, who may be one, and the expiry the API takes (the end of the chosen day in
// China Standard Time, with its +08:00 offset).
import { ApiError, call, describeError, shanghaiDay, type CollaboratorAccess, type Collaborator, type Role, type User } from '@keyuan/shared'
import { api } from '../../app'

export const collaboratorsApi = {
  /** Everyone who may be asked in: a rep sees only themselves in the user list. */
  colleagues: () => call(api.GET('/api/v1/colleagues')),
  list: (customerId: string) =>
    call(api.GET('/api/v1/customers/{customer_id}/collaborators', { params: { path: { customer_id: customerId } } })),
  put: (customerId: string, userId: string, access: CollaboratorAccess, expiresAt: string | null) =>
    call(
      api.PUT('/api/v1/customers/{customer_id}/collaborators/{user_id}', {
        params: { path: { customer_id: customerId, user_id: userId } },
        body: { access, expires_at: expiresAt },
      }),
    ),
  remove: async (customerId: string, userId: string): Promise<void> => {
    await call(
      api.DELETE('/api/v1/customers/{customer_id}/collaborators/{user_id}', {
        params: { path: { customer_id: customerId, user_id: userId } },
      }),
    )
  },
}

/** The roles the gateway vouches for as collaborators. */
export const COLLABORATOR_ROLES: readonly Role[] = ['sales', 'supervisor', 'service']
/** Who manages a customer's collaborators besides its owner. */
export const COLLABORATOR_MANAGERS: readonly Role[] = ['supervisor', 'admin', 'boss']

/** Active colleagues of a collaborator's role, not the owner. */
export function collaboratorCandidates(users: readonly User[], ownerId: string): User[] {
  return users.filter((u) => u.active && COLLABORATOR_ROLES.includes(u.role) && u.id !== ownerId)
}

/** "2027-03-31" → "2027-03-31T23:59:59+08:00"; no day → no expiry. */
export function expiryBody(day: string): string | null {
  return day ? `${day}T23:59:59+08:00` : null
}

/** The day (China Standard Time) an expiry falls on, for the date picker. */
export function expiryDay(expiresAt: string | null): string {
  return expiresAt ? shanghaiDay(new Date(expiresAt)) : ''
}

export interface CollaboratorDraft {
  user_id: string
  access: CollaboratorAccess
  expires_day: string
}

/** Our own checks, as i18n keys by the field's name in the API. */
export function checkCollaborator(draft: CollaboratorDraft, today = shanghaiDay()): Record<string, { key: string }> {
  const found: Record<string, { key: string }> = {}
  if (!draft.user_id) found.user_id = { key: 'collaborators.userRequired' }
  if (draft.expires_day && draft.expires_day < today) found.expires_at = { key: 'collaborators.expiryPast' }
  return found
}

/** A 403 says who may manage collaborators; anything else in the API's own words. */
export function explainCollaboratorError(t: (key: string) => string, error: unknown): string {
  return error instanceof ApiError && error.status === 403 ? t('collaborators.cannotManage') : describeError(t, error)
}

export type { Collaborator }
