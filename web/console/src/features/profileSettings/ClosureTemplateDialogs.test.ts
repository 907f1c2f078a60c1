import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../../app'
import type { ClosureTemplate } from './api'
import ClosureTemplateDialog from './ClosureTemplateDialog.vue'
import TemplateApplyDialog from './TemplateApplyDialog.vue'

const stored: ClosureTemplate = {
  id: 'tpl1',
  name: '2027 杭州中小学校历',
  ranges: [
    { id: 'r-winter', start_date: '2027-01-23', end_date: '2027-02-20', reason: 'winter_break', note: '' },
    { id: 'r-summer', start_date: '2027-07-03', end_date: '2027-08-31', reason: 'summer_break', note: '' },
  ],
  customer_count: 23,
  version: 3,
  created_at: '2026-12-01T10:00:00+08:00',
  updated_at: '2026-12-02T10:00:00+08:00',
}

interface Sent {
  call: string
  body: unknown
}

function gateway(answer: (call: string, body: unknown) => Response) {
  const sent: Sent[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const call = `${request.method} ${new URL(request.url).pathname}`
      const body = request.method === 'GET' ? null : await request.json()
      sent.push({ call, body })
      return answer(call, body)
    }),
  )
  return sent
}

async function mountDialog(component: object, props: Record<string, unknown>) {
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<p/>' } },
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
    ],
  })
  await router.push('/')
  const wrapper = mount(component, { props: { open: true, ...props }, global: { plugins: [i18n, pinia, router] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

const dialog = (test: string) => document.querySelector(`[data-test="${test}"]`) as HTMLElement
const click = async (test: string) => {
  ;(document.querySelector(`[data-test="${test}"]`) as HTMLElement).click()
  await flushPromises()
}
const errorBeside = (selector: string) =>
  document.querySelector(selector)?.closest('.el-form-item')?.querySelector('.el-form-item__error')?.textContent?.trim() ?? ''

describe('the calendar template dialogs', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'zh-CN'
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('checks a new template before sending: nothing goes out while a range is missing', async () => {
    const sent = gateway(() => json(201, stored))
    await mountDialog(ClosureTemplateDialog, { template: null })
    const name = document.querySelector('#template-name') as HTMLInputElement
    name.value = '2027 苏州中小学校历'
    name.dispatchEvent(new Event('input'))
    await click('template-save')
    expect(sent).toEqual([])
    await vi.waitFor(() => {
      expect(errorBeside('#range-0-start')).toBe('必填')
      expect(errorBeside('#range-0-reason')).toBe('必填')
    })
  })

  it('changes a template with every range, their ids and its version; a refusal of a range lands on that range', async () => {
    const sent = gateway(() =>
      problem(400, 'invalid_argument', '原因为其他时须填写说明', { field: 'ranges[1].note' }),
    )
    const wrapper = await mountDialog(ClosureTemplateDialog, { template: stored })
    await click('template-save')
    expect(sent).toHaveLength(1)
    expect(sent[0]!.call).toBe('PATCH /api/v1/closure-templates/tpl1')
    expect(sent[0]!.body).toEqual({
      name: '2027 杭州中小学校历',
      expected_version: 3,
      ranges: [
        { id: 'r-winter', start_date: '2027-01-23', end_date: '2027-02-20', reason: 'winter_break', note: '' },
        { id: 'r-summer', start_date: '2027-07-03', end_date: '2027-08-31', reason: 'summer_break', note: '' },
      ],
    })
    await vi.waitFor(() => expect(errorBeside('#range-1-note')).toBe('原因为其他时须填写说明'))
    expect(wrapper.emitted('saved')).toBeUndefined()
    expect(dialog('template-failure')).toBeNull()
  })

  it('applies by filter and reports what happened, conflicts named with their own closure', async () => {
    const sent = gateway((call) => {
      if (call === 'GET /api/v1/customer-types') return json(200, { items: ['学校食堂', '企业食堂'] })
      if (call === 'GET /api/v1/org-units' || call === 'GET /api/v1/users') return json(200, { items: [] })
      return json(200, {
        applied_customer_ids: ['c1', 'c2'],
        already_applied_customer_ids: ['c3'],
        not_found_customer_ids: [],
        conflicts: [
          {
            customer_id: 'c4',
            customer_name: '滨江实验小学食堂',
            closure: { id: 'cl1', customer_id: 'c4', start_date: '2027-02-01', end_date: '2027-02-10', reason: 'renovation', note: '', template_id: null, template_name: '', version: 1, created_at: '', updated_at: '' },
            overlaps: [
              {
                closure: { id: 'cl1', customer_id: 'c4', start_date: '2027-02-01', end_date: '2027-02-10', reason: 'renovation', note: '', template_id: null, template_name: '', version: 1, created_at: '', updated_at: '' },
                range: { id: 'r1', start_date: '2027-01-23', end_date: '2027-02-20', reason: 'winter_break', note: '' },
              },
            ],
          },
        ],
      })
    })
    const wrapper = await mountDialog(TemplateApplyDialog, { template: stored })
    // Neither customers nor a filter: refused before sending.
    await click('apply-submit')
    await vi.waitFor(() => expect(errorBeside('#apply-customers')).toBe('请选择客户'))
    await click('apply-mode-filter')
    await click('apply-submit')
    expect(dialog('apply-filter-error').textContent).toBe('请至少指定一个条件')
    expect(sent.filter((s) => s.call.startsWith('POST'))).toEqual([])
    const tag = document.querySelector('#apply-tag') as HTMLInputElement
    tag.value = '寒暑假'
    tag.dispatchEvent(new Event('input'))
    await flushPromises()
    await click('apply-submit')
    const posted = sent.filter((s) => s.call.startsWith('POST'))
    expect(posted).toEqual([{ call: 'POST /api/v1/closure-templates/tpl1/customers', body: { filter: { tag: '寒暑假' } } }])
    expect(dialog('apply-summary').textContent).toContain('新应用 2 个客户，1 个此前已应用，1 个因自有停工冲突未应用')
    expect(dialog('report-conflict-table').textContent).toContain('滨江实验小学食堂')
    expect(dialog('report-conflict-table').textContent).toContain('2027-02-01 – 2027-02-10 装修')
    expect(dialog('report-conflict-table').textContent).toContain('2027-01-23 – 2027-02-20 寒假')
    expect(wrapper.emitted('applied')).toHaveLength(1)
  })
})
