// Path patterns for faults and call-log filters: an exact path, or one where a "*" segment matches
// exactly one path segment ("/api/v1/memberships/*/add_free_days"). A trailing "/**" matches the rest.

export function matchesPath(pattern: string, path: string): boolean {
  if (pattern === path) return true;
  const want = trimSlash(pattern).split("/");
  const have = trimSlash(path).split("/");
  for (let i = 0; i < want.length; i++) {
    if (want[i] === "**" && i === want.length - 1) return have.length >= i;
    if (i >= have.length) return false;
    if (want[i] !== "*" && want[i] !== have[i]) return false;
  }
  return want.length === have.length;
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}
