import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { json, problem, refusal } from '@keyuan/shared/testing/answers.ts'
import { auth, i18n } from '../../app'
import CustomerFormView from './CustomerFormView.vue'

/** The gateway as the create form sees it; `refuse` answers the POST. */
function gateway(refuse: () => Response) {
  const posted: { language: string | null }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname
      if (path === '/api/v1/customer-types') return json(200, { items: ['学校食堂'] })
      if (path === '/api/v1/custom-fields') return json(200, { items: [] })
      posted.push({ language: request.headers.get('Accept-Language') })
      return refuse()
    }),
  )
  return posted
}

async function mountCreate() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/customers/new', name: 'customer-new', component: CustomerFormView },
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
    ],
  })
  await router.push('/customers/new')
  auth.me.value = { role: 'sales' } as never
  const wrapper = mount(CustomerFormView, { global: { plugins: [i18n, router, createPinia()] } })
  await flushPromises()
  await wrapper.find('input#customer-name').setValue('杭州实验小学食堂')
  await wrapper.find('input#first-contact-name').setValue('王芳')
  await wrapper.find('input#first-contact-mobile').setValue('13800138000')
  await wrapper.find('form').trigger('submit')
  await flushPromises()
  return wrapper
}

/** Element Plus shows an item's message 100 ms after it turns red. */
async function errorBeside(wrapper: VueWrapper, input: string): Promise<string> {
  const item = () => wrapper.find(input).element.closest('.el-form-item')
  await vi.waitFor(() => expect(item()?.querySelector('.el-form-item__error')).not.toBeNull())
  return item()!.querySelector('.el-form-item__error')!.textContent!.trim()
}

describe('the console create form and the API refusals', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('puts each 422 error beside its field and lists the ones the form has no input for', async () => {
    const posted = gateway(() =>
      refusal([
        { field: 'name', message: '最多200个字符' },
        { field: 'contacts[0].mobile', message: '手机号格式不正确' },
        { field: 'contacts[0].email', message: '邮箱格式不正确' },
      ]),
    )
    const wrapper = await mountCreate()
    expect(posted).toEqual([{ language: 'zh-CN' }])
    expect(await errorBeside(wrapper, 'input#customer-name')).toBe('最多200个字符')
    expect(await errorBeside(wrapper, 'input#first-contact-mobile')).toBe('手机号格式不正确')
    expect(wrapper.find('[data-test="form-error"]').text()).toContain('请先修正标红的字段')
    expect(wrapper.find('[data-test="form-other-errors"]').text()).toBe('contacts[0].email：邮箱格式不正确')
  })

  it('shows a duplicate mobile beside the contact mobile, with the existing customer', async () => {
    gateway(() =>
      problem(409, 'already_exists', '手机号已被客户“杭州食堂”使用（负责人：王磊）', {
        field: 'mobile',
        existing_id: 'c-42',
        existing_owner: { id: 'u-1', name: '王磊' },
      }),
    )
    const wrapper = await mountCreate()
    expect(await errorBeside(wrapper, 'input#first-contact-mobile')).toBe('手机号已被客户“杭州食堂”使用（负责人：王磊）')
    expect(wrapper.find('[data-test="form-other-errors"]').exists()).toBe(false)
    expect(wrapper.text()).toContain('客户已存在')
  })
})
