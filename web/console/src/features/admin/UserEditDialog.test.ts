import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import type { User } from '@keyuan/shared'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { json, refusal } from '@keyuan/shared/testing/answers.ts'
import { auth, i18n } from '../../app'
import UserEditDialog from './UserEditDialog.vue'

const rep: User = {
  id: 'u-2',
  username: 'rep.a',
  display_name: '张伟',
  role: 'sales',
  org_unit_id: 'o-1',
  org_unit_name: '西湖门店',
  active: true,
}

/** The gateway's PATCH /users/{id}: records each request and answers with `answer`. */
function gateway(answer: (body: Record<string, unknown>) => Response) {
  const sent: { path: string; body: Record<string, unknown>; language: string | null }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const body = (await request.json()) as Record<string, unknown>
      sent.push({ path: `${request.method} ${new URL(request.url).pathname}`, body, language: request.headers.get('Accept-Language') })
      return answer(body)
    }),
  )
  return sent
}

async function mountDialog(user: User, signedInAs = 'u-1') {
  auth.me.value = { id: signedInAs, role: 'admin' } as never
  const wrapper = mount(UserEditDialog, { props: { user, open: true }, global: { plugins: [i18n] } })
  await flushPromises() // Element Plus opens the dialog after mounting
  return wrapper
}

/** The message Element Plus shows under the form item that holds `input` (it shows it 100 ms
 * after the item turns red: wait for it with vi.waitFor). */
const errorBeside = (wrapper: VueWrapper, input: string) =>
  wrapper.find(input).element.closest('.el-form-item')?.querySelector('.el-form-item__error')?.textContent?.trim() ?? ''

describe('UserEditDialog', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    i18n.global.locale.value = 'zh-CN'
  })

  it("changes a user's name and role with PATCH, sending only what changed", async () => {
    const sent = gateway((body) => json(200, { ...rep, ...body }))
    const wrapper = await mountDialog(rep)
    await wrapper.find('input#user-edit-display-name').setValue('张伟（西湖）')
    wrapper.findComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', 'supervisor')
    await wrapper.find('[data-test="user-edit-save"]').trigger('click')
    await flushPromises()
    expect(sent).toEqual([
      { path: 'PATCH /api/v1/users/u-2', body: { display_name: '张伟（西湖）', role: 'supervisor' }, language: 'zh-CN' },
    ])
    expect(wrapper.emitted('saved')?.[0]?.[0]).toMatchObject({ role: 'supervisor' })
    expect(wrapper.emitted('update:open')?.[0]).toEqual([false])
  })

  it('does not offer an admin their own role, and sends only the name', async () => {
    const me = { ...rep, id: 'u-1', role: 'admin' as const }
    const sent = gateway((body) => json(200, { ...me, ...body }))
    const wrapper = await mountDialog(me, 'u-1')
    expect(wrapper.findComponent({ name: 'ElSelect' }).props('disabled')).toBe(true)
    expect(wrapper.find('[data-test="user-edit-own-role"]').text()).toBe('不能修改自己的角色')
    await wrapper.find('input#user-edit-display-name').setValue('系统管理员')
    await wrapper.find('[data-test="user-edit-save"]').trigger('click')
    await flushPromises()
    expect(sent.map((s) => s.body)).toEqual([{ display_name: '系统管理员' }])
  })

  it("shows the API's field errors beside their fields, in the UI's language", async () => {
    i18n.global.locale.value = 'en'
    const sent = gateway(() => refusal([{ field: 'display_name', message: 'String should have at most 50 characters' }]))
    const wrapper = await mountDialog(rep)
    await wrapper.find('input#user-edit-display-name').setValue('王'.repeat(12))
    await wrapper.find('[data-test="user-edit-save"]').trigger('click')
    await flushPromises()
    expect(sent[0]!.language).toBe('en')
    await vi.waitFor(() => expect(errorBeside(wrapper, 'input#user-edit-display-name')).toBe('String should have at most 50 characters'))
    expect(wrapper.find('[data-test="user-edit-error"]').exists()).toBe(false)
    expect(wrapper.emitted('saved')).toBeUndefined()
  })

  it('refuses an empty name before sending', async () => {
    const sent = gateway(() => json(200, rep))
    const wrapper = await mountDialog(rep)
    await wrapper.find('input#user-edit-display-name').setValue('  ')
    await wrapper.find('[data-test="user-edit-save"]').trigger('click')
    await flushPromises()
    expect(sent).toEqual([])
    await vi.waitFor(() => expect(errorBeside(wrapper, 'input#user-edit-display-name')).toBe('必填'))
  })
})
