import { describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Role } from '../api/models'
import { guardSignIn } from './routeGuard'

const page = { template: '<p/>' }

/** A router with a login page, a home, a page for admins, and a stand-in for the app's sign-in. */
function app(signedIn: () => Promise<boolean>, role: Role = 'sales') {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', name: 'login', component: page, meta: { public: true } },
      { path: '/', name: 'home', component: page },
      { path: '/customers/:id', name: 'customer', component: page },
      { path: '/admin', name: 'admin', component: page, meta: { roles: ['admin', 'boss'] } },
    ],
  })
  let lapse: () => void = () => undefined
  const auth = {
    ensureSignedIn: vi.fn(signedIn),
    hasRole: (...roles: Role[]) => roles.includes(role),
    onSignedOut: (handler: () => void) => {
      lapse = handler
    },
  }
  const { navigationFailure } = guardSignIn(router, auth, { home: { name: 'home' } })
  return { router, auth, navigationFailure, lapse: () => lapse() }
}

describe('guardSignIn', () => {
  it('sends a visitor without a sign-in to login, remembering the page', async () => {
    const { router } = app(async () => false)
    await router.push('/customers/c-1?tab=contacts')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/customers/c-1?tab=contacts')
  })

  it('opens the login page without asking for a sign-in, and treats an unanswered sign-in as none', async () => {
    const { router, auth } = app(async () => {
      throw new Error('offline')
    })
    await router.push('/login')
    expect(auth.ensureSignedIn).not.toHaveBeenCalled()
    await router.push('/')
    expect(router.currentRoute.value.name).toBe('login')
  })

  it('sends a role a page is not for home, and lets the others in', async () => {
    const rep = app(async () => true, 'sales')
    await rep.router.push('/admin')
    expect(rep.router.currentRoute.value.name).toBe('home')
    const boss = app(async () => true, 'boss')
    await boss.router.push('/admin')
    expect(boss.router.currentRoute.value.name).toBe('admin')
  })

  it('goes to login when the sign-in lapses, then back to the page', async () => {
    const { router, lapse } = app(async () => true)
    await router.push('/customers/c-1')
    lapse()
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('login'))
    expect(router.currentRoute.value.query).toEqual({ redirect: '/customers/c-1', expired: '1' })
  })

  it('tells the app when a page could not be loaded, and forgets it after the next navigation', async () => {
    const { router, navigationFailure } = app(async () => true)
    router.addRoute({ path: '/broken', name: 'broken', component: () => Promise.reject(new Error('chunk gone')) })
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    await router.push('/broken').catch(() => undefined)
    expect(navigationFailure.value).toEqual({ to: '/broken' })
    await router.push('/')
    expect(navigationFailure.value).toBeNull()
    quiet.mockRestore()
  })
})
