/** Checks of configured URLs: origins as browsers send them, and a public URL without extras. */

/** `scheme://host[:port]` as an Origin header carries it (RFC 6454): nothing after the authority. */
export function isOrigin(entry: string): boolean {
  try {
    const url = new URL(entry);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === entry;
  } catch {
    return false;
  }
}

export function hasExtras(value: string): boolean {
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#');
  } catch {
    return false;
  }
}
