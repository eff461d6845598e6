/**
 * A few DOM helpers. Text goes in as text nodes, never as HTML, so nothing a
 * server or a user sends can become markup (the page's CSP also demands
 * Trusted Types for any HTML sink, which this code never uses).
 */

type Child = Node | string | false | null | undefined;
type Props = Record<string, string | boolean | ((ev: Event) => void)>;

/** An element with attributes (`on…` functions become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else if (value !== false) el.setAttribute(name, value);
  }
  el.append(...children.filter((c): c is Node | string => c !== false && c !== null && c !== undefined));
  return el;
}

/** The element with this id, of this type; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, type: abstract new () => T = HTMLElement as never): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`index.html has no #${id} of the expected kind`);
  return el;
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== false && c !== null && c !== undefined));
}

/** Disables a button while `work` runs, so an action is not sent twice. */
export async function busy<T>(button: HTMLButtonElement | null, work: () => Promise<T>): Promise<T> {
  if (button) button.disabled = true;
  try {
    return await work();
  } finally {
    if (button) button.disabled = false;
  }
}
