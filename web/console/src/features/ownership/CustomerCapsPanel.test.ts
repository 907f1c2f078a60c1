import { flushPromises, mount } from '@vue/test-utils'
import type { CustomerCaps, User } from '@keyuan/shared'
import { json, refusal } from '@keyuan/shared/testing/answers.ts'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../app'
import { useDirectoryStore } from '../directory/store'
import CustomerCapsPanel from './CustomerCapsPanel.vue'

const caps: CustomerCaps = {
  default_cap: null,
  users: [
    { user_id: 'u1', user_name: '张伟', cap: null, held: 12 },
    { user_id: 'u2', user_name: '李娜', cap: 10, held: 11 },
  ],
}

/** GET and PUT /customer-caps: the PUT's bodies, each answered by `answer`. */
function gateway(answer: (body: Record<string, unknown>) => Response) {
  const puts: Record<string, unknown>[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      if (request.method === 'GET') return json(200, caps)
      const body = (await request.json()) as Record<string, unknown>
      puts.push(body)
      return answer(body)
    }),
  )
  return puts
}

async function mountPanel() {
  const pinia = createPinia()
  setActivePinia(pinia)
  useDirectoryStore().users = [{ id: 'u1', org_unit_name: '西湖门店' }] as User[]
  const wrapper = mount(CustomerCapsPanel, { global: { plugins: [i18n, pinia] } })
  await flushPromises()
  return wrapper
}

const usage = (wrapper: ReturnType<typeof mount>, userId: string) => wrapper.find(`[data-test="caps-usage-${userId}"]`).text()

describe('CustomerCapsPanel', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('shows each person’s holding against their cap, 0 as no default cap, and who is over it', async () => {
    gateway(() => json(200, caps))
    const wrapper = await mountPanel()
    expect((wrapper.find('#caps-default').element as HTMLInputElement).value).toBe('0')
    expect(usage(wrapper, 'u1')).toBe('12 / 不限')
    expect(usage(wrapper, 'u2')).toBe('11 / 10')
    expect(wrapper.find('[data-test="caps-table"]').text()).toContain('西湖门店')
    expect(wrapper.find('[data-test="caps-table"]').text()).toContain('已超出上限')
    expect(wrapper.find('[data-test="caps-save"]').attributes('disabled')).toBeDefined()
  })

  it('saves a new default and a person back on the default, sending only those', async () => {
    const puts = gateway(() => json(200, { default_cap: 200, users: caps.users.map((u) => ({ ...u, cap: null })) }))
    const wrapper = await mountPanel()
    await wrapper.find('#caps-default').setValue('200')
    expect(usage(wrapper, 'u1')).toBe('12 / 200')
    await wrapper.find('[data-test="caps-own-u2"] input').setValue('')
    await wrapper.find('[data-test="caps-save"]').trigger('click')
    await flushPromises()
    expect(puts).toEqual([{ default_cap: 200, users: [{ user_id: 'u2', cap: null }] }])
    expect(usage(wrapper, 'u2')).toBe('11 / 200')
  })

  it("shows a person's refused cap beside their own input", async () => {
    gateway(() => refusal([{ field: 'users[0].cap', message: '须在1到100000之间' }]))
    const wrapper = await mountPanel()
    await wrapper.find('[data-test="caps-own-u1"] input').setValue('30')
    await wrapper.find('[data-test="caps-save"]').trigger('click')
    await flushPromises()
    const row = () => wrapper.find('[data-test="caps-own-u1"]').element.closest('tr')?.textContent
    await vi.waitFor(() => expect(row()).toContain('须在1到100000之间'))
    expect(wrapper.find('[data-test="caps-failure"]').exists()).toBe(false)
  })
})
