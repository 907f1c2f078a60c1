// Imports as the gateway answers them, for the tests (typed by its OpenAPI document).
import type { CustomerImport, ImportCounts, ImportProblem } from './api'

export const counts = (over: Partial<ImportCounts> = {}): ImportCounts => ({
  rows: 0,
  customers: 0,
  created: 0,
  updated: 0,
  skipped: 0,
  rejected_rows: 0,
  problems: 0,
  contacts_added: 0,
  ...over,
})

export const anImport = (over: Partial<CustomerImport> = {}): CustomerImport => ({
  id: 'i1',
  file_name: '客户.xlsx',
  format: 'xlsx',
  size_bytes: 4096,
  sha256: 'ab',
  encoding: '',
  update_existing: true,
  status: 'checking',
  percent: 0,
  total_rows: 10,
  dry_run: counts(),
  result: counts(),
  error: '',
  actor_id: 'u1',
  created_at: '2026-12-03T10:00:00+08:00',
  checked_at: null,
  confirmed_at: null,
  finished_at: null,
  rejected_rows_url: null,
  ...over,
})

export const aProblem = (over: Partial<ImportProblem> = {}): ImportProblem => ({
  row: 2,
  column: '联系人手机',
  reason: '手机号须为11位 / mobile must have 11 digits',
  code: 'invalid',
  severity: 'error',
  existing_customer_id: null,
  existing_customer_name: null,
  existing_visible: false,
  ...over,
})
