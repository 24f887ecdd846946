// A few DOM helpers: the app is plain TypeScript, no framework.
import { describe, type Problem } from './errors';

type Child = Node | string | null | undefined | false;
type Props = Record<string, unknown>;

/** h('button', { class: 'x', onclick: fn, 'data-testid': 'y' }, 'text') */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'class') el.className = String(v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** A problem line: the sentence, the error type and the server's words in a tooltip. */
export function problemView(p: Problem, testid = 'problem'): HTMLElement {
  return h('p', { class: 'problem', role: 'alert', 'data-testid': testid, 'data-error-type': p.type, title: p.detail ?? '' }, p.sentence);
}

/** Shows `thrown` (anything) as a problem inside `slot`, replacing what was there. */
export function showProblem(slot: HTMLElement, thrown: unknown, testid?: string): Problem {
  const p = describe(thrown);
  slot.replaceChildren(problemView(p, testid));
  return p;
}

/** Runs `fn` with `button` disabled; a failure is shown in `slot`. */
export async function busy<T>(button: HTMLButtonElement | null, slot: HTMLElement, fn: () => Promise<T>): Promise<T | undefined> {
  slot.replaceChildren();
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    showProblem(slot, e);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
