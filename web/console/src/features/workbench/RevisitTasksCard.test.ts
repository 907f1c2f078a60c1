import { flushPromises, mount } from '@vue/test-utils'
import type { RevisitTask } from '@keyuan/shared'
import { json, refusal } from '@keyuan/shared/testing/answers.ts'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import RevisitTasksCard from './RevisitTasksCard.vue'
import WorkbenchView from './WorkbenchView.vue'

const task = (id: string, name: string, due: string, extra: Partial<RevisitTask> = {}): RevisitTask => ({
  id,
  customer_id: `c-${id}`,
  customer_name: name,
  assignee_id: 'u1',
  assignee_kind: 'owner',
  assignee_name: '张伟',
  cancel_reason: '',
  completed_at: null,
  completed_by: '',
  completed_by_name: '',
  created_at: '2026-11-01T08:00:00+08:00',
  due_date: due,
  follow_up_id: null,
  interval_days: 14,
  new_needs: '',
  on_time: null,
  org_unit_id: 'o1',
  overdue_at: null,
  satisfaction: null,
  status: 'open',
  tier: 'vip',
  ...extra,
})

interface Sent {
  call: string
  query: URLSearchParams
  body: unknown
}

function gateway(answer: (url: URL, request: Request) => Response | Promise<Response>) {
  const sent: Sent[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      const body = request.method === 'POST' ? await request.clone().json() : null
      sent.push({ call: `${request.method} ${url.pathname}`, query: url.searchParams, body })
      return answer(url, request)
    }),
  )
  return sent
}

