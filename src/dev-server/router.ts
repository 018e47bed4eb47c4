/** Route table: path patterns with `:param` segments, matched in order. */
import type { Route } from './types';

interface Compiled {
  route: Route;
  segments: string[];
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

export class Router {
  private compiled: Compiled[] = [];

  constructor(routes: readonly Route[] = []) {
    for (const r of routes) this.add(r);
  }

  /** Add a route; one with the same name is replaced (so callers can override a default route). */
  add(route: Route): void {
    const entry = { route, segments: split(route.path) };
    const i = this.compiled.findIndex((c) => c.route.name === route.name);
    if (i >= 0) this.compiled[i] = entry;
    else this.compiled.push(entry);
  }

  routes(): Route[] {
    return this.compiled.map((c) => c.route);
  }

  byName(name: string): Route | undefined {
    return this.compiled.find((c) => c.route.name === name)?.route;
  }

  /** Match a path (no query). A path that matches but with another method gives `methodNotAllowed`. */
  match(method: string, pathname: string): Match | 'methodNotAllowed' | undefined {
    const parts = split(pathname);
    let pathMatched = false;
    for (const c of this.compiled) {
      if (c.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = c.segments[i];
        if (seg.startsWith(':')) {
          try {
            params[seg.slice(1)] = decodeURIComponent(parts[i]);
          } catch {
            params[seg.slice(1)] = parts[i];
          }
        } else if (seg !== parts[i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      pathMatched = true;
      if (c.route.methods.includes(method)) return { route: c.route, params };
    }
    return pathMatched ? 'methodNotAllowed' : undefined;
  }
}
