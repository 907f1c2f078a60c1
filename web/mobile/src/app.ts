// The H5's one sign-in and one i18n instance (the same shared pieces as the console).
import { createAuth, createAppI18n } from '@keyuan/shared'

export const i18n = createAppI18n()

let whenSignedOut: () => void = () => undefined

export function onSignedOut(handler: () => void): void {
  whenSignedOut = handler
}

export const auth = createAuth({
  language: () => i18n.global.locale.value,
  onSignedOut: () => whenSignedOut(),
})

export const api = auth.client
