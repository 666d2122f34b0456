import { isApiProblem } from './lib/miniback-sdk/index';

/** A message for the user from any failure of an API call. */
export function messageOf(e: unknown): string {
  if (isApiProblem(e)) {
    if (e.code === 'network_error') return '网络不可用，请稍后再试';
    return e.detail || e.title;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Field errors of a failed call, keyed by field name without its `body.` prefix. */
export function fieldErrorsOf(e: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isApiProblem(e)) {
    for (const f of e.errors) out[f.field.replace(/^body\./, '')] = f.message;
  }
  return out;
}

export function toastError(e: unknown): void {
  void wx.showToast({ title: messageOf(e).slice(0, 30), icon: 'none' });
}