async function mountWith(component: object, props: Record<string, unknown> = {}) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<p/>' } },
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
    ],
  })
  await router.push('/')
  const wrapper = mount(component, { props, global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

describe('RevisitTasksCard', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'zh-CN'
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-03T10:00:00+08:00') })
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('shows the tenant’s tier name and the customer’s special requirements on each revisit', async () => {
    const alerts = [{ kind: 'halal', label: '清真', text: '清真，专用餐具' }]
    gateway(() => json(200, { items: [task('t1', '回民中学食堂', '2026-12-03', { tier_label: '钻石客户', alerts })], next_page_token: null }))
    const wrapper = await mountWith(RevisitTasksCard)
    const row = wrapper.find('[data-test="revisit"]')
    expect(row.text()).toContain('钻石客户')
    expect(row.find('[data-test="customer-alert-tags"]').text()).toBe('清真，专用餐具')
  })

  it('counts my revisits due today, overdue and this week, and shows how late the overdue are', async () => {
    const sent = gateway((url) => {
      const due = url.searchParams.get('due')
      if (due === 'today') return json(200, { items: [task('t1', '西湖大酒店', '2026-12-03')], next_page_token: null })
      if (due === 'overdue') return json(200, { items: [task('t2', '滨江小学食堂', '2026-11-28')], next_page_token: 'next' })
      return json(200, { items: [task('t1', '西湖大酒店', '2026-12-03'), task('t3', '城南酒楼', '2026-12-05')], next_page_token: null })
    })
    const wrapper = await mountWith(RevisitTasksCard)
    expect(sent.map((s) => [s.query.get('due'), s.query.get('mine')]).sort()).toEqual([
      ['overdue', 'true'],
      ['this_week', 'true'],
      ['today', 'true'],
    ])
    expect(wrapper.find('[data-test="revisit-due"]').text()).toBe('今日 1已逾期 1+本周 2')
    expect(wrapper.find('[data-test="revisit-list"]').text()).toContain('西湖大酒店')
    await wrapper.find('[data-test="revisit-due-overdue"] input').setValue(true)
    await flushPromises()
    const row = wrapper.find('[data-test="revisit"]')
    expect(row.text()).toContain('滨江小学食堂')
    expect(row.find('[data-test="revisit-days-late"]').text()).toBe('逾期 5 天')
    expect(row.find('a').attributes('href')).toBe('/customers/c-t2')
  })

  it('completes a revisit with its stars, kind and new needs, and it leaves the lists', async () => {
    const sent = gateway((url) => {
      if (url.pathname.endsWith('/complete')) return json(200, task('t1', '西湖大酒店', '2026-12-03', { status: 'done', on_time: true, satisfaction: 4 }))
      const items = url.searchParams.get('due') === 'overdue' ? [] : [task('t1', '西湖大酒店', '2026-12-03')]
      return json(200, { items, next_page_token: null })
    })
    const wrapper = await mountWith(RevisitTasksCard)
    await wrapper.find('[data-test="revisit-complete"]').trigger('click')
    await flushPromises()
    const dialog = document.querySelector('[data-test="revisit-complete-dialog"]')!
    expect(dialog.textContent).toContain('完成回访：西湖大酒店')
    // Saving without stars or content is refused before anything is sent.
    ;(document.querySelector('[data-test="revisit-save"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(sent.filter((s) => s.call.startsWith('POST'))).toEqual([])
    await vi.waitFor(() => expect(dialog.textContent).toContain('请选择满意度'))
    const stars = dialog.querySelectorAll('[data-test="revisit-satisfaction"] .el-rate__item')
    ;(stars[3] as HTMLElement).click()
    await flushPromises()
    expect(dialog.textContent).toContain('满意')
    ;(dialog.querySelector('input[type="radio"][value="visit"]') as HTMLInputElement).click()
    const content = dialog.querySelector('#revisit-content') as HTMLTextAreaElement
    content.value = '上门回访后勤主任'
    content.dispatchEvent(new Event('input'))
    const needs = dialog.querySelector('#revisit-new-needs') as HTMLTextAreaElement
    needs.value = '寒假前备货'
    needs.dispatchEvent(new Event('input'))
    ;(document.querySelector('[data-test="revisit-save"]') as HTMLButtonElement).click()
    await flushPromises()
    const posted = sent.filter((s) => s.call.startsWith('POST'))
    expect(posted).toHaveLength(1)
    expect(posted[0]!.call).toBe('POST /api/v1/revisit-tasks/t1/complete')
    expect(posted[0]!.body).toMatchObject({ satisfaction: 4, kind: 'visit', content: '上门回访后勤主任', new_needs: '寒假前备货', next_follow_up_date: null })
    expect(wrapper.find('[data-test="revisit-list"]').exists()).toBe(false)
    expect(wrapper.text()).toContain('没有待回访的客户')
  })

  it("puts the API's refusal beside its field", async () => {
    gateway((url) => {
      if (url.pathname.endsWith('/complete')) return refusal([{ field: 'content', message: '内容过长' }])
      return json(200, { items: [task('t1', '西湖大酒店', '2026-12-03')], next_page_token: null })
    })
    const wrapper = await mountWith(RevisitTasksCard)
    await wrapper.find('[data-test="revisit-complete"]').trigger('click')
    await flushPromises()
    const dialog = document.querySelector('[data-test="revisit-complete-dialog"]')!
    ;(dialog.querySelectorAll('[data-test="revisit-satisfaction"] .el-rate__item')[4] as HTMLElement).click()
    const content = dialog.querySelector('#revisit-content') as HTMLTextAreaElement
    content.value = '回访'
    content.dispatchEvent(new Event('input'))
    ;(document.querySelector('[data-test="revisit-save"]') as HTMLButtonElement).click()
    await flushPromises()
    await vi.waitFor(() =>
      expect(content.closest('.el-form-item')?.querySelector('.el-form-item__error')?.textContent?.trim()).toBe('内容过长'),
    )
  })

  it("lists the team's overdue revisits with whose each is, the service queue named", async () => {
    const sent = gateway(() =>
      json(200, {
        items: [
          task('t1', '西湖大酒店', '2026-11-30', { assignee_name: '李娜' }),
          task('t2', '城南酒楼', '2026-12-01', { assignee_kind: 'service', assignee_id: '', assignee_name: '' }),
        ],
        next_page_token: null,
      }),
    )
    const wrapper = await mountWith(RevisitTasksCard, { team: true })
    expect(sent.map((s) => [s.query.get('due'), s.query.get('mine')])).toEqual([['overdue', 'false']])
    const rows = wrapper.findAll('[data-test="team-revisit"]')
    expect(rows[0]!.text()).toContain('李娜')
    expect(rows[0]!.text()).toContain('逾期 3 天')
    expect(rows[1]!.text()).toContain('客服队列')
  })
})

describe('the workbench by role', () => {
  afterEach(() => vi.unstubAllGlobals())

  async function workbenchAs(role: string) {
    const sent = gateway((url) => {
      if (url.pathname === '/api/v1/analytics/customer-summary') return json(200, { total: 0, counts: [], new_per_day: [] })
      return json(200, { items: [], next_page_token: null })
    })
    auth.me.value = { role, display_name: '王磊' } as never
    const wrapper = await mountWith(WorkbenchView)
    return { wrapper, paths: new Set(sent.map((s) => s.call)) }
  }

  it('gives a supervisor their revisits, the team’s overdue ones and the licences running out', async () => {
    const { wrapper, paths } = await workbenchAs('supervisor')
    expect(wrapper.find('[data-test="revisit-card"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="team-revisit-card"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="expiring-licences"]').exists()).toBe(true)
    expect(paths.has('GET /api/v1/licences/expiring')).toBe(true)
  })

  it('gives a rep their own revisits only, and finance the licences without revisits', async () => {
    const rep = await workbenchAs('sales')
    expect(rep.wrapper.find('[data-test="revisit-card"]').exists()).toBe(true)
    expect(rep.wrapper.find('[data-test="team-revisit-card"]').exists()).toBe(false)
    expect(rep.paths.has('GET /api/v1/licences/expiring')).toBe(false)
    const finance = await workbenchAs('finance')
    expect(finance.wrapper.find('[data-test="revisit-card"]').exists()).toBe(false)
    expect(finance.wrapper.find('[data-test="expiring-licences"]').exists()).toBe(true)
  })
})
