// The console's one sign-in and one i18n instance, created once at start-up.
import { createAuth, createAppI18n } from '@keyuan/shared'

export const i18n = createAppI18n()

let whenSignedOut: () => void = () => undefined

/** The router decides where a lapsed sign-in goes (login with ?redirect). */
export function onSignedOut(handler: () => void): void {
  whenSignedOut = handler
}

export const auth = createAuth({
  language: () => i18n.global.locale.value,
  onSignedOut: () => whenSignedOut(),
})

export const api = auth.client
