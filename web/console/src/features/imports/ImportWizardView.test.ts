import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { File as NodeFile } from 'node:buffer'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { auth, i18n } from '../../app'
import type { CustomerImport } from './api'
import { aProblem, anImport, counts } from './fixtures'
import ImportWizardView from './ImportWizardView.vue'

interface Seen {
  method: string
  path: string
  query: URLSearchParams
  body: string
  contentType: string | null
}

/** A fake gateway: each import GET answers the next of `states` (the last one again after). */
function gateway(states: CustomerImport[], extra: (seen: Seen) => Response | null = () => null) {
  const seen: Seen[] = []
  const answers = [...states]
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      const call: Seen = {
        method: request.method,
        path: url.pathname,
        query: url.searchParams,
        body: request.method === 'POST' ? await request.text() : '',
        contentType: request.headers.get('Content-Type'),
      }
      seen.push(call)
      const special = extra(call)
      if (special) return special
      if (call.path === '/api/v1/customer-imports' && call.method === 'GET') return json(200, { items: [], next_page_token: null })
      if (call.path === '/api/v1/customer-imports/i1' && call.method === 'GET') {
        return json(200, answers.length > 1 ? answers.shift() : answers[0])
      }
      return json(404, { type: 'x', title: 'x', status: 404, code: 'not_found', detail: '未找到' })
    }),
  )
  return seen
}

async function mountAt(path: string): Promise<{ wrapper: ReturnType<typeof mount>; router: Router }> {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/customers/import', name: 'customer-import-new', component: ImportWizardView, props: { pollMs: 5 } },
      {
        path: '/customers/import/:id',
        name: 'customer-import',
        component: ImportWizardView,
        props: (route) => ({ id: route.params.id, pollMs: 5 }),
      },
      { path: '/customers', name: 'customers', component: { template: '<p/>' } },
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
    ],
  })
  await router.push(path)
  const wrapper = mount({ template: '<router-view />' }, { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router }
}

const REPORT = anImport({
  status: 'checked',
  percent: 100,
  checked_at: '2026-12-03T10:01:00+08:00',
  dry_run: counts({ rows: 10, customers: 8, created: 5, updated: 1, skipped: 2, rejected_rows: 3, problems: 3 }),
  rejected_rows_url: '/api/v1/customer-imports/i1/rejected-rows',
})
const PROBLEMS = [
  aProblem({ row: 3, column: '联系人手机', reason: '手机号须为11位' }),
  aProblem({
    row: 5,
    column: '客户名称',
    reason: '与已有客户重复',
    code: 'duplicate_existing',
    existing_customer_id: 'c9',
    existing_customer_name: '西湖大酒店',
    existing_visible: true,
  }),
  aProblem({ row: 7, column: '统一社会信用代码', reason: '与他人的客户重复', code: 'hidden_duplicate', existing_visible: false }),
]

