// Tier and grade as the editor shows them: the tenant's names, where the value came from, and
// the checks before a manual value is set or cleared.
import { TIERS, type Customer, type FieldMessage, type Tier } from '@keyuan/shared'
import { GRADES, type TierDimension, type TierLabels } from './api'

export interface DimensionState {
  value: string | null
  label: string
  source: 'manual' | 'automatic' | null
  automatic: string | null
  options: { value: string; label: string }[]
}

/** The tenant's name of a value, else the value itself; '' for none. */
export function labelOf(labels: TierLabels | null, dimension: TierDimension, value: string | null | undefined): string {
  if (!value) return ''
  const names = (labels?.[dimension] ?? {}) as Record<string, string>
  return names[value] || value
}

export function dimensionState(customer: Customer, labels: TierLabels | null, dimension: TierDimension): DimensionState {
  const values: readonly string[] = dimension === 'tier' ? (TIERS as readonly Tier[]) : GRADES
  const options = values.map((value) => ({ value, label: labelOf(labels, dimension, value) }))
  if (dimension === 'tier') {
    return {
      value: customer.tier,
      label: customer.tier_label || labelOf(labels, 'tier', customer.tier),
      source: customer.tier_source ?? null,
      automatic: customer.automatic_tier ?? null,
      options,
    }
  }
  return {
    value: customer.grade ?? null,
    label: customer.grade_label || labelOf(labels, 'grade', customer.grade),
    source: customer.grade_source ?? null,
    automatic: customer.automatic_grade ?? null,
    options,
  }
}

/** Setting needs a value and a reason; clearing needs a reason (both are kept in the history). */
export function checkManual(action: 'set' | 'clear', value: string | null, reason: string): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  if (action === 'set' && !value) found.value = { key: 'validation.required' }
  if (!reason.trim()) found.reason = { key: 'c360.reasonRequired' }
  else if (reason.trim().length > 200) found.reason = { key: 'validation.maxLength', values: { max: 200 } }
  return found
}
