import { flushPromises, mount } from '@vue/test-utils'
import { ROLES, type Role } from '@keyuan/shared'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { auth, i18n } from '../app'
import { router } from '../router'
import ConsoleLayout from './ConsoleLayout.vue'

const signedInAs = (role: Role) => {
  auth.me.value = { id: 'u1', role, display_name: '张伟', org_unit: { name: '西湖门店' } } as never
}

describe('the ownership settings (公海与保有量) are for admins and bosses', () => {
  afterEach(() => vi.restoreAllMocks())

  it.each(ROLES)('shows %s the menu item only if they may set pools and caps', async (role) => {
    signedInAs(role)
    const wrapper = mount(ConsoleLayout, {
      global: { plugins: [i18n, router, createPinia()], stubs: { RouterView: true, NotificationBell: true } },
    })
    await flushPromises()
    const item = wrapper.find('[data-test="menu-pool-settings"]')
    expect(item.exists()).toBe(role === 'admin' || role === 'boss')
    if (item.exists()) expect(item.text()).toBe('公海与保有量')
  })

  it('sends a supervisor who types its address to the workbench, and lets a boss in', async () => {
    vi.spyOn(auth, 'ensureSignedIn').mockResolvedValue(true)
    signedInAs('supervisor')
    await router.push('/pool-settings/caps')
    expect(router.currentRoute.value.name).toBe('workbench')
    signedInAs('boss')
    await router.push('/pool-settings/caps')
    expect(router.currentRoute.value.name).toBe('pool-settings')
    expect(router.currentRoute.value.params.section).toBe('caps')
  })
})

describe('the customer profile settings (档案设置) are for admins and bosses', () => {
  afterEach(() => vi.restoreAllMocks())

  it.each(ROLES)('shows %s the menu item only if they may set them', async (role) => {
    signedInAs(role)
    const wrapper = mount(ConsoleLayout, {
      global: { plugins: [i18n, router, createPinia()], stubs: { RouterView: true, NotificationBell: true } },
    })
    await flushPromises()
    const item = wrapper.find('[data-test="menu-profile-settings"]')
    expect(item.exists()).toBe(role === 'admin' || role === 'boss')
    if (item.exists()) expect(item.text()).toBe('档案设置')
  })

  it('sends a supervisor who types its address to the workbench, and lets an admin in', async () => {
    vi.spyOn(auth, 'ensureSignedIn').mockResolvedValue(true)
    signedInAs('supervisor')
    await router.push('/profile-settings/revisits')
    expect(router.currentRoute.value.name).toBe('workbench')
    signedInAs('admin')
    await router.push('/profile-settings/revisits')
    expect(router.currentRoute.value.name).toBe('profile-settings')
    expect(router.currentRoute.value.params.section).toBe('revisits')
  })
})
