import { flushPromises, mount } from '@vue/test-utils'
import { shanghaiDay } from '@keyuan/shared'
import { json } from '@keyuan/shared/testing/answers.ts'
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

/** GET /follow-up-tasks answered from `pages` by `due`; the dues asked for, in order. */
function gateway(pages: Record<string, unknown>) {
  const asked: string[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const due = new URL(request.url).searchParams.get('due') ?? ''
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
})
