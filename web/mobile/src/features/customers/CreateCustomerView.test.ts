import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { json, problem, refusal } from '@keyuan/shared/testing/answers.ts'
import { i18n } from '../../app'
import CreateCustomerView from './CreateCustomerView.vue'

/** The gateway as the H5 sees it: types and fields to read, and `onCreate` for the POST. */
function gateway(onCreate: (body: unknown) => Response) {
  const posted: unknown[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname
      if (path === '/api/v1/customer-types') return json(200, { items: ['学校食堂', '酒店'] })
      if (path === '/api/v1/custom-fields') return json(200, { items: [] })
      if (path === '/api/v1/customers' && request.method === 'POST') {
        const body = await request.json()
        posted.push(body)
        return onCreate(body)
      }
      return problem(404, 'not_found', 'nope')
    }),
  )
  return posted
}

/** The message Vant shows under the field that holds `input`. */
const errorBeside = (wrapper: VueWrapper, input: string) =>
  wrapper.find(input).element.closest('.van-field')?.querySelector('.van-field__error-message')?.textContent?.trim() ?? ''

async function mountCreate() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/customers/new', name: 'customer-new', component: CreateCustomerView },
      { path: '/customers/:id', name: 'customer', component: { template: '<p>card</p>' } },
      { path: '/customers', name: 'customers', component: { template: '<p>list</p>' } },
    ],
  })
  await router.push('/customers/new')
  const wrapper = mount(CreateCustomerView, { global: { plugins: [i18n, router] } })
  await flushPromises()
  return wrapper
}

describe('creating a customer on the H5', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('does not leave step one without a name', async () => {
    const posted = gateway(() => json(201, {}))
    const wrapper = await mountCreate()
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.text()).toContain('必填')
    expect(wrapper.find('[data-test="create-contact-mobile"]').exists()).toBe(false)
    expect(posted).toEqual([])
  })

  it('refuses a wrong mobile before sending, then shows the existing customer of a duplicate', async () => {
    const posted = gateway(() =>
      problem(409, 'already_exists', '手机号已被客户“杭州食堂”使用（负责人：王磊）', {
        field: 'mobile',
        existing_id: 'c-42',
        existing_owner: { id: 'u-1', name: '王磊' },
      }),
    )
    const wrapper = await mountCreate()
    await wrapper.find('input#create-name').setValue('杭州第二食堂')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    await wrapper.find('input#create-contact-name').setValue('王芳')
    await wrapper.find('input#create-contact-mobile').setValue('1380013800')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.text()).toContain('手机号码格式不正确')
    expect(posted).toEqual([])

    await wrapper.find('input#create-contact-mobile').setValue('+86 138 0013 8000')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(posted).toHaveLength(1)
    expect(posted[0]).toMatchObject({ name: '杭州第二食堂', contacts: [{ name: '王芳', mobile: '+86 138 0013 8000', primary: true }] })
    expect(wrapper.find('[data-test="duplicate-detail"]').text()).toContain('杭州食堂')
    expect(wrapper.find('[data-test="duplicate-owner"]').text()).toContain('王磊')
    expect(wrapper.find('[data-test="duplicate-link"]').attributes('href')).toBe('/customers/c-42')
    expect(errorBeside(wrapper, 'input#create-contact-mobile')).toBe('手机号已被客户“杭州食堂”使用（负责人：王磊）')
  })

  it("goes back to step one for the API's refusal of the name, and keeps the contact's refusal for step two", async () => {
    gateway(() =>
      refusal([
        { field: 'name', message: '最多200个字符' },
        { field: 'contacts[0].wechat_id', message: '微信号格式不正确' },
        { field: 'contacts[0].email', message: '邮箱格式不正确' },
      ]),
    )
    const wrapper = await mountCreate()
    await wrapper.find('input#create-name').setValue('杭州第二食堂')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    await wrapper.find('input#create-contact-name').setValue('王芳')
    await wrapper.find('input#create-contact-wechat').setValue('wangfang_01')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('input#create-contact-name').exists()).toBe(false)
    expect(errorBeside(wrapper, 'input#create-name')).toBe('最多200个字符')
    expect(wrapper.find('[data-test="form-other-errors"]').text()).toBe('contacts[0].email：邮箱格式不正确')

    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(errorBeside(wrapper, 'input#create-contact-wechat')).toBe('微信号格式不正确')
    expect(errorBeside(wrapper, 'input#create-contact-name')).toBe('')
  })
})
