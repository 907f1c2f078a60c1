import { ApiError } from '@keyuan/shared'
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import LoginView from './LoginView.vue'

async function mountLogin(query = '') {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', name: 'login', component: LoginView },
      { path: '/:rest(.*)*', component: { template: '<p>page</p>' } },
    ],
  })
  await router.push(`/login${query}`)
  const wrapper = mount(LoginView, { global: { plugins: [i18n, router] }, attachTo: document.body })
  return { wrapper, router }
}

describe('LoginView', () => {
  afterEach(() => {
    vi.restoreAllMocks()
    document.body.innerHTML = ''
  })

  it('shows how long a locked account must wait', async () => {
    vi.spyOn(auth.session, 'login').mockRejectedValue(
      new ApiError({ status: 429, code: 'account_locked', detail: '账户已锁定', retryAfterSeconds: 600 }),
    )
    const { wrapper } = await mountLogin()
    await wrapper.find('input#login-username').setValue('wang.lei')
    await wrapper.find('input#login-password').setValue('wrong')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-test="login-error"]').text()).toContain('10 分钟')
  })

  it('asks for both fields before calling the API, with labelled inputs', async () => {
    const login = vi.spyOn(auth.session, 'login')
    const { wrapper } = await mountLogin()
    await wrapper.find('form').trigger('submit')
    expect(login).not.toHaveBeenCalled()
    expect(wrapper.text()).toContain('请输入用户名')
    expect(wrapper.find('label[for="login-username"]').exists()).toBe(true)
  })

  it('returns to the page the user was on after signing in again', async () => {
    vi.spyOn(auth.session, 'login').mockResolvedValue({ kind: 'signed_in' })
    vi.spyOn(auth, 'loadMe').mockResolvedValue({} as never)
    const { wrapper, router } = await mountLogin('?redirect=/customers/c1&expired=1')
    expect(wrapper.find('[data-test="login-expired"]').exists()).toBe(true)
    await wrapper.find('input#login-username').setValue('wang.lei')
    await wrapper.find('input#login-password').setValue('pw')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/customers/c1')
  })

  it('walks an admin whose company requires two-step sign-in through enrolment and shows the recovery codes once', async () => {
    const step = { mfa_required: false, mfa_enrolment_required: true, mfa_token: 'M', expires_in: 300 }
    vi.spyOn(auth.session, 'login').mockResolvedValue({ kind: 'second_step', step })
    vi.spyOn(auth.session, 'startEnrolment').mockResolvedValue({
      secret: 'JBSWY3DPEHPK3PXP',
      otpauth_uri: 'otpauth://totp/x',
      qr_code: 'data:image/svg+xml;base64,PHN2Zy8+',
    })
    const confirm = vi.spyOn(auth.session, 'confirmEnrolment').mockResolvedValue(['abcde-fghij', 'klmno-pqrst'])
    vi.spyOn(auth, 'loadMe').mockResolvedValue({} as never)
    const { wrapper, router } = await mountLogin('?redirect=/admin')
    await wrapper.find('input#login-username').setValue('boss')
    await wrapper.find('input#login-password').setValue('pw')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-test="login-mfa-secret"]').text()).toBe('JBSWY3DPEHPK3PXP')
    expect(wrapper.find('img').attributes('alt')).toBe('两步验证二维码')
    await wrapper.find('input#login-code').setValue('123456')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(confirm).toHaveBeenCalledWith('M', '123456')
    expect(wrapper.find('[data-test="login-recovery-codes"]').text()).toContain('klmno-pqrst')
    await wrapper.find('[data-test="login-recovery-codes"] button').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/admin')
  })
})
