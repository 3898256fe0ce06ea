// Minimal flag parsing shared by the subcommands: `--flag value`, `--flag=value`, bare `--flag`
// (true), positionals in order.
export interface ParsedArgs {
  flags: Record<string, string>;
  positionals: string[];
}

export function parseArgs(argv: string[], booleans: readonly string[] = []): ParsedArgs {
  const flags: Record<string, string> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-') positionals.push(a);
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else {
        const name = a.slice(2);
        if (booleans.includes(name) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) flags[name] = 'true';
        else flags[name] = argv[++i];
      }
    } else positionals.push(a);
  }
  return { flags, positionals };
}
