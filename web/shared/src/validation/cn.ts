// The same rules as libs/crmkit/src/crmkit/cn.py: mainland mobiles and unified social credit
// codes (GB 32100-2015), so a form refuses before sending what the API would refuse.

// GB 32100-2015 drops I, O, Z, S and V so codes survive being read aloud or handwritten.
export const CREDIT_CODE_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const CREDIT_CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
const CREDIT_CODE_LENGTH = 18
const MOBILE = /^1[3-9][0-9]{9}$/
const MOBILE_SEPARATORS = /[\s\-()]/g

export type CreditCodeProblem = 'creditCodeLength' | 'creditCodeCharset' | 'creditCodeRegion' | 'creditCodeCheck'

// Chinese IMEs often emit full-width digits and letters; NFKC folds them to ASCII.
const nfkc = (value: string) => value.normalize('NFKC')

/** The mobile number in `value` as 11 digits (accepting +86, 0086, 86 and separators), or null. */
export function parseMobile(value: string): string | null {
  let digits = nfkc(value).replace(MOBILE_SEPARATORS, '')
  if (digits.startsWith('+86')) digits = digits.slice(3)
  else if (digits.startsWith('0086')) digits = digits.slice(4)
  else if (digits.length === 13 && digits.startsWith('86')) digits = digits.slice(2)
  return MOBILE.test(digits) ? digits : null
}

/** The GB 32100 check character of a normalised 17-character body. */
export function creditCodeCheckChar(body17: string): string {
  let total = 0
  for (let i = 0; i < 17; i += 1) {
    total += CREDIT_CODE_CHARSET.indexOf(body17[i] ?? '') * (CREDIT_CODE_WEIGHTS[i] ?? 0)
  }
  return CREDIT_CODE_CHARSET[(31 - (total % 31)) % 31] ?? ''
}

/** Without whitespace, NFKC-folded and upper-cased, as the API stores it. */
export function cleanCreditCode(value: string): string {
  return nfkc(value).replace(/\s+/g, '').toUpperCase()
}

/** What is wrong with a credit code, or null when it is valid. Like the API, the embedded
 * organisation-code check digit (GB 11714) is not enforced. */
export function creditCodeProblem(value: string): CreditCodeProblem | null {
  const code = cleanCreditCode(value)
  if (code.length !== CREDIT_CODE_LENGTH) return 'creditCodeLength'
  if ([...code].some((ch) => !CREDIT_CODE_CHARSET.includes(ch))) return 'creditCodeCharset'
  if (!/^[0-9]{6}$/.test(code.slice(2, 8))) return 'creditCodeRegion'
  if (creditCodeCheckChar(code.slice(0, 17)) !== code[17]) return 'creditCodeCheck'
  return null
}

/** Complete a valid 17-character body with its check character (tests and demo data). */
export function makeCreditCode(body17: string): string {
  const body = cleanCreditCode(body17)
  return body + creditCodeCheckChar(body)
}
