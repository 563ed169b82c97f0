import type { JSX } from 'preact';
import type { Me } from './api';
import type { Route } from './router';

/** Pages that features add to the console (deliveries, risk) register here. */
export const extraNav: { path: string; label: string; admin?: boolean }[] = [];

export function extraPage(_section: string, _route: Route, _me: Me): JSX.Element | undefined {
  return undefined;
}
