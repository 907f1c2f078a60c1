import { describe, expect, it } from 'vitest'
import { LIMITS } from '../api/limits'
import {
  checkAll,
  CONTACT_CHECKS,
  contractOrder,
  CUSTOMER_CHECKS,
  customFieldProblem,
  declared,
  limitOf,
  required,
} from './rules'

describe('form checks with the limits the gateway declares', () => {
  it('takes lengths and patterns from the OpenAPI document', () => {
    expect(limitOf('CustomerIn', 'name')).toEqual({ minLength: 1, maxLength: 200 })
    expect(LIMITS.ContactIn.wechat_id.pattern).toBe('^([A-Za-z][-_A-Za-z0-9]{5,19})?$')
    expect(limitOf('CustomerIn', 'no_such_field')).toEqual({})
  })

  it('refuses an empty or too long customer name and a wrong credit code', () => {
    expect(checkAll({ name: '' }, CUSTOMER_CHECKS).name).toEqual({ key: 'validation.required' })
    expect(checkAll({ name: '食'.repeat(201) }, CUSTOMER_CHECKS).name).toEqual({
      key: 'validation.maxLength',
      values: { max: 200 },
    })
    expect(checkAll({ name: '北京实验小学食堂', credit_code: '911101087226946565' }, CUSTOMER_CHECKS)).toEqual({
      credit_code: { key: 'validation.creditCodeCheck' },
    })
    expect(checkAll({ name: '北京实验小学食堂', tags: Array(21).fill('x') }, CUSTOMER_CHECKS).tags).toEqual({
      key: 'validation.maxItems',
      values: { max: 20 },
    })
  })

  it('checks a contact as the customer service does', () => {
    const ok = { name: '王芳', mobile: '+86 139 1234 5678', wechat_id: 'wangfang_88', email: 'a@b.cn' }
    expect(checkAll(ok, CONTACT_CHECKS)).toEqual({})
    const bad = checkAll({ name: '王芳', mobile: '1234', wechat_id: '8wang', email: 'not-mail' }, CONTACT_CHECKS)
    expect(bad).toEqual({
      mobile: { key: 'validation.mobile' },
      wechat_id: { key: 'validation.wechat' },
      email: { key: 'validation.email' },
    })
  })

  it('lets optional fields stay empty', () => {
    expect(declared('ContactIn', 'wechat_id')('')).toBeNull()
    expect(required('  ')).toEqual({ key: 'validation.required' })
    expect(required(0)).toBeNull()
  })

  it('refuses a contract that ends before it starts', () => {
    expect(contractOrder('2026-12-01', '2026-11-30')).toEqual({ key: 'validation.contractOrder' })
    expect(contractOrder('2026-12-01', '2026-12-01')).toBeNull()
    expect(contractOrder(null, '2026-12-01')).toBeNull()
  })

  it('checks custom field values by the definition', () => {
    expect(customFieldProblem({ type: 'choice', required: true, options: ['月结', '现结'] }, '')).toEqual({
      key: 'validation.required',
    })
    expect(customFieldProblem({ type: 'choice', options: ['月结'] }, '月结')).toBeNull()
    expect(customFieldProblem({ type: 'choice', options: ['月结'] }, '周结')).toEqual({ key: 'validation.pattern' })
    expect(customFieldProblem({ type: 'number' }, 620)).toBeNull()
    expect(customFieldProblem({ type: 'number' }, '620')).toEqual({ key: 'validation.number' })
    expect(customFieldProblem({ type: 'date' }, '2026-12-02')).toBeNull()
    expect(customFieldProblem({ type: 'boolean' }, false)).toBeNull()
  })
})
