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

/**
 * Whether the arguments ask for a command's help (`--help` or `-h` anywhere): checked before
 * anything else, so `lsr serve --help` prints the flags instead of starting a server.
 */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** The flags of every command that reaches the API (index, search, collections), for their help. */
export const CLIENT_FLAGS_HELP = `  --data-dir <dir>      data folder opened in-process (default ./data, env LSR_DATA_DIR)
  --server <url>        talk to a running service instead (env LSR_SERVER)
  --api-key <key>       API key sent to --server (env LSR_API_KEY)
  --log-level <level>   log level of the in-process service (default warn)
  -h, --help            this help
`;
