import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import type { Collaborator, User } from '@keyuan/shared'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../../app'
import { checkCollaborator, collaboratorCandidates, expiryBody, expiryDay } from '../collaborators'
import CollaboratorDialog from './CollaboratorDialog.vue'

const user = (id: string, role: User['role'], active = true): User =>
  ({ id, username: id, display_name: `用户${id}`, role, active, org_unit_id: 'o1', org_unit_name: '西湖门店' }) as User
const saved: Collaborator = {
  user_id: 'u2',
  user_name: '用户u2',
  access: 'read',
  expires_at: '2027-03-31T23:59:59+08:00',
  added_at: '2026-12-02T10:00:00+08:00',
  added_by: 'u1',
  added_by_name: '张伟',
}

function gateway(answer: () => Response) {
  const sent: { call: string; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      sent.push({ call: `${request.method} ${new URL(request.url).pathname}`, body: await request.json() })
      return answer()
    }),
  )
  return sent
}

async function open(): Promise<VueWrapper> {
  const wrapper = mount(CollaboratorDialog, {
    props: { open: true, customerId: 'c1', editing: null, candidates: [user('u2', 'sales')] },
    global: { plugins: [i18n] },
  })
  await flushPromises()
  return wrapper
}

const save = async (wrapper: VueWrapper) => {
  await wrapper.find('[data-test="collaborator-save"]').trigger('click')
  await flushPromises()
}

describe('CollaboratorDialog', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'zh-CN'
  })
  afterEach(() => vi.unstubAllGlobals())

  it('adds a read-only colleague until the end of the chosen day, China time', async () => {
    const sent = gateway(() => json(200, { items: [saved] }))
    const wrapper = await open()
    wrapper.findComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', 'u2')
    wrapper.findComponent({ name: 'ElDatePicker' }).vm.$emit('update:modelValue', '2099-03-31')
    await save(wrapper)
    expect(sent).toEqual([
      { call: 'PUT /api/v1/customers/c1/collaborators/u2', body: { access: 'read', expires_at: '2099-03-31T23:59:59+08:00' } },
    ])
    expect(wrapper.emitted('saved')).toHaveLength(1)
  })

  it('asks for a colleague before sending anything', async () => {
    const sent = gateway(() => json(200, saved))
    const wrapper = await open()
    await save(wrapper)
    expect(sent).toEqual([])
    await vi.waitFor(() => expect(wrapper.text()).toContain('请选择一位同事'))
  })

  it('says who may manage collaborators when the API answers 403', async () => {
    gateway(() => problem(403, 'permission_denied', 'not yours'))
    const wrapper = await open()
    wrapper.findComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', 'u2')
    await save(wrapper)
    expect(wrapper.find('[data-test="collaborator-failure"]').text()).toContain('只有客户的负责人')
    expect(wrapper.emitted('saved')).toBeUndefined()
  })
})

describe('collaborator rules', () => {
  it('offers active sales, supervisors and service users, never the owner', () => {
    const users = [user('owner', 'sales'), user('a', 'sales'), user('b', 'supervisor'), user('c', 'service'), user('d', 'finance'), user('e', 'sales', false)]
    expect(collaboratorCandidates(users, 'owner').map((u) => u.id)).toEqual(['a', 'b', 'c'])
  })

  it('turns the day into an ISO time with the +08:00 offset and back', () => {
    expect(expiryBody('')).toBeNull()
    expect(expiryBody('2027-03-31')).toBe('2027-03-31T23:59:59+08:00')
    expect(expiryDay('2027-03-31T15:59:59Z')).toBe('2027-03-31')
  })

  it('refuses an expiry before today', () => {
    expect(checkCollaborator({ user_id: 'a', access: 'read', expires_day: '2026-12-01' }, '2026-12-02')).toEqual({
      expires_at: { key: 'collaborators.expiryPast' },
    })
  })
})
