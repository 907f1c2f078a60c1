import { flushPromises, mount } from '@vue/test-utils'
import type { Customer } from '@keyuan/shared'
import { json } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../../app'
import VisitsTab from './VisitsTab.vue'

const customer = { id: 'c1', version: 2, latitude: 30.274, longitude: 120.155 } as unknown as Customer
const visit = {
  id: 'f1',
  customer_id: 'c1',
  kind: 'visit',
  occurred_at: '2026-12-02T06:30:00Z',
  contact_ids: [],
  content: '上门拜访，试吃新品',
  outcome: '',
  next_follow_up_date: null,
  author_id: 'u1',
  author_name: '张伟',
  corrects_id: null,
  created_at: '2026-12-02T14:30:00+08:00',
  updated_at: '2026-12-02T14:30:00+08:00',
  editable_until: '2026-12-03T14:30:00+08:00',
  check_in: { latitude: 30.2755, longitude: 120.1571, accuracy_m: 15, address: '西湖区文三路 1 号', checked_in_at: '2026-12-02T14:31:00+08:00', distance_m: 264.2 },
  photos: [
    { attachment_id: 'p1', thumbnail_url: '/api/v1/signed/attachments/p1/thumbnail?old', content_url: '/c1', signed_until: '2026-12-02T14:35:00+08:00' },
  ],
}

describe('VisitsTab', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('asks for visits only and shows each with the check-in, its plot and the photos', async () => {
    const signed: string[] = []
    const kinds: (string | null)[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url)
        const path = url.pathname
        if (path.endsWith('/signed-urls')) {
          signed.push(path)
          return json(200, { content_url: '/full', thumbnail_url: '/api/v1/signed/attachments/p1/thumbnail?new', expires_at: '2026-12-02T15:00:00+08:00' })
        }
        kinds.push(url.searchParams.get('kind'))
        return json(200, { items: [visit], next_page_token: null })
      }),
    )
    const tab = mount(VisitsTab, { props: { customer, canEdit: true }, global: { plugins: [i18n] } })
    await flushPromises()
    expect(kinds).toEqual(['visit'])
    expect(tab.findAll('[data-test="visit-entry"]')).toHaveLength(1)
    expect(tab.find('[data-test="visit-check-in"]').text()).toContain('西湖区文三路 1 号')
    expect(tab.find('[data-test="visit-check-in"]').text()).toContain('264 m')
    expect(tab.find('[data-test="check-in-distance"]').text()).toBe('264 m')
    expect(tab.find('[data-test="check-in-scale"]').text()).toMatch(/\d+ m/)
    const thumb = tab.find('[data-test="visit-photo-thumb"]')
    expect(thumb.attributes('src')).toContain('?old')
    // A lapsed link renews once through POST /attachments/{id}/signed-urls.
    await thumb.trigger('error')
    await flushPromises()
    expect(signed).toEqual(['/api/v1/attachments/p1/signed-urls'])
    expect(tab.find('[data-test="visit-photo-thumb"]').attributes('src')).toContain('?new')
    await tab.find('[data-test="visit-photo-thumb"]').trigger('error')
    await flushPromises()
    expect(signed).toHaveLength(1)
  })

  it('shows a check-in without a location as such, with no plot and no distance', async () => {
    const unlocated = { ...visit, check_in: { ...visit.check_in, latitude: null, longitude: null, accuracy_m: 0, distance_m: null, no_location: true } }
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { items: [unlocated], next_page_token: null })))
    const tab = mount(VisitsTab, { props: { customer, canEdit: true }, global: { plugins: [i18n] } })
    await flushPromises()
    expect(tab.find('[data-test="visit-no-location"]').text()).toContain('未定位')
    expect(tab.find('[data-test="check-in-distance"]').exists()).toBe(false)
    expect(tab.find('[data-test="visit-check-in"]').text()).toContain('西湖区文三路 1 号')
  })
})