describe('ImportWizardView', () => {
  beforeEach(() => {
    auth.me.value = { role: 'supervisor', display_name: '王磊' } as never
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('refuses a file that is not xlsx or CSV without sending it', async () => {
    const seen = gateway([])
    const { wrapper } = await mountAt('/customers/import')
    const input = wrapper.find('[data-test="import-file"]')
    Object.defineProperty(input.element, 'files', { value: [new File(['x'], '照片.jpg', { type: 'image/jpeg' })] })
    await input.trigger('change')
    await wrapper.find('[data-test="import-upload-submit"]').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-test="import-file-problem"]').text()).toBe('只能导入 xlsx 或 CSV 文件')
    expect(seen.filter((s) => s.method === 'POST')).toHaveLength(0)
    wrapper.unmount()
  })

  it('uploads the file as the body, follows the dry run and shows the report with its problems', async () => {
    const seen = gateway([anImport({ status: 'checking', percent: 40 }), REPORT], (call) => {
      if (call.method === 'POST' && call.path === '/api/v1/customer-imports') return json(202, anImport({ status: 'checking', percent: 0 }))
      if (call.path === '/api/v1/customer-imports/i1/problems') return json(200, { items: PROBLEMS, next_page_token: null })
      return null
    })
    const { wrapper, router } = await mountAt('/customers/import')
    const input = wrapper.find('[data-test="import-file"]')
    // Node's File: the fetch under test reads it as a browser's would (jsdom's it cannot).
    const file = new NodeFile(['客户名称\n西湖大酒店\n'], '客户.csv', { type: 'text/csv' })
    Object.defineProperty(input.element, 'files', { value: [file] })
    await input.trigger('change')
    expect(wrapper.find('[data-test="import-file-name"]').text()).toContain('客户.csv')
    await wrapper.find('[data-test="import-update-existing"] input').setValue(false)
    await wrapper.find('[data-test="import-upload-submit"]').trigger('submit')
    await flushPromises()

    const upload = seen.find((s) => s.method === 'POST')!
    expect(upload.path).toBe('/api/v1/customer-imports')
    expect(upload.query.get('file_name')).toBe('客户.csv')
    expect(upload.query.get('update_existing')).toBe('false')
    expect(upload.body).toBe('客户名称\n西湖大酒店\n')
    expect(upload.contentType).toBe('text/csv')
    // The import's own page: a reload finds it again.
    expect(router.currentRoute.value.fullPath).toBe('/customers/import/i1')

    await vi.waitFor(() => expect(wrapper.find('[data-test="import-step-report"]').exists()).toBe(true))
    await flushPromises()
    const report = wrapper.find('[data-test="import-step-report"]')
    expect(report.find('[data-test="import-count-created"]').text()).toContain('5')
    expect(report.find('[data-test="import-count-updated"]').text()).toContain('1')
    expect(report.find('[data-test="import-count-skipped"]').text()).toContain('2')
    expect(report.find('[data-test="import-would-do"]').text()).toBe('确认后将新建 5 个客户、更新 1 个，跳过 2 个。')
    const table = report.find('[data-test="import-problem-table"]').text()
    expect(table).toContain('手机号须为11位')
    expect(table).toContain('联系人手机')
    expect(table).toContain('已有客户：西湖大酒店')
    expect(table).toContain('已有客户（你无权查看）')
    const link = report.find('[data-test="import-problem-existing"] a')
    expect(link.attributes('href')).toBe('/customers/c9')
    wrapper.unmount()
  })

  it('confirms, shows the progress as it grows, then the result with the rejected rows to download', async () => {
    const importing = (percent: number, created: number) =>
      anImport({ ...REPORT, status: 'importing', percent, confirmed_at: '2026-12-03T10:02:00+08:00', result: counts({ rows: percent / 10, created }) })
    const done = anImport({
      ...REPORT,
      status: 'completed',
      percent: 100,
      confirmed_at: '2026-12-03T10:02:00+08:00',
      finished_at: '2026-12-03T10:03:00+08:00',
      result: counts({ rows: 10, customers: 8, created: 5, updated: 1, skipped: 2, rejected_rows: 3, problems: 3 }),
    })
    let confirmed = false
    let imports = 0
    const seen = gateway([REPORT], (call) => {
      if (call.path === '/api/v1/customer-imports/i1/problems') return json(200, { items: PROBLEMS, next_page_token: null })
      if (call.method === 'POST' && call.path === '/api/v1/customer-imports/i1/confirm') {
        confirmed = true
        return json(202, importing(0, 0))
      }
      if (confirmed && call.method === 'GET' && call.path === '/api/v1/customer-imports/i1') {
        imports += 1
        // Slow enough to be seen half way.
        return json(200, imports < 20 ? importing(50, 3) : done)
      }
      if (call.path === '/api/v1/customer-imports/i1/rejected-rows') {
        return new Response(new Blob(['PK']), {
          status: 200,
          headers: { 'Content-Disposition': "attachment; filename=\"x.xlsx\"; filename*=UTF-8''%E6%9C%AA%E9%80%9A%E8%BF%87.xlsx" },
        })
      }
      return null
    })
    const saved: string[] = []
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:rejects', revokeObjectURL: () => undefined }))
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download)
    })

    const { wrapper } = await mountAt('/customers/import/i1')
    await vi.waitFor(() => expect(wrapper.find('[data-test="import-confirm"]').exists()).toBe(true))
    await wrapper.find('[data-test="import-confirm"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-test="import-step-importing"]').text()).toContain('50%'))
    expect(wrapper.find('[data-test="import-progress-rows"]').text()).toBe('已处理 5 / 10 行')
    expect(wrapper.find('[data-test="import-count-created"]').text()).toContain('3')

    await vi.waitFor(() => expect(wrapper.find('[data-test="import-step-result"]').exists()).toBe(true), { timeout: 3000 })
    const result = wrapper.find('[data-test="import-step-result"]')
    expect(result.text()).toContain('导入完成')
    expect(result.find('[data-test="import-result-summary"]').text()).toBe('新建 5 个客户、更新 1 个，跳过 2 个。')
    await result.find('[data-test="import-rejected-rows"]').trigger('click')
    await vi.waitFor(() => expect(saved).toEqual(['未通过.xlsx']))
    expect(seen.some((s) => s.path === '/api/v1/customer-imports/i1/rejected-rows')).toBe(true)
    click.mockRestore()
    wrapper.unmount()
  })

  it('shows the gateway’s refusal of a file that is not what its name says', async () => {
    gateway([], (call) =>
      call.method === 'POST' ? problem(415, 'unsupported_media_type', '只能导入 xlsx 或 CSV 文件 / only xlsx or CSV files can be imported') : null,
    )
    const { wrapper, router } = await mountAt('/customers/import')
    const input = wrapper.find('[data-test="import-file"]')
    Object.defineProperty(input.element, 'files', { value: [new NodeFile([new Uint8Array([0, 1, 2])], '客户.xlsx')] })
    await input.trigger('change')
    await wrapper.find('[data-test="import-upload-submit"]').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-test="import-file-problem"]').text()).toContain('unsupported_media_type')
    expect(router.currentRoute.value.name).toBe('customer-import-new')
    wrapper.unmount()
  })

  it('cancels a report once the user agrees, and then offers another file', async () => {
    const seen = gateway([REPORT], (call) => {
      if (call.path === '/api/v1/customer-imports/i1/problems') return json(200, { items: [], next_page_token: null })
      if (call.path === '/api/v1/customer-imports/i1/cancel') return json(200, anImport({ ...REPORT, status: 'cancelled' }))
      return null
    })
    const { wrapper } = await mountAt('/customers/import/i1')
    await vi.waitFor(() => expect(wrapper.find('[data-test="import-cancel"]').exists()).toBe(true))
    expect(wrapper.find('[data-test="import-problem-table"]').text()).toContain('没有发现问题')
    await wrapper.find('[data-test="import-cancel"]').trigger('click')
    // The question is asked first: nothing is cancelled until the user agrees.
    await vi.waitFor(() => expect(document.querySelector('.el-message-box')).not.toBeNull())
    expect(seen.some((s) => s.path.endsWith('/cancel'))).toBe(false)
    const agree = [...document.querySelectorAll<HTMLButtonElement>('.el-message-box button')].find((b) => b.textContent?.includes('确定'))!
    agree.click()
    await vi.waitFor(() => expect(wrapper.find('[data-test="import-cancelled"]').exists()).toBe(true))
    expect(seen.filter((s) => s.method === 'POST' && s.path === '/api/v1/customer-imports/i1/cancel')).toHaveLength(1)
    expect(wrapper.find('[data-test="import-again"]').exists()).toBe(true)
    wrapper.unmount()
  })

  it('opened by its address, shows an ended import as it ended', async () => {
    gateway([anImport({ status: 'failed', error: '文件无法读取：不是有效的 xlsx' })])
    const { wrapper } = await mountAt('/customers/import/i1')
    await vi.waitFor(() => expect(wrapper.find('[data-test="import-failed"]').exists()).toBe(true))
    expect(wrapper.text()).toContain('文件无法读取：不是有效的 xlsx')
    expect(wrapper.find('[data-test="import-again"]').exists()).toBe(true)
    wrapper.unmount()
  })

  it('says so when the import is not the caller’s to see', async () => {
    gateway([], (call) => (call.path === '/api/v1/customer-imports/i2' ? problem(404, 'not_found', '导入不存在') : null))
    const { wrapper } = await mountAt('/customers/import/i2')
    await vi.waitFor(() => expect(wrapper.find('[data-test="error-state"]').exists()).toBe(true))
    expect(wrapper.text()).toContain('导入不存在')
    wrapper.unmount()
  })
})
