import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/problem'
import { apiFieldErrors, nestedErrors } from './apiFieldErrors'

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
    expect(nestedErrors(apiFieldErrors(validation), 'contacts[0].')).toEqual({ wechat_id: 'String should match pattern' })
    expect(apiFieldErrors(new Error('x'))).toEqual({})
  })
})
