// The sign-in rules both apps' routers follow: a public page opens for anyone; any other page
// first restores the sign-in, else goes to login with ?redirect= the page asked for; a page for
// some roles sends the others home; a sign-in that lapses later goes to login and then back.
import { shallowRef, type ShallowRef } from 'vue'
import type { RouteLocationRaw, Router } from 'vue-router'
import type { Role } from '../api/models'
import type { Auth } from './auth'

declare module 'vue-router' {
  interface RouteMeta {
    /** Opens without a sign-in (the login page). */
    public?: boolean
    /** Only for these roles; the API is the wall, this keeps others off a page they cannot use. */
    roles?: readonly Role[]
  }
}

export interface SignInGuardOptions {
  /** Where a signed-in user goes whose role a page is not for. */
  home: RouteLocationRaw
  /** The login route's name (default "login"). */
  login?: string
}

/** A page whose code could not be loaded (offline, or a new release replaced its chunk). */
export interface NavigationFailure {
  to: string
}

export function guardSignIn(
  router: Router,
  auth: Pick<Auth, 'ensureSignedIn' | 'hasRole' | 'onSignedOut'>,
  options: SignInGuardOptions,
): { navigationFailure: ShallowRef<NavigationFailure | null> } {
  const login = options.login ?? 'login'

  router.beforeEach(async (to) => {
    if (to.meta.public) return true
    let signedIn = false
    try {
      signedIn = await auth.ensureSignedIn()
    } catch {
      // No answer about the sign-in (offline, gateway down): the login page says what is wrong.
      signedIn = false
    }
    if (!signedIn) return { name: login, query: { redirect: to.fullPath } }
    if (to.meta.roles && !auth.hasRole(...to.meta.roles)) return options.home
    return true
  })

  auth.onSignedOut(() => {
    const current = router.currentRoute.value
    if (current.meta.public) return
    void router.replace({ name: login, query: { redirect: current.fullPath, expired: '1' } })
  })

  const navigationFailure = shallowRef<NavigationFailure | null>(null)
  router.onError((error, to) => {
    console.error(error)
    navigationFailure.value = { to: to.fullPath }
  })
  router.afterEach(() => {
    navigationFailure.value = null
  })
  return { navigationFailure }
}
