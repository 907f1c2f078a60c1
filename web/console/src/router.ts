// Routes of the console. Views load on demand, so the login route carries only what it shows.
import { ADMIN_ROLES } from '@keyuan/shared'
import { shallowRef } from 'vue'
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { auth, onSignedOut } from './app'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    roles?: readonly string[]
    titleKey?: string
  }
}

const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('./features/auth/LoginView.vue'),
    meta: { public: true, titleKey: 'auth.title' },
  },
  {
    path: '/',
    component: () => import('./layouts/ConsoleLayout.vue'),
    children: [
      { path: '', redirect: { name: 'workbench' } },
      {
        path: 'workbench',
        name: 'workbench',
        component: () => import('./features/workbench/WorkbenchView.vue'),
        meta: { titleKey: 'nav.workbench' },
      },
      {
        path: 'customers',
        name: 'customers',
        component: () => import('./features/customers/CustomerListView.vue'),
        meta: { titleKey: 'nav.customers' },
      },
      {
        path: 'customers/new',
        name: 'customer-new',
        component: () => import('./features/customers/CustomerFormView.vue'),
        meta: { titleKey: 'form.createTitle' },
      },
      {
        path: 'customers/:id',
        name: 'customer',
        component: () => import('./features/customers/CustomerDetailView.vue'),
        props: true,
        meta: { titleKey: 'nav.customers' },
      },
      {
        path: 'customers/:id/edit',
        name: 'customer-edit',
        component: () => import('./features/customers/CustomerFormView.vue'),
        props: true,
        meta: { titleKey: 'form.editTitle' },
      },
      {
        path: 'analytics',
        name: 'analytics',
        component: () => import('./features/analytics/AnalyticsView.vue'),
        meta: { titleKey: 'nav.analytics' },
      },
      {
        path: 'admin/:section(org|users|types|fields)?',
        name: 'admin',
        component: () => import('./features/admin/AdminView.vue'),
        props: true,
        meta: { roles: ADMIN_ROLES, titleKey: 'nav.admin' },
      },
      {
        path: ':rest(.*)*',
        name: 'not-found',
        component: () => import('./components/NotFoundView.vue'),
      },
    ],
  },
]

export const router = createRouter({ history: createWebHistory(import.meta.env.BASE_URL), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  let signedIn = false
  try {
    signedIn = await auth.ensureSignedIn()
  } catch {
    signedIn = false
  }
  if (!signedIn) return { name: 'login', query: { redirect: to.fullPath } }
  if (to.meta.roles && !auth.hasRole(...(to.meta.roles as never[]))) return { name: 'workbench' }
  return true
})

// A sign-in that can no longer be refreshed: back to login, then back here.
onSignedOut(() => {
  const current = router.currentRoute.value
  if (current.meta.public) return
  void router.replace({ name: 'login', query: { redirect: current.fullPath, expired: '1' } })
})

/** A page whose code could not be loaded (offline, or a new release replaced its chunk). */
export const navigationFailure = shallowRef<{ to: string } | null>(null)

router.onError((error, to) => {
  console.error(error)
  navigationFailure.value = { to: to.fullPath }
})
router.afterEach(() => {
  navigationFailure.value = null
})
