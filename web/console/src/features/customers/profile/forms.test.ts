import { describe, expect, it } from 'vitest'
import type { Licence } from './api'
import { checkLicence, emptyLicence, licenceDraft, licencePatch } from './licenceForm'
import { checkLocation, locationBody } from './location'
import { checkManual } from './tiers'

describe('the licence form', () => {
  it('needs a kind and a number, and "valid until" not before "valid from"', () => {
    const problems = checkLicence(emptyLicence())
    expect(Object.keys(problems).sort()).toEqual(['kind', 'number'])
    expect(checkLicence({ ...emptyLicence(), kind: '食品经营许可证', number: 'JY1', valid_from: '2027-01-02', valid_until: '2027-01-01' })).toEqual({
      valid_until: { key: 'c360.untilBeforeFrom' },
    })
  })

  it('sends only what changed; emptying "valid until" sends null (长期有效)', () => {
    const before = {
      id: 'l1',
      version: 2,
      kind: '营业执照',
      number: '91330100',
      issuer: '',
      valid_from: '2020-01-01',
      valid_until: '2030-01-01',
      notes: '',
      attachment_id: null,
    } as unknown as Licence
    const draft = { ...licenceDraft(before), valid_until: null, attachment_id: 'att1' }
    expect(licencePatch(before, draft)).toEqual({ expected_version: 2, valid_until: null, attachment_id: 'att1' })
  })
})

describe('the location form', () => {
  it('takes both coordinates or neither, within range', () => {
    expect(checkLocation({ latitude: '', longitude: '' })).toEqual({})
    expect(checkLocation({ latitude: '30.27', longitude: '' })).toEqual({ longitude: { key: 'validation.required' } })
    expect(checkLocation({ latitude: '91', longitude: '120' })).toEqual({ latitude: { key: 'c360.latitudeRange' } })
    expect(checkLocation({ latitude: '30.27', longitude: 'east' })).toEqual({ longitude: { key: 'c360.longitudeRange' } })
    expect(locationBody({ latitude: ' 30.274085 ', longitude: '120.15507' })).toEqual({ latitude: 30.274085, longitude: 120.15507 })
    expect(locationBody({ latitude: '', longitude: '' })).toEqual({ latitude: null, longitude: null })
  })
})

describe('the tier editor', () => {
  it('needs a value to set and a reason either way', () => {
    expect(checkManual('set', null, '')).toEqual({ value: { key: 'validation.required' }, reason: { key: 'c360.reasonRequired' } })
    expect(checkManual('clear', null, '重新评估')).toEqual({})
    expect(checkManual('set', 'vip', '年采购额超百万')).toEqual({})
  })
})
