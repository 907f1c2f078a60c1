// Routes of the H5 (served under /m/). Views load on demand.
import { guardSignIn, loadProfileMessages } from '@keyuan/shared'
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { auth, i18n } from './app'

// `public` is the shared sign-in guard's (guardSignIn).
declare module 'vue-router' {
  interface RouteMeta {
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
  {
    path: '/customers/:id/follow-up',
    name: 'follow-up-new',
    component: () => import('./features/followUps/LogFollowUpView.vue'),
    props: true,
  },
  {
    path: '/customers/:id/check-in',
    name: 'check-in',
    component: () => import('./features/visits/CheckInView.vue'),
    props: true,
  },
  { path: '/orders', name: 'orders', component: () => import('./features/orders/MyOrdersView.vue'), meta: { tabbar: true } },
  { path: '/orders/new', name: 'order-new', component: () => import('./features/orders/PlaceOrderView.vue') },
  { path: '/orders/:id', name: 'order', component: () => import('./features/orders/OrderDeliveryView.vue'), props: true },
  { path: '/tasks', name: 'tasks', component: () => import('./features/tasks/TasksView.vue'), meta: { tabbar: true } },
  { path: '/pool', name: 'pool', component: () => import('./features/pools/PoolView.vue'), meta: { tabbar: true } },
  { path: '/notifications', name: 'notifications', component: () => import('./features/notifications/NotificationsView.vue') },
  { path: '/me', name: 'me', component: () => import('./features/me/MeView.vue'), meta: { tabbar: true } },
  { path: '/:rest(.*)*', redirect: { name: 'customers' } },
]

export const router = createRouter({ history: createWebHistory(import.meta.env.BASE_URL), routes })

// Sign-in, a lapsed sign-in back to login, pages whose code failed to load.
export const { navigationFailure } = guardSignIn(router, auth, { home: { name: 'customers' } })
// Issue 12's messages come with the first signed-in page, not with the login route.
router.beforeEach((to) => (to.meta.public ? true : loadProfileMessages(i18n).then(() => true)))
