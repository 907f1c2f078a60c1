import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/problem'
import { apiFieldErrors, placeFieldErrors } from './apiFieldErrors'

describe('apiFieldErrors', () => {
  it('puts each 422 error and a domain refusal beside its field', () => {
    const validation = new ApiError({
      status: 422,
      code: 'validation_failed',
      detail: 'name: too long',
      field: 'name',
      fieldErrors: [
        { field: 'name', message: 'String should have at most 200 characters' },
        { field: 'contacts[0].wechat_id', message: 'String should match pattern' },
      ],
    })
    expect(apiFieldErrors(validation)).toEqual({
      name: 'String should have at most 200 characters',
      'contacts[0].wechat_id': 'String should match pattern',
    })
    const domain = new ApiError({ status: 400, code: 'invalid_argument', detail: 'credit_code: 统一社会信用代码校验位错误', field: 'credit_code' })
    expect(apiFieldErrors(domain)).toEqual({ credit_code: '统一社会信用代码校验位错误' })
    expect(apiFieldErrors(new Error('x'))).toEqual({})
  })
})

describe('placeFieldErrors', () => {
  const refusal = (errors: { field: string; message: string }[], field?: string, detail = '') =>
    new ApiError({ status: 422, code: 'validation_failed', detail, field, fieldErrors: errors })

  it("puts each message beside the field's own input, else beside the nearest enclosing one", () => {
    const error = refusal([
      { field: 'name', message: '最多200个字符' },
      { field: 'tags[2]', message: '最多20个字符' },
      { field: 'addresses[1].detail', message: '最多200个字符' },
    ])
    expect(placeFieldErrors(error, ['name', 'tags', 'addresses[1].detail', 'addresses[1].city'])).toEqual({
      beside: { name: '最多200个字符', tags: '最多20个字符', 'addresses[1].detail': '最多200个字符' },
      elsewhere: [],
    })
  })

  it('lists the refusals of fields the form has no input for, so none is lost', () => {
    const error = refusal([
      { field: 'contacts[0].email', message: '邮箱格式不正确' },
      { field: 'contacts[0].mobile', message: '手机号码格式不正确' },
    ])
    expect(placeFieldErrors(error, ['name', 'contacts[0].mobile'])).toEqual({
      beside: { 'contacts[0].mobile': '手机号码格式不正确' },
      elsewhere: [{ field: 'contacts[0].email', message: '邮箱格式不正确' }],
    })
  })

  it('follows an alias: a duplicate mobile reported as "mobile" belongs to the new contact', () => {
    const duplicate = new ApiError({
      status: 409,
      code: 'already_exists',
      detail: '手机号已被客户“杭州食堂”使用',
      field: 'mobile',
    })
    expect(placeFieldErrors(duplicate, ['contacts[0].mobile'], { mobile: 'contacts[0].mobile' }).beside).toEqual({
      'contacts[0].mobile': '手机号已被客户“杭州食堂”使用',
    })
    expect(placeFieldErrors(new Error('offline'), ['name'])).toEqual({ beside: {}, elsewhere: [] })
  })
})
