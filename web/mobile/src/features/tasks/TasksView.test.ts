import { flushPromises, mount } from '@vue/test-utils'
import { shanghaiDay } from '@keyuan/shared'
import { json } from '@keyuan/shared/testing/answers.ts'
import { closeToast } from 'vant'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../../app'
import TasksView from './TasksView.vue'

const task = (id: string, name: string, due: string) => ({
  customer_id: id,
  customer_name: name,
  next_follow_up_date: due,
  last_interaction_at: null,
})

/** GET /follow-up-tasks answered from `pages` by `due`, the revisits from `revisits` (none by
 * default); the follow-up dues asked for, in order. */
function gateway(pages: Record<string, unknown>, revisits: (request: Request) => Response | Promise<Response> = () => json(200, { items: [], next_page_token: null })) {
  const asked: string[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      if (url.pathname.startsWith('/api/v1/revisit-tasks')) return revisits(request)
      const due = url.searchParams.get('due') ?? ''
      asked.push(due)
      return json(200, pages[due])
    }),
  )
  return asked
}

async function mountView() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/tasks', name: 'tasks', component: TasksView },
      { path: '/customers/:id/follow-up', name: 'follow-up-new', component: { template: '<p/>' } },
    ],
  })
  await router.push('/tasks')
  const wrapper = mount(TasksView, { global: { plugins: [i18n, router] } })
  await flushPromises()
  return wrapper
}

describe('TasksView', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('counts the overdue and today’s apart, overdue first with how many days late', async () => {
    gateway({
      overdue: {
        items: [task('c1', '西湖大酒店', shanghaiDay(new Date(), -3)), task('c2', '滨江小学食堂', shanghaiDay(new Date(), -1))],
        next_page_token: 'more',
      },
      today: { items: [task('c3', '城西养殖场', shanghaiDay())], next_page_token: null },
    })
    const wrapper = await mountView()
    expect(wrapper.find('[data-test="tasks-count-overdue"]').text()).toBe('2+')
    expect(wrapper.find('[data-test="tasks-count-today"]').text()).toBe('1')
    const overdue = wrapper.find('[data-test="tasks-overdue"]')
    expect(wrapper.text()).toContain('已逾期（2+）')
    expect(overdue.findAll('[data-test="task-days-late"]').map((tag) => tag.text())).toEqual(['逾期 3 天', '逾期 1 天'])
    expect(wrapper.text()).toContain('今天（1）')
    const order = wrapper.findAll('[data-test="task"]').map((cell) => cell.text())
    expect(order[0]).toContain('西湖大酒店')
    expect(order[2]).toContain('城西养殖场')
  })

  it('asks again when pulled down, and says when nothing is due', async () => {
    const empty = { items: [], next_page_token: null }
    const asked = gateway({ overdue: empty, today: empty })
    const wrapper = await mountView()
    expect(wrapper.find('[data-test="tasks-empty"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="tasks-count-overdue"]').text()).toBe('0')
    wrapper.findComponent({ name: 'van-pull-refresh' }).vm.$emit('refresh')
    await flushPromises()
    expect(asked.sort()).toEqual(['overdue', 'overdue', 'today', 'today'])
  })

  it("lists today's and overdue revisits and completes one from the sheet with its stars", async () => {
    const empty = { items: [], next_page_token: null }
    const revisit = (id: string, name: string, due: string) => ({
      id,
      customer_id: `c-${id}`,
      customer_name: name,
      due_date: due,
      tier: 'key',
      assignee_kind: 'owner',
      status: 'open',
    })
    const posted: { path: string; body: unknown }[] = []
    gateway({ overdue: empty, today: empty }, async (request) => {
      const url = new URL(request.url)
      if (request.method === 'POST') {
        posted.push({ path: url.pathname, body: await request.json() })
        return json(200, { ...revisit('r1', '西湖大酒店', shanghaiDay(new Date(), -2)), status: 'done', on_time: false })
      }
      const due = url.searchParams.get('due')
      expect(url.searchParams.get('mine')).toBe('true')
      return json(200, {
        items: due === 'overdue' ? [revisit('r1', '西湖大酒店', shanghaiDay(new Date(), -2))] : [revisit('r2', '城南酒楼', shanghaiDay())],
        next_page_token: null,
      })
    })
    const wrapper = await mountView()
    const rows = wrapper.findAll('[data-test="revisit-task"]')
    expect(rows).toHaveLength(2)
    expect(rows[0]!.text()).toContain('西湖大酒店')
    expect(rows[1]!.text()).toContain('城南酒楼')
    expect(rows[0]!.find('[data-test="revisit-days-late"]').text()).toBe('逾期 2 天')
    expect(wrapper.text()).toContain('回访任务（2）')
    await rows[0]!.find('[data-test="revisit-complete"]').trigger('click')
    await flushPromises()
    const sheet = wrapper.find('[data-test="revisit-sheet"]').element
    expect(sheet.textContent).toContain('完成回访：西湖大酒店')
    ;(sheet.querySelectorAll('[data-test="revisit-stars"] [role="radio"]')[4] as HTMLElement).click()
    await flushPromises()
    expect(sheet.querySelector('[data-test="revisit-stars-text"]')!.textContent).toBe('很满意')
    const content = sheet.querySelector('[data-test="revisit-content"] textarea') as HTMLTextAreaElement
    content.value = '电话回访，反馈配送准时'
    content.dispatchEvent(new Event('input'))
    ;(sheet.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(posted).toEqual([
      {
        path: '/api/v1/revisit-tasks/r1/complete',
        body: expect.objectContaining({ satisfaction: 5, kind: 'visit', content: '电话回访，反馈配送准时', new_needs: '' }),
      },
    ])
    expect(wrapper.findAll('[data-test="revisit-task"]')).toHaveLength(1)
    closeToast(true)
  })

  it('shows each customer’s special requirements as chips on its follow-up and revisit rows', async () => {
    const halal = [{ kind: 'halal', label: '清真', text: '清真' }]
    gateway(
      {
        overdue: { items: [], next_page_token: null },
        today: { items: [{ ...task('c1', '回民中学食堂', shanghaiDay()), alerts: halal }, task('c2', '城西养殖场', shanghaiDay())], next_page_token: null },
      },
      () =>
        json(200, {
          items: [{ id: 'r1', customer_id: 'c1', customer_name: '回民中学食堂', due_date: shanghaiDay(), tier: 'vip', tier_label: '钻石', assignee_kind: 'owner', status: 'open', alerts: [{ kind: 'allergens', label: '过敏原', text: '过敏原：花生' }] }],
          next_page_token: null,
        }),
    )
    const wrapper = await mountView()
    const rows = wrapper.findAll('[data-test="task"]')
    expect(rows[0]!.findAll('[data-test="alert-chip"]').map((c) => c.text())).toEqual(['清真'])
    expect(rows[1]!.find('[data-test="alert-chips"]').exists()).toBe(false)
    const revisit = wrapper.find('[data-test="revisit-task"]')
    expect(revisit.find('[data-test="alert-chip"]').text()).toBe('过敏原：花生')
    expect(revisit.text()).toContain('钻石')
  })
})
