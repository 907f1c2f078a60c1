// How a person reads in a choice of people: name · role · org unit.
import type { User } from '@keyuan/shared'

export const personLabel = (user: User, t: (key: string) => string) =>
  `${user.display_name} · ${t(`roles.${user.role}`)} · ${user.org_unit_name}`
