// Routes of the H5 (served under /m/). Views load on demand.
import { shallowRef } from 'vue'
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { auth, onSignedOut } from './app'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    tabbar?: boolean
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./features/auth/LoginView.vue'), meta: { public: true } },
  { path: '/', redirect: { name: 'customers' } },
  {
    path: '/customers',
    name: 'customers',
    component: () => import('./features/customers/MyCustomersView.vue'),
    meta: { tabbar: true },
  },
  { path: '/customers/new', name: 'customer-new', component: () => import('./features/customers/CreateCustomerView.vue') },
  {
    path: '/customers/:id',
    name: 'customer',
    component: () => import('./features/customers/CustomerCardView.vue'),
    props: true,
  },
  { path: '/me', name: 'me', component: () => import('./features/me/MeView.vue'), meta: { tabbar: true } },
  { path: '/:rest(.*)*', redirect: { name: 'customers' } },
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
  return signedIn ? true : { name: 'login', query: { redirect: to.fullPath } }
})

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
