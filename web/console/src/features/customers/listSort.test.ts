import { describe, expect, it } from 'vitest'
import { sortOf, sortOrders, tableSortOf } from './listSort'

describe('the customer table sorts on the server', () => {
  it("turns a header's order into the API's sort", () => {
    expect(sortOf({ prop: 'name', order: 'ascending' })).toBe('name')
    expect(sortOf({ prop: 'name', order: 'descending' })).toBe('-name')
    expect(sortOf({ prop: 'created_at', order: 'ascending' })).toBe('created_at')
    expect(sortOf({ prop: 'updated_at', order: 'descending' })).toBe('-updated_at')
  })

  it("falls back to the API's default for no order or a column the server cannot sort by", () => {
    expect(sortOf({ prop: 'name', order: null })).toBeUndefined()
    expect(sortOf({ prop: 'owner_name', order: 'ascending' })).toBeUndefined()
    expect(sortOf({ prop: null, order: 'ascending' })).toBeUndefined()
  })

  it("shows the API's default as newest created first, and any chosen sort on its column", () => {
    expect(tableSortOf(undefined)).toEqual({ prop: 'created_at', order: 'descending' })
    expect(tableSortOf('name')).toEqual({ prop: 'name', order: 'ascending' })
    expect(tableSortOf('-updated_at')).toEqual({ prop: 'updated_at', order: 'descending' })
  })

  it('sorts names A→Z and times newest first on the first click, and never to no order', () => {
    expect(sortOrders('name')).toEqual(['ascending', 'descending'])
    expect(sortOrders('updated_at')).toEqual(['descending', 'ascending'])
  })
})
