// What an app holds for the signed-in user: the session, the typed client and who they are.
import { shallowRef } from 'vue'
import { call, createApiClient, type ApiClient } from '../api/client'
import type { Me, Role } from '../api/models'
import { BrowserSession, type SessionOptions } from './session'

/** Roles that see the Administration menu (the API refuses the others anyway). */
export const ADMIN_ROLES: readonly Role[] = ['admin', 'boss']

export function createAuth(options: SessionOptions) {
  // The router that sends a lapsed sign-in to login is made after the session: it registers
  // itself through onSignedOut.
  let whenSignedOut = options.onSignedOut ?? (() => undefined)
  const session = new BrowserSession({ ...options, onSignedOut: () => whenSignedOut() })
  const client: ApiClient = createApiClient(session, options.baseUrl)
  const me = shallowRef<Me | null>(null)

  function onSignedOut(handler: () => void): void {
    whenSignedOut = handler
  }

  async function loadMe(): Promise<Me> {
    me.value = await call(client.GET('/api/v1/auth/me'))
    return me.value
  }

  /** Signed in with a live token (restored from the refresh cookie after a page load) and
   * the user loaded; false when the user must sign in. */
  async function ensureSignedIn(): Promise<boolean> {
    if (!(await session.restore())) {
      me.value = null
      return false
    }
    if (!me.value) await loadMe()
    return true
  }

  async function logout(): Promise<void> {
    try {
      await session.logout()
    } finally {
      me.value = null
    }
  }

  const hasRole = (...roles: Role[]) => (me.value ? roles.includes(me.value.role) : false)

  return { session, client, me, loadMe, ensureSignedIn, logout, hasRole, onSignedOut }
}

export type Auth = ReturnType<typeof createAuth>
