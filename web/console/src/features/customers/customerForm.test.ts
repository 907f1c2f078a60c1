import type { Customer } from '@keyuan/shared'
import { describe, expect, it } from 'vitest'
import { checkDraft, createBody, draftOf, emptyDraft, patchBody } from './customerForm'

const saved: Customer = {
  id: 'c1',
  name: '杭州实验小学食堂',
  short_name: '杭实小',
  type: '学校食堂',
  credit_code: null,
  addresses: [{ label: '送货', province: '浙江', city: '杭州', district: '西湖', detail: '文三路 1 号' }],
  contacts: [],
  contract_start: '2026-01-01',
  contract_end: null,
  tags: ['重点'],
  custom_fields: { settlement: '月结' },
  lifecycle_stage: 'signed',
  owner_id: 'u1',
  owner_name: '王磊',
  org_unit_id: 'o1',
  owned_since: '2026-12-01T10:00:00+08:00',
  pool_id: null,
  tier: 'normal',
  product_lines: [],
  source: null,
  first_visit_due: null,
  last_interaction_at: null,
  next_follow_up_date: null,
  archived: false,
  version: 3,
  created_at: '2026-12-01T10:00:00+08:00',
  updated_at: '2026-12-01T10:00:00+08:00',
  preferences: { categories: [], specifications: [], quality_grade: '', brands: [], delivery_windows: [], delivery_notes: '' },
  special_requirements: [],
  alerts: [],
  tier_label: '一般',
  tier_source: null,
  automatic_tier: null,
  grade: null,
  grade_label: '',
  grade_source: null,
  automatic_grade: null,
  parent_customer_id: null,
}

describe('customer form', () => {
  it('refuses before sending what the API would refuse, under the API field names', () => {
    const draft = { ...emptyDraft(), credit_code: '911101087226946565', contract_start: '2026-02-01', contract_end: '2026-01-01' }
    draft.contact.name = '王芳'
    draft.contact.mobile = '1380013800'
    draft.addresses.push({ label: '', province: '', city: '', district: '', detail: 'x'.repeat(201) })
    const found = checkDraft(draft, [{ key: 'settlement', label: '结算方式', type: 'choice', options: ['月结'], required: true }], {
      creating: true,
    })
    expect(Object.keys(found).sort()).toEqual([
      'addresses[0].detail',
      'contacts[0].mobile',
      'contract_end',
      'credit_code',
      'custom_fields.settlement',
      'name',
    ])
  })

  it('creates with a request id, the first contact as primary and no empty custom fields', () => {
    const draft = { ...emptyDraft(), name: ' 杭州食堂 ', custom_fields: { settlement: '月结', window: '' }, owner_id: 'u2' }
    draft.contact.name = '王芳'
    const body = createBody(draft, 'req-1', { chooseOwner: false })
    expect(body).toMatchObject({ name: '杭州食堂', request_id: 'req-1', custom_fields: { settlement: '月结' } })
    expect(body.contacts).toEqual([{ name: '王芳', mobile: '', wechat_id: '', title: '', decision_role: null, primary: true }])
    expect(body.owner_id).toBeUndefined()
    expect(createBody(draft, 'req-1', { chooseOwner: true }).owner_id).toBe('u2')
  })

  it('sends only what changed, with the version it read', () => {
    const draft = draftOf(saved)
    expect(patchBody(saved, draft)).toEqual({ expected_version: 3 })
    draft.lifecycle_stage = 'dormant'
    draft.tags = ['重点', '学校']
    expect(patchBody(saved, draft)).toEqual({ expected_version: 3, lifecycle_stage: 'dormant', tags: ['重点', '学校'] })
  })

  it('edits a customer a pool holds (no owner) without sending an owner', () => {
    const pooled: Customer = { ...saved, owner_id: null, owner_name: '', pool_id: 'p1', owned_since: null }
    const draft = draftOf(pooled)
    expect(draft.owner_id).toBe('')
    draft.name = '杭州实验小学食堂（新校区）'
    expect(patchBody(pooled, draft)).toEqual({ expected_version: 3, name: '杭州实验小学食堂（新校区）' })
  })
})

