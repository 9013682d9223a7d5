#!/usr/bin/env node
// heaptop's executable entry. It only settles colour before anything else
// loads: chalk (inside Ink) decides its colour level once, when first
// imported, from FORCE_COLOR, its own argv flags and the terminal, and it
// ignores NO_COLOR. Static imports are hoisted, so the real program is
// loaded with a dynamic import after the environment is set.
//
// Precedence, most explicit first: a --no-color or --color[=256|16m] flag;
// then FORCE_COLOR when set; then a non-empty NO_COLOR turns colour off;
// otherwise chalk follows the terminal (none when stdout is not a TTY).
// chalk lets FORCE_COLOR override its flags, hence the rewriting here.
const env = process.env;
const args = process.argv.slice(2);
const end = args.indexOf('--');
const flags = end === -1 ? args : args.slice(0, end);
if (flags.includes('--no-color')) {
	env['FORCE_COLOR'] = '0';
} else if (flags.some(flag => /^--color(=|$)/.test(flag))) {
	delete env['FORCE_COLOR'];
} else if (env['FORCE_COLOR'] === undefined && env['NO_COLOR']) {
	env['FORCE_COLOR'] = '0';
}

// Deprecation warnings are for developers, and would be a second line on
// stderr: grpc-js sets the TLS ServerName even to an IP address, which Node
// 20 reports (DEP0123) when heaptop speaks TLS to HOST:PORT by address.
process.noDeprecation = true;

await import('../cli/main.js');
