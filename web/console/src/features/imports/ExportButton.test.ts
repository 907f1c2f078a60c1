import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import CustomerListView from '../customers/CustomerListView.vue'

/** The customer list as `role` sees it, against a gateway that lists nobody and exports a file. */
async function listAs(role: string, exportAnswer: () => Response) {
  const exports: URLSearchParams[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      if (url.pathname === '/api/v1/customer-types') return json(200, { items: [] })
      if (url.pathname === '/api/v1/exports/customers') {
        exports.push(url.searchParams)
        return exportAnswer()
      }
      return json(200, { items: [], next_page_token: null, users: [], units: [] })
    }),
  )
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/customers', name: 'customers', component: CustomerListView },
      { path: '/customers/import', name: 'customer-import-new', component: { template: '<p/>' } },
      { path: '/customers/new', name: 'customer-new', component: { template: '<p/>' } },
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
    ],
  })
  await router.push('/customers')
  auth.me.value = { role } as never
  const wrapper = mount(CustomerListView, { global: { plugins: [i18n, router, createPinia()] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, exports, router }
}

async function chooseExport(wrapper: ReturnType<typeof mount>, format: 'xlsx' | 'csv'): Promise<void> {
  await wrapper.find('[data-test="customer-export"]').trigger('click')
  await vi.waitFor(() => expect(document.querySelector(`[data-test="customer-export-${format}"]`)).not.toBeNull())
  ;(document.querySelector(`[data-test="customer-export-${format}"]`) as HTMLElement).click()
  await flushPromises()
}

describe('the customer list’s export and import', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.restoreAllMocks()
    document.body.innerHTML = ''
  })

  it('lets service staff export the list they see, with its search, but not import', async () => {
    const saved: string[] = []
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download)
    })
    URL.createObjectURL = () => 'blob:export'
    URL.revokeObjectURL = () => undefined
    const csv = () =>
      new Response('\ufeff客户名称\n', {
        status: 200,
        headers: { 'Content-Disposition': "attachment; filename=\"x.csv\"; filename*=UTF-8''%E5%AE%A2%E6%88%B7%E5%AF%BC%E5%87%BA.csv" },
      })
    const { wrapper, exports } = await listAs('service', csv)
    expect(wrapper.find('[data-test="customer-import"]').exists()).toBe(false)
    await wrapper.find('#customer-search').setValue('西湖')
    await chooseExport(wrapper, 'csv')
    await vi.waitFor(() => expect(saved).toEqual(['客户导出.csv']))
    expect(exports).toHaveLength(1)
    expect(exports[0]!.get('format')).toBe('csv')
    expect(exports[0]!.get('q')).toBe('西湖')
    wrapper.unmount()
  })

  it('opens the import wizard for a rep, and shows why an export was refused', async () => {
    const { wrapper, exports, router } = await listAs('sales', () => problem(403, 'permission_denied', '无权导出这些客户'))
    await chooseExport(wrapper, 'xlsx')
    expect(exports[0]!.get('format')).toBe('xlsx')
    await vi.waitFor(() => expect(document.body.textContent).toContain('无权导出这些客户（错误码：permission_denied）'))
    await wrapper.find('[data-test="customer-import"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('customer-import-new')
    wrapper.unmount()
  })
})
