import { flushPromises, mount } from '@vue/test-utils'
import { json, refusal } from '@keyuan/shared/testing/answers.ts'
import { closeToast } from 'vant'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../../app'
import LogFollowUpView from './LogFollowUpView.vue'

function gateway(answer: () => Response) {
  const posted: unknown[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      posted.push({ path: new URL(request.url).pathname, body: await request.json() })
      return answer()
    }),
  )
  return posted
}

async function mountView() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/customers/:id/follow-up', name: 'follow-up-new', component: LogFollowUpView, props: true },
      { path: '/customers/:id', name: 'customer', component: { template: '<p>card</p>' } },
    ],
  })
  await router.push('/customers/c1/follow-up')
  const wrapper = mount(LogFollowUpView, { props: { id: 'c1' }, global: { plugins: [i18n, router] } })
  await flushPromises()
  return { wrapper, router }
}

const errorBeside = (wrapper: ReturnType<typeof mount>, selector: string) =>
  wrapper.find(selector).element.closest('.van-field')?.querySelector('.van-field__error-message')?.textContent?.trim() ?? ''

describe('LogFollowUpView', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    // The "logged" toast's 2 s timer would otherwise fire after the test's window is gone.
    closeToast(true)
  })

  it('logs a visit with its content and next date, then goes back to the card', async () => {
    const posted = gateway(() => json(201, { id: 'f1' }))
    const { wrapper, router } = await mountView()
    await wrapper.find('[data-test="kind-visit"]').trigger('click')
    await wrapper.find('[data-test="follow-up-content"] textarea').setValue('上门送样')
    await wrapper.find('[data-test="follow-up-next"] input').setValue('2099-01-05')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(posted).toHaveLength(1)
    expect(posted[0]).toMatchObject({
      path: '/api/v1/customers/c1/follow-ups',
      body: { kind: 'visit', content: '上门送样', next_follow_up_date: '2099-01-05' },
    })
    expect(router.currentRoute.value.name).toBe('customer')
  })

  it('asks for content before sending anything', async () => {
    const posted = gateway(() => json(201, { id: 'f1' }))
    const { wrapper } = await mountView()
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(posted).toHaveLength(0)
    expect(errorBeside(wrapper, '[data-test="follow-up-content"] textarea')).toBe('必填')
  })

  it('puts the API’s refusal beside the next date', async () => {
    gateway(() => refusal([{ field: 'next_follow_up_date', message: '不能早于今天' }]))
    const { wrapper } = await mountView()
    await wrapper.find('[data-test="follow-up-content"] textarea').setValue('电话')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(errorBeside(wrapper, '[data-test="follow-up-next"] input')).toBe('不能早于今天')
  })
})
