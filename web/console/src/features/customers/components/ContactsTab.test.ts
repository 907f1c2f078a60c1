import { flushPromises, mount } from '@vue/test-utils'
import type { Contact } from '@keyuan/shared'
import { describe, expect, it } from 'vitest'
import { i18n } from '../../../app'
import ContactsTab from './ContactsTab.vue'

const contact = (over: Partial<Contact>): Contact => ({
  id: 'k1',
  customer_id: 'c1',
  name: '王芳',
  mobile: '13912345678',
  wechat_id: 'wangfang_01',
  email: 'wf@example.com',
  decision_role: 'purchaser',
  title: '采购经理',
  primary: true,
  created_at: '2026-12-02T10:00:00+08:00',
  updated_at: '2026-12-02T10:00:00+08:00',
  ...over,
})

async function mountTab(contacts: Contact[]) {
  const tab = mount(ContactsTab, { props: { customerId: 'c1', contacts, canEdit: false }, global: { plugins: [i18n] } })
  await flushPromises() // the table lays its rows out after mounting
  return tab
}

describe('ContactsTab', () => {
  it('shows a full mobile as a number to call and the WeChat id', async () => {
    const tab = await mountTab([contact({})])
    expect(tab.find('a[href="tel:13912345678"]').text()).toBe('139 1234 5678')
    expect(tab.text()).toContain('wangfang_01')
    expect(tab.find('[data-test="contact-wechat-hidden"]').exists()).toBe(false)
  })

  it('shows what a service or finance user gets: the mobile masked, not dialable, and no WeChat id', async () => {
    const tab = await mountTab([contact({ mobile: '139****5678', wechat_id: null, email: 'w***@example.com' })])
    expect(tab.find('a[href^="tel:"]').exists()).toBe(false)
    expect(tab.text()).toContain('139****5678')
    expect(tab.find('[data-test="contact-wechat-hidden"]').text()).toBe('按您的角色不可见')
  })

  it('shows a dash, not "hidden", for a contact without a WeChat id', async () => {
    const tab = await mountTab([contact({ wechat_id: '' })])
    expect(tab.text()).toContain('王芳')
    expect(tab.find('[data-test="contact-wechat-hidden"]').exists()).toBe(false)
  })
})
