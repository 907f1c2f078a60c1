import { describe, expect, it } from 'vitest'
import { ApiError, errorFromResponse } from './problem'

describe('problem+json as ApiError', () => {
  it('reads a duplicate with the existing customer and its owner', () => {
    const error = errorFromResponse(409, {
      type: 'https://keyuan.dev/problems/already_exists',
      title: '冲突',
      status: 409,
      code: 'already_exists',
      detail: '手机号已被客户“杭州食堂”使用（负责人：王磊）',
      field: 'contacts[0].mobile',
      existing_id: 'c-1',
      existing_owner: { id: 'u-1', name: '王磊' },
    })
    expect(error).toBeInstanceOf(ApiError)
    expect(error.code).toBe('already_exists')
    expect(error.field).toBe('contacts[0].mobile')
    expect(error.existing).toEqual({ id: 'c-1', ownerId: 'u-1', ownerName: '王磊' })
  })

  it('keeps every field error of a 422 and the Retry-After of a 429', () => {
    const body = {
      type: 't',
      title: 'x',
      status: 422,
      code: 'validation_failed',
      detail: 'name: too long',
      field: 'name',
      errors: [{ field: 'name', message: 'too long', type: 'string_too_long' }],
    }
    expect(errorFromResponse(422, body).fieldErrors).toEqual([{ field: 'name', message: 'too long' }])
    const locked = errorFromResponse(
      429,
      { ...body, status: 429, code: 'account_locked' },
      new Headers({ 'Retry-After': '900' }),
    )
    expect(locked.retryAfterSeconds).toBe(900)
  })

  it('turns an answer without a problem body into a retryable server error', () => {
    const error = errorFromResponse(502, '<html>bad gateway</html>')
    expect(error.code).toBe('server_error')
    expect(error.retryable).toBe(true)
  })
})
