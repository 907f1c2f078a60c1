// Which of a customer's special requirements a product may break, before the order is sent: the
// same four rules the order service applies (crm_order/orders/checks.py). The service still
// decides; this lets a rep see the conflict while choosing, not only in the refusal.
import type { components } from '../api/schema'
import type { Product } from './api'

type Requirement = Pick<components['schemas']['SpecialRequirementOut'], 'kind' | 'label' | 'details'>

export interface RequirementWarning {
  kind: string
  /** The requirement as the tenant names it (清真, 不含猪肉 …). */
  label: string
  /** For allergens: the excluded ones the product contains. */
  allergens: string[]
}

export function requirementWarnings(requirements: readonly Requirement[], product: Product): RequirementWarning[] {
  const a = product.attributes
  const found: RequirementWarning[] = []
  for (const requirement of requirements) {
    const { kind, label } = requirement
    if (kind === 'halal' && (!a.halal || a.contains_pork)) found.push({ kind, label, allergens: [] })
    else if (kind === 'no_pork' && a.contains_pork) found.push({ kind, label, allergens: [] })
    else if (kind === 'organic' && !a.organic) found.push({ kind, label, allergens: [] })
    else if (kind === 'allergens') {
      const excluded = requirement.details.filter((d) => a.allergens.includes(d))
      if (excluded.length) found.push({ kind, label, allergens: excluded })
    }
  }
  return found
}

/** "清真、过敏原（花生）" — the warnings in one line. */
export function describeWarnings(warnings: readonly RequirementWarning[]): string {
  return warnings.map((w) => (w.allergens.length ? `${w.label}（${w.allergens.join('、')}）` : w.label)).join('、')
}
