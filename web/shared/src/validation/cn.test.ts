import { describe, expect, it } from 'vitest'
import { cleanCreditCode, creditCodeCheckChar, creditCodeProblem, makeCreditCode, parseMobile } from './cn'

// Vectors computed with libs/crmkit's cn.py (make_credit_code, parse_mobile).
describe('mainland mobiles, as crmkit.cn.parse_mobile reads them', () => {
  it.each([
    ['13800138000', '13800138000'],
    ['+86 138-0013-8000', '13800138000'],
    ['008613800138000', '13800138000'],
    ['8613800138000', '13800138000'],
    ['(138)00138000', '13800138000'],
    ['１３８００１３８０００', '13800138000'],
  ])('reads %s as %s', (input, expected) => {
    expect(parseMobile(input)).toBe(expected)
  })

  it.each(['12800138000', '1380013800', '138001380001', '23800138000', '138 0013 800a', ''])('refuses %s', (input) => {
    expect(parseMobile(input)).toBeNull()
  })
})

describe('unified social credit codes (GB 32100)', () => {
  it('computes the check character as cn.py does', () => {
    expect(makeCreditCode('91310115MA1K4LXX0')).toBe('91310115MA1K4LXX05')
    expect(makeCreditCode('12100000400000062')).toBe('121000004000000629')
    expect(makeCreditCode('92440300MA5FXXXX0')).toBe('92440300MA5FXXXX0Q')
    expect(creditCodeCheckChar('91350100M000100Y4')).toBe('3')
  })

  it('accepts valid codes, with spaces, lower case and full-width characters', () => {
    expect(creditCodeProblem('91350100M000100Y43')).toBeNull()
    expect(creditCodeProblem('9135 0100 m000 100y 43')).toBeNull()
    expect(creditCodeProblem('９１１１００００８０２１００４３３Ｂ')).toBeNull()
    expect(cleanCreditCode(' 9135 0100m000100y43 ')).toBe('91350100M000100Y43')
  })

  it('names what is wrong', () => {
    expect(creditCodeProblem('91350100M000100Y4')).toBe('creditCodeLength')
    expect(creditCodeProblem('91350100M000100I43')).toBe('creditCodeCharset')
    expect(creditCodeProblem('913A0100M000100Y43')).toBe('creditCodeRegion')
    expect(creditCodeProblem('911101087226946565')).toBe('creditCodeCheck')
  })
})
