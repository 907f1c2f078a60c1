// Routes of the console. Views load on demand, so the login route carries only what it shows.
import {
  ADMIN_ROLES,
  loadProfileMessages,
  ORDER_PLACERS,
  ASSIGNMENT_READ_ROLES,
  guardSignIn,
  POOL_ROLES,
  POOL_RULE_ROLES,
  TRANSFER_ROLES,
} from '@keyuan/shared'
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { auth, i18n } from './app'
import { IMPORT_ROLES } from './features/imports/importWizard'
import { ORDER_IMPORT_ROLES } from './features/orderImports/api'
import { QUOTE_ROLES } from './features/quotes/api'
import { AFTER_SALE_VIEW_ROLES } from './features/afterSales/api'

// `public` and `roles` are the shared sign-in guard's (guardSignIn).
declare module 'vue-router' {
  interface RouteMeta {
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
        path: 'customers/import',
        name: 'customer-import-new',
        component: () => import('./features/imports/ImportWizardView.vue'),
        meta: { roles: IMPORT_ROLES, titleKey: 'imports.title' },
      },
      {
        path: 'customers/import/:id',
        name: 'customer-import',
        component: () => import('./features/imports/ImportWizardView.vue'),
        props: true,
        meta: { roles: IMPORT_ROLES, titleKey: 'imports.title' },
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
        path: 'pools',
        name: 'pools',
        component: () => import('./features/pools/PoolsView.vue'),
        meta: { roles: POOL_ROLES, titleKey: 'nav.pools' },
      },
      {
        path: 'analytics/:section(customers|ownership|revisits)?',
        name: 'analytics',
        component: () => import('./features/analytics/AnalyticsView.vue'),
        props: true,
        meta: { titleKey: 'nav.analytics' },
      },
      {
        path: 'pool-settings/:section(pools|caps)?',
        name: 'pool-settings',
        component: () => import('./features/ownership/OwnershipSettingsView.vue'),
        props: true,
        meta: { roles: POOL_RULE_ROLES, titleKey: 'nav.ownershipSettings' },
      },
      {
        path: 'assignment-rules',
        name: 'assignment-rules',
        component: () => import('./features/assignment/AssignmentRulesView.vue'),
        meta: { roles: ASSIGNMENT_READ_ROLES, titleKey: 'nav.assignmentRules' },
      },
      {
        path: 'transfers',
        name: 'transfers',
        component: () => import('./features/transfers/TransfersView.vue'),
        meta: { roles: TRANSFER_ROLES, titleKey: 'nav.transfers' },
      },
      {
        path: 'transfers/new',
        name: 'transfer-new',
        component: () => import('./features/transfers/TransferWizardView.vue'),
        meta: { roles: TRANSFER_ROLES, titleKey: 'transfers.new' },
      },
      {
        path: 'transfers/:id',
        name: 'transfer',
        component: () => import('./features/transfers/TransferProgressView.vue'),
        props: true,
        meta: { roles: TRANSFER_ROLES, titleKey: 'nav.transfers' },
      },
      {
        path: 'admin/:section(org|users|types|fields|partners|pricing)?',
        name: 'admin',
        component: () => import('./features/admin/AdminView.vue'),
        props: true,
        meta: { roles: ADMIN_ROLES, titleKey: 'nav.admin' },
      },
      {
        path: 'profile-settings/:section(closures|licences|requirements|tiers|revisits)?',
        name: 'profile-settings',
        component: () => import('./features/profileSettings/ProfileSettingsView.vue'),
        props: true,
        meta: { roles: ADMIN_ROLES, titleKey: 'profileSettings.title' },
      },
      {
        path: 'products',
        name: 'products',
        component: () => import('./features/products/ProductsView.vue'),
        meta: { titleKey: 'products.title' },
      },
      {
        path: 'orders',
        name: 'orders',
        component: () => import('./features/orders/OrderListView.vue'),
        meta: { titleKey: 'orders.title' },
      },
      {
        path: 'orders/import',
        name: 'order-import',
        component: () => import('./features/orderImports/OrderImportView.vue'),
        meta: { roles: ORDER_IMPORT_ROLES, titleKey: 'orderImports.title' },
      },
      {
        path: 'orders/new',
        name: 'order-new',
        component: () => import('./features/orders/OrderFormView.vue'),
        meta: { roles: ORDER_PLACERS, titleKey: 'orders.form.title' },
      },
      {
        path: 'orders/:id',
        name: 'order',
        component: () => import('./features/orders/OrderDetailView.vue'),
        props: true,
        meta: { titleKey: 'orders.title' },
      },
      {
        path: 'quotes',
        name: 'quotes',
        component: () => import('./features/quotes/QuoteListView.vue'),
        meta: { roles: QUOTE_ROLES, titleKey: 'quotes.title' },
      },
      {
        path: 'quotes/new',
        name: 'quote-new',
        component: () => import('./features/quotes/QuoteEditorView.vue'),
        meta: { roles: QUOTE_ROLES, titleKey: 'quotes.newQuote' },
      },
      {
        path: 'quotes/:id',
        name: 'quote',
        component: () => import('./features/quotes/QuoteDetailView.vue'),
        props: true,
        meta: { roles: QUOTE_ROLES, titleKey: 'quotes.title' },
      },
      {
        path: 'quotes/:id/edit',
        name: 'quote-edit',
        component: () => import('./features/quotes/QuoteEditorView.vue'),
        props: true,
        meta: { roles: QUOTE_ROLES, titleKey: 'quotes.title' },
      },
      {
        path: 'batches',
        name: 'batches',
        component: () => import('./features/batches/BatchLookupView.vue'),
        meta: { titleKey: 'batches.title' },
      },
      {
        path: 'after-sales',
        name: 'after-sales',
        component: () => import('./features/afterSales/AfterSaleListView.vue'),
        meta: { roles: AFTER_SALE_VIEW_ROLES, titleKey: 'afterSales.title' },
      },
      {
        path: 'after-sales/:id',
        name: 'after-sale',
        component: () => import('./features/afterSales/AfterSaleDetailView.vue'),
        props: true,
        meta: { roles: AFTER_SALE_VIEW_ROLES, titleKey: 'afterSales.detailTitle' },
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

// Sign-in, roles, a lapsed sign-in back to login, pages whose code failed to load.
export const { navigationFailure } = guardSignIn(router, auth, { home: { name: 'workbench' } })
// Issue 12's messages come with the first signed-in page, not with the login route.
router.beforeEach((to) => (to.meta.public ? true : loadProfileMessages(i18n).then(() => true)))
