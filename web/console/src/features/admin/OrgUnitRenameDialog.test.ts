import { flushPromises, mount } from '@vue/test-utils'
import type { OrgUnit } from '@keyuan/shared'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { json, refusal } from '@keyuan/shared/testing/answers.ts'
import { i18n } from '../../app'
import OrgUnitRenameDialog from './OrgUnitRenameDialog.vue'

const shop: OrgUnit = { id: 'o-3', name: '西湖门店', kind: 'shop', parent_id: 'o-2', path: 'o-1/o-2/o-3/' }

function gateway(answer: (body: Record<string, unknown>) => Response) {
  const sent: { path: string; body: Record<string, unknown> }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const body = (await request.json()) as Record<string, unknown>
      sent.push({ path: `${request.method} ${new URL(request.url).pathname}`, body })
      return answer(body)
    }),
  )
  return sent
}

async function mountDialog() {
  const wrapper = mount(OrgUnitRenameDialog, { props: { unit: shop, open: true }, global: { plugins: [i18n] } })
  await flushPromises() // Element Plus opens the dialog after mounting
  return wrapper
}

describe('OrgUnitRenameDialog', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('renames the unit with PATCH and hands back the renamed unit', async () => {
    const sent = gateway((body) => json(200, { ...shop, ...body }))
    const wrapper = await mountDialog()
    expect((wrapper.find('input#org-rename-name').element as HTMLInputElement).value).toBe('西湖门店')
    await wrapper.find('input#org-rename-name').setValue(' 西湖旗舰店 ')
    await wrapper.find('[data-test="org-rename-save"]').trigger('click')
    await flushPromises()
    expect(sent).toEqual([{ path: 'PATCH /api/v1/org-units/o-3', body: { name: '西湖旗舰店' } }])
    expect(wrapper.emitted('saved')?.[0]?.[0]).toMatchObject({ id: 'o-3', name: '西湖旗舰店' })
  })

  it("shows the API's refusal of the name beside it, and a refusal of anything else above the form", async () => {
    const sent = gateway(() =>
      refusal([
        { field: 'name', message: '最多100个字符' },
        { field: 'org_unit_id', message: '格式不正确' },
      ]),
    )
    const wrapper = await mountDialog()
    await wrapper.find('input#org-rename-name').setValue('西湖区文三路旗舰店')
    await wrapper.find('[data-test="org-rename-save"]').trigger('click')
    await flushPromises()
    expect(sent).toHaveLength(1)
    const item = wrapper.find('input#org-rename-name').element.closest('.el-form-item')!
    // Element Plus shows the message 100 ms after the item turns red.
    await vi.waitFor(() => expect(item.querySelector('.el-form-item__error')?.textContent?.trim()).toBe('最多100个字符'))
    expect(wrapper.text()).toContain('org_unit_id：格式不正确')
    expect(wrapper.emitted('saved')).toBeUndefined()
  })

  it('closes without a call when the name did not change', async () => {
    const sent = gateway(() => json(200, shop))
    const wrapper = await mountDialog()
    await wrapper.find('[data-test="org-rename-save"]').trigger('click')
    await flushPromises()
    expect(sent).toEqual([])
    expect(wrapper.emitted('update:open')?.[0]).toEqual([false])
  })
})
